// `serve --encryption-key-file`: the key file's format and mistakes, and a real server whose
// SQLite files hold none of what was written.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseEncryptionKeys } from "../src/encryption-keys.js";
import { parseServeArgs, UsageError } from "../src/options.js";
import { run, serve } from "./binary.js";
import { stop } from "./processes.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "agent-sessions-encryption-"));
  dirs.push(dir);
  return dir;
}
const newKey = () => randomBytes(32).toString("base64");
/** Writes a key file in a fresh directory and returns its path. */
function keyFile(text: string, dir = tempDir()): string {
  const path = join(dir, "keys.txt");
  writeFileSync(path, text);
  return path;
}

describe("the key file", () => {
  it("reads one key a line, the current one first, skipping blank lines and comments", () => {
    const [k1, k2] = [newKey(), newKey()];
    const path = keyFile(`# rotated 2026-12\n2026-12:${k2}\r\n\n  2026-06 : ${k1}  \n`);
    const parsed = parseServeArgs(["--encryption-key-file", path], {});
    expect(!parsed.help && parsed.options.encryptionKeys).toEqual([
      { id: "2026-12", key: k2 },
      { id: "2026-06", key: k1 },
    ]);
  });

  it("is named by AGENT_SESSIONS_ENCRYPTION_KEY_FILE when the flag is not given; the flag wins", () => {
    const fromEnv = keyFile(`env:${newKey()}\n`);
    const fromFlag = keyFile(`flag:${newKey()}\n`);
    const env = { AGENT_SESSIONS_ENCRYPTION_KEY_FILE: fromEnv };
    const ids = (args: string[]) => {
      const parsed = parseServeArgs(args, env);
      return parsed.help ? null : parsed.options.encryptionKeys?.map((key) => key.id);
    };
    expect(ids([])).toEqual(["env"]);
    expect(ids(["--encryption-key-file", fromFlag])).toEqual(["flag"]);
    const none = parseServeArgs([], {});
    expect(!none.help && none.options.encryptionKeys).toBeUndefined();
  });

  it("refuses a file it cannot use, naming the line and the rule and never a key", () => {
    const key = newKey();
    const cases: [string, string][] = [
      [`k1 ${key}`, "keys.txt line 1: expected one key a line, <id>:<base64 of 32 random bytes>, the current key first"],
      [`k1:${key}\nk1:${newKey()}`, 'keys.txt line 2: key id "k1" is already on line 1; each id names one key'],
      [`k1:${randomBytes(16).toString("base64")}`, "keys.txt line 1: key: must be 32 bytes (AES-256), not 16"],
      ["k1:not*base64", "keys.txt line 1: key: is not standard base64"],
      [`bad id:${key}`, "keys.txt line 1: id: must be 1 to 64 of A-Z a-z 0-9 _ . -"],
      ["# only a comment\n\n", "keys.txt: holds no key; write one key a line, <id>:<base64 of 32 random bytes>, the current key first"],
    ];
    for (const [text, message] of cases) {
      let thrown: unknown;
      try {
        parseEncryptionKeys(text, "keys.txt");
      } catch (error) {
        thrown = error;
      }
      expect(thrown, message).toBeInstanceOf(UsageError);
      expect((thrown as Error).message).toBe(message);
      expect((thrown as Error).message).not.toContain(key);
    }
    const missing = join(tempDir(), "absent.txt");
    expect(() => parseServeArgs(["--encryption-key-file", missing], {})).toThrow(`--encryption-key-file: cannot read ${missing} (ENOENT)`);
  });

  it("stops serve with a usage error before it opens the store", async () => {
    const dir = tempDir();
    const result = await run(["serve", "--encryption-key-file", keyFile("k1:c2hvcnQ=\n", dir), "--store", `sqlite:${join(dir, "never.db")}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("line 1: key: must be 32 bytes (AES-256), not 5 (see 'agent-sessions serve --help')");
    expect(existsSync(join(dir, "never.db"))).toBe(false);
  });
});

describe("serve --encryption-key-file", () => {
  it("keeps what was written out of the database files, reads it back after a rotation, and never prints a key", async () => {
    const dir = tempDir();
    const database = join(dir, "sessions.db");
    const [k1, k2] = [newKey(), newKey()];
    const marker = `plaintext-${randomBytes(6).toString("hex")}`;
    const auth = { authorization: "Bearer key-1", "content-type": "application/json" };
    const args = (keys: string) => [
      "--port",
      "0",
      "--api-key",
      "org1:key-1",
      "--store",
      `sqlite:${database}`,
      "--encryption-key-file",
      keyFile(keys, dir),
    ];

    const first = await serve(args(`k1:${k1}\n`));
    expect(first.banner).toContain("Encryption at rest: on, with key k1");
    expect(first.banner).not.toContain(k1);
    // With an Idempotency-Key, the response (which echoes the metadata) is stored too.
    const created = await fetch(`${first.url}/api/v1/sessions`, {
      method: "POST",
      headers: { ...auth, "idempotency-key": "create-signup" },
      body: JSON.stringify({ name: "signup", metadata: { note: marker } }),
    });
    expect(created.status).toBe(201);
    const session = (await created.json()) as { id: string; metadata: unknown };
    expect(session.metadata).toEqual({ note: marker });
    await stop(first.started);
    const files = [database, `${database}-wal`].filter((file) => existsSync(file));
    const raw = files.map((file) => readFileSync(file).toString("latin1")).join("");
    expect(raw).toContain(session.id);
    expect(raw).not.toContain(marker);

    const rotated = await serve(args(`k2:${k2}\nk1:${k1}\n`));
    expect(rotated.banner).toContain("Encryption at rest: on, with key k2 (and 1 older for reading)");
    const read = await fetch(`${rotated.url}/api/v1/sessions/${session.id}`, { headers: auth });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { metadata: unknown }).metadata).toEqual({ note: marker });
    await stop(rotated.started);

    // Without the key that encrypted it, the record is unreadable: a 500 that tells nothing of it.
    const lost = await serve(args(`k3:${newKey()}\n`));
    const refused = await fetch(`${lost.url}/api/v1/sessions/${session.id}`, { headers: auth });
    expect(refused.status).toBe(500);
    expect(await refused.text()).not.toContain("k1");
    // The operator's log line says why, naming the key's id (and never a key).
    const logged = lost.started
      .output()
      .stderr.split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: string; message?: string });
    expect(logged.find((line) => line.level === "error")?.message).toContain('key "k1", which is not in the key ring (k3)');
  });
});
