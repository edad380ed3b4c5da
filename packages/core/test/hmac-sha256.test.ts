// The plain-JavaScript HMAC-SHA256 that signs webhooks, against Web Crypto's, over generated keys
// and messages of every length around the block and padding boundaries.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hmacKey, hmacSha256, sha256 } from "../src/webhooks/hmac-sha256.js";

const subtle = globalThis.crypto.subtle;

async function reference(key: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const imported = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", imported, message));
}

const bytes = (length: number, seed: number): Uint8Array<ArrayBuffer> => Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17) & 0xff);

describe("hmacSha256", () => {
  it("matches RFC 4231 test case 2", () => {
    const key = hmacKey(new TextEncoder().encode("Jefe"));
    const mac = hmacSha256(key, new TextEncoder().encode("what do ya want for nothing?"));
    expect(Buffer.from(mac).toString("hex")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("matches Web Crypto at every length around the block and padding boundaries", async () => {
    const key = bytes(32, 1);
    for (let length = 0; length <= 200; length++) {
      const message = bytes(length, length);
      expect(hmacSha256(hmacKey(key), message), `message of ${length} bytes`).toEqual(await reference(key, message));
      expect(sha256(message), `sha256 of ${length} bytes`).toEqual(new Uint8Array(await subtle.digest("SHA-256", message)));
    }
  });

  it("matches Web Crypto for generated keys (longer than a block too) and messages", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 150 }), fc.uint8Array({ maxLength: 2000 }), async (key, message) => {
        const ownKey = new Uint8Array(key);
        const ownMessage = new Uint8Array(message);
        expect(hmacSha256(hmacKey(ownKey), ownMessage)).toEqual(await reference(ownKey, ownMessage));
      }),
      { numRuns: 300 },
    );
  });

  it("gives the same answer when one prepared key signs many messages", () => {
    const key = hmacKey(bytes(32, 9));
    const first = hmacSha256(key, bytes(100, 3));
    hmacSha256(key, bytes(500, 4));
    expect(hmacSha256(key, bytes(100, 3))).toEqual(first);
  });
});
