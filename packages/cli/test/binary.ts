// The real `agent-sessions` binary, spawned as a user runs it. Unless a test names a store, the
// binary runs on the memory store, so no test leaves a database file behind.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll } from "vitest";
import { type Started, start, stop, waitForOutput } from "./processes.js";

export const bin = fileURLToPath(new URL("../bin/agent-sessions.js", import.meta.url));
const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const running: Started[] = [];

beforeAll(() => {
  if (!existsSync(dist)) throw new Error("packages/cli/dist is missing: run `pnpm build` first (the binary runs the built code)");
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((started) => stop(started, "SIGKILL")));
});

type Env = Record<string, string | undefined>;

/** Spawns the binary with none of the caller's agent-sessions settings, and stops it after the test. */
function spawnBinary(args: string[], env: Env, cwd: string | undefined): Started {
  const started = start(process.execPath, [bin, ...args], {
    cwd,
    env: { AGENT_SESSIONS_API_KEYS: undefined, PORT: undefined, AGENT_SESSIONS_STORE: "memory", ...env },
  });
  running.push(started);
  return started;
}

/** Runs the binary to completion (for commands that exit by themselves). */
export async function run(args: string[], env: Env = {}, options: { cwd?: string } = {}) {
  const started = spawnBinary(args, env, options.cwd);
  const code = await started.exited;
  return { code, ...started.output() };
}

/** Starts `serve` and waits for its banner; returns the URL and the printed development key, if any. */
export async function serve(args: string[], env: Env = {}, options: { cwd?: string } = {}) {
  const started = spawnBinary(["serve", ...args], env, options.cwd);
  const banner = await waitForOutput(started, (stdout) => stdout.includes("Press Ctrl-C to stop."));
  const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1];
  if (!url) throw new Error(`no URL in the banner:\n${banner}`);
  return { started, banner, url, devKey: /\b(dev_[0-9a-f]{32})\b/.exec(banner)?.[1] };
}
