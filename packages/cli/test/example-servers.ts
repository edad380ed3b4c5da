// What the end-to-end tests of the example servers share: finding the runtimes and hosts they start
// (npm packages that ship a binary), and the checks each server gets.
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { runSmoke, type SmokeResult } from "../../../examples/smoke/smoke.mjs";

/** The directory of an installed package, resolved from `from` (a directory with a package.json). */
export function packageDir(name: string, from: string): string | null {
  try {
    return dirname(createRequire(join(from, "package.json")).resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** The first candidate that is a real executable (not the few-hundred-byte stub a skipped postinstall leaves). */
export function firstBinary(candidates: (string | null)[]): string | null {
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate) && statSync(candidate).size > 1_000_000) return candidate;
  }
  return null;
}

/** Runs the smoke test against `baseUrl`, prints what passed under `title`, and gives its result and time. */
export async function smokeAndLog(title: string, baseUrl: string, key: string): Promise<{ result: SmokeResult; ms: number }> {
  const began = Date.now();
  const lines: string[] = [];
  const result = await runSmoke({ baseUrl, key, log: (line) => lines.push(line) });
  const ms = Date.now() - began;
  console.log(`${title}:\n${lines.map((line) => `  ok ${line}`).join("\n")}`);
  return { result, ms };
}

/**
 * Sends requests with a wrong key from this address until the per-address limit answers 429, 21
 * at most (the limit is 20 failures, some of which the smoke test may have spent already); the
 * last status.
 */
export async function statusAfterFailedKeys(baseUrl: string): Promise<number> {
  let status = 0;
  for (let sent = 0; sent < 21 && status !== 429; sent++) {
    status = (await fetch(`${baseUrl}/v1/forms`, { headers: { authorization: "Bearer wrong" } })).status;
  }
  return status;
}
