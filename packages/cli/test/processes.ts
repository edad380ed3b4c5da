// Starting, watching and stopping real server processes for the CLI and runtime tests.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A spawned process with everything it printed so far. */
export interface Started {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
}

/** Spawns a command with pipes for its output; the caller stops it. */
export function start(command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Started {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, NO_COLOR: "1", ...options.env })) {
    if (value !== undefined) env[name] = value; // undefined removes an inherited variable
  }
  const child = spawn(command, args, {
    cwd: options.cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    child.on("error", (error) => {
      stderr += String(error);
      resolve("spawn error");
    });
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Waits until `ready(stdout)` holds, failing with the output when the process exits first or time is up. */
export async function waitForOutput(started: Started, ready: (stdout: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | string | undefined;
  void started.exited.then((code) => (exit = code));
  while (!ready(started.output().stdout)) {
    if (exit !== undefined || Date.now() > deadline) {
      const { stdout, stderr } = started.output();
      throw new Error(`${exit === undefined ? "timed out" : `exited (${exit})`} before it was ready\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return started.output().stdout;
}

/** Waits until an HTTP server answers at `url` (any status), failing with the process's output if it never does. */
export async function waitForHttp(started: Started, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | string | undefined;
  void started.exited.then((code) => (exit = code));
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      if (exit !== undefined || Date.now() > deadline) {
        const { stdout, stderr } = started.output();
        throw new Error(`${exit === undefined ? "no answer" : `exited (${exit})`} at ${url}\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Sends `signal` and resolves with the exit code and how long the exit took; SIGKILLs after `timeoutMs`. */
export async function stop(started: Started, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 5000): Promise<{ code: number | string; ms: number }> {
  const began = Date.now();
  if (started.child.exitCode !== null || started.child.signalCode !== null) return { code: await started.exited, ms: 0 };
  started.child.kill(signal);
  const timer = setTimeout(() => started.child.kill("SIGKILL"), timeoutMs);
  const code = await started.exited;
  clearTimeout(timer);
  return { code, ms: Date.now() - began };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
