import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64, toBase64Url } from "../src/bytes.js";
import { createAesGcmCodec, createEngine, type EncryptedValue, encryptStore, isEncryptedValue, type Store } from "../src/index.js";

const bytes = (fill: number) => new Uint8Array(32).fill(fill);

describe("createAesGcmCodec", () => {
  const codec = createAesGcmCodec({ keys: [{ id: "2026-12", key: bytes(7) }] });

  it("round-trips JSON values, with a fresh IV every time", async () => {
    const value = { text: "ünïcödé ✓ 漢字 🎉 \u2028", list: [1, 2.5, null, true], nested: { deep: "x" } };
    const first = (await codec.encode(value, "record:org:a")) as EncryptedValue;
    const second = (await codec.encode(value, "record:org:a")) as EncryptedValue;
    expect(first).toMatchObject({ $enc: 1, kid: "2026-12" });
    expect(first.iv).not.toBe(second.iv);
    expect(first.ct).not.toBe(second.ct);
    expect(JSON.stringify(first)).not.toContain("ünïcödé");
    expect(await codec.decode(first, "record:org:a")).toEqual(value);
    expect(await codec.decode(await codec.encode("plain string", "c"), "c")).toBe("plain string");
  });

  it("hands back a value it did not make unchanged", async () => {
    for (const value of [{ a: 1 }, "text", 3, null, [1], { $enc: 2, kid: "x", iv: "", ct: "" }]) {
      expect(await codec.decode(value, "record:org:a")).toEqual(value);
    }
    expect(isEncryptedValue({ $enc: 1, kid: "k", iv: "i", ct: "c" })).toBe(true);
    expect(isEncryptedValue({ $enc: 1, kid: "k", iv: "i" })).toBe(false);
  });

  it("refuses a ciphertext moved to another context, or altered, as an internal error naming where", async () => {
    const sealed = (await codec.encode({ secret: 1 }, "record:org:a")) as EncryptedValue;
    await expect(codec.decode(sealed, "record:org:b")).rejects.toMatchObject({
      code: "internal",
      message: 'encryption: the value at record:org:b does not decrypt with key "2026-12": altered, or copied from elsewhere',
    });
    const flipped = sealed.ct.startsWith("A") ? `B${sealed.ct.slice(1)}` : `A${sealed.ct.slice(1)}`;
    await expect(codec.decode({ ...sealed, ct: flipped }, "record:org:a")).rejects.toMatchObject({ code: "internal" });
  });

  it("reads with every key of the ring by its id, writes with the first, and names an id it lacks", async () => {
    const old = createAesGcmCodec({ keys: [{ id: "old", key: bytes(1) }] });
    const rotated = createAesGcmCodec({
      keys: [
        { id: "new", key: toBase64(bytes(2)) },
        { id: "old", key: toBase64(bytes(1)) },
      ],
    });
    const before = await old.encode({ n: 1 }, "c");
    expect(await rotated.decode(before, "c")).toEqual({ n: 1 });
    const after = await rotated.encode({ n: 2 }, "c");
    expect(after).toMatchObject({ kid: "new" });
    await expect(old.decode(after, "c")).rejects.toMatchObject({
      code: "internal",
      message: 'encryption: the value at c was encrypted with key "new", which is not in the key ring (old)',
    });
  });

  it("refuses a key ring it cannot use, naming the entry", () => {
    const cases: [unknown, string][] = [
      [{}, "createAesGcmCodec: keys must list at least one key, the current one first"],
      [{ keys: [] }, "createAesGcmCodec: keys must list at least one key, the current one first"],
      [{ keys: [{ id: "has space", key: bytes(1) }] }, "createAesGcmCodec: keys[0].id: must be 1 to 64 of A-Z a-z 0-9 _ . -"],
      [
        {
          keys: [
            { id: "a", key: bytes(1) },
            { id: "a", key: bytes(2) },
          ],
        },
        'createAesGcmCodec: keys[1].id: "a" is in the ring twice',
      ],
      [{ keys: [{ id: "a", key: new Uint8Array(16) }] }, "createAesGcmCodec: keys[0].key: must be 32 bytes (AES-256), not 16"],
      [{ keys: [{ id: "a", key: "not base64!" }] }, "createAesGcmCodec: keys[0].key: is not standard base64"],
      [{ keys: [{ id: "a", key: toBase64(new Uint8Array(31)) }] }, "createAesGcmCodec: keys[0].key: must be 32 bytes (AES-256), not 31"],
      [{ keys: [{ id: "a", key: 42 }] }, "createAesGcmCodec: keys[0].key: must be 32 bytes (a Uint8Array) or their base64"],
    ];
    for (const [options, message] of cases) {
      expect(() => createAesGcmCodec(options as Parameters<typeof createAesGcmCodec>[0]), message).toThrow(message);
    }
  });
});

describe("URL-safe base64", () => {
  it("spells bytes of every length as btoa does, URL-safe and unpadded, and reads them back", () => {
    for (let length = 0; length < 100; length++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(length));
      const text = toBase64Url(bytes);
      expect(text).toBe(toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
      expect(fromBase64Url(text)).toEqual(bytes);
    }
  });

  it("refuses text that is not URL-safe base64", () => {
    expect(() => fromBase64Url("ab+c")).toThrow("a character outside its alphabet");
    expect(() => fromBase64Url("abcd=")).toThrow("its length fits no bytes");
    expect(() => fromBase64Url("éa")).toThrow("a character outside its alphabet");
  });
});

describe("encryptStore", () => {
  it("keeps the store's own methods beyond the contract and its capabilities", async () => {
    const inner = Object.assign(new MemoryStore(), { compactCalls: 0 }) as MemoryStore & { compactCalls: number; compact(): number };
    inner.compact = function (this: typeof inner) {
      return ++this.compactCalls;
    };
    const wrapped = encryptStore(inner, createAesGcmCodec({ keys: [{ id: "k", key: bytes(3) }] })) as Store & { compact(): number };
    expect(wrapped.capabilities).toBe(inner.capabilities);
    expect(wrapped.compact()).toBe(1);
    expect(inner.compactCalls).toBe(1);
    expect(typeof wrapped.getUnscoped).toBe("function");
  });

  it("is what createEngine({ codec }) writes through, and a codec without encode and decode is refused", async () => {
    const store = new MemoryStore();
    const engine = createEngine({ store, codec: createAesGcmCodec({ keys: [{ id: "k", key: bytes(4) }] }) });
    const thread = await engine.threads.create("org_1", { contextVariables: { PLAN: "pro" }, metadata: { note: "private" } });
    expect(isEncryptedValue((await store.get("org_1", thread.id))?.data)).toBe(true);
    expect(await engine.threads.get("org_1", thread.id)).toEqual(thread);
    expect(() => createEngine({ store, codec: {} as never })).toThrow("createEngine: codec must have encode and decode functions");
  });
});
