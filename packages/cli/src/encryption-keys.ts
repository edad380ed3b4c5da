import { readFileSync } from "node:fs";
import { createAesGcmCodec, type EncryptionKey } from "@agent-sessions/core";
import { UsageError } from "./errors.js";

/** The environment variable naming the key file, as `--encryption-key-file` does. */
export const ENCRYPTION_KEY_FILE_ENV = "AGENT_SESSIONS_ENCRYPTION_KEY_FILE";

/** How the key file is written, for the help and the errors. */
export const KEY_FILE_FORMAT = "one key a line, <id>:<base64 of 32 random bytes>, the current key first";

/**
 * Reads the key ring of `--encryption-key-file`: one key a line as `<id>:<base64 of 32 bytes>`,
 * the current key (the one that encrypts) first, older ones after it (still read); blank lines
 * and lines starting with `#` are skipped. A mistake names the file, the line and the rule, never
 * a key.
 */
export function readEncryptionKeyFile(path: string, source: string): EncryptionKey[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`${source}: cannot read ${path}${typeof code === "string" ? ` (${code})` : ""}`);
  }
  return parseEncryptionKeys(text, `${source} ${path}`);
}

/** The key ring in a key file's text (see `readEncryptionKeyFile`); `where` names the file in errors. */
export function parseEncryptionKeys(text: string, where: string): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  const lines = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const at = `${where} line ${index + 1}`;
    const colon = line.indexOf(":");
    if (colon < 0) throw new UsageError(`${at}: expected ${KEY_FILE_FORMAT}`);
    const key = { id: line.slice(0, colon).trim(), key: line.slice(colon + 1).trim() };
    try {
      createAesGcmCodec({ keys: [key] }); // the one home of the rules of an id and a key
    } catch (error) {
      throw new UsageError(`${at}: ${(error as Error).message.replace(/^createAesGcmCodec: keys\[0\]\./, "")}`);
    }
    const first = lines.get(key.id);
    if (first !== undefined) throw new UsageError(`${at}: key id "${key.id}" is already on line ${first}; each id names one key`);
    lines.set(key.id, index + 1);
    keys.push(key);
  });
  if (keys.length === 0) throw new UsageError(`${where}: holds no key; write ${KEY_FILE_FORMAT}`);
  return keys;
}
