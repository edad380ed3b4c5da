// What the crash tests drive `serve` with: instances on a fixed port that can be SIGKILLed and
// started again on the same store, a webhook receiver in the test process, calls that say whether
// a write was acknowledged, and bounded polls.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bin } from "./binary.js";
import { freePort, type Started, start, stop } from "./processes.js";

/** The API key every instance accepts, for organization `org`. */
export const CRASH_KEY = "crash_key";

const HEADERS = { authorization: `Bearer ${CRASH_KEY}`, "content-type": "application/json" };

/** A `serve` process on one port and one store: started, killed and started again on both. */
export class ServeInstance {
  private current: Started | null = null;

  private constructor(
    readonly url: string,
    private readonly args: readonly string[],
  ) {}

  /** Starts `serve` on `store` on a free port and waits until it is ready. */
  static async start(store: string): Promise<ServeInstance> {
    const port = await freePort();
    const args = [
      ...["serve", "--host", "127.0.0.1", "--port", String(port), "--store", store],
      ...["--api-key", `org:${CRASH_KEY}`, "--allow-private-webhooks", "--rate-limit", "off", "--log-level", "warn"],
    ];
    const instance = new ServeInstance(`http://127.0.0.1:${port}`, args);
    await instance.restart();
    return instance;
  }

  /** Starts the process again (after a kill) and resolves once `GET /readyz` answers 200. */
  async restart(): Promise<void> {
    const started = start(process.execPath, [bin, ...this.args], {
      env: { AGENT_SESSIONS_API_KEYS: undefined, PORT: undefined, AGENT_SESSIONS_STORE: undefined },
    });
    this.current = started;
    await waitReady(this.url, started);
  }

  /** Kills the process with SIGKILL and resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.current) await stop(this.current, "SIGKILL");
  }

  /** The process id of the running process. */
  get pid(): number {
    return this.current?.child.pid ?? -1;
  }

  /** What the process printed on stderr, for a failure message. */
  stderr(): string {
    return this.current?.output().stderr ?? "";
  }
}

/** Polls `GET /readyz` until it answers 200, failing with the process's output when it exits or 30 s pass. */
async function waitReady(url: string, started: Started, timeoutMs = 30_000): Promise<void> {
  let exit: number | string | undefined;
  void started.exited.then((code) => (exit = code));
  const ready = await pollUntil(async () => {
    if (exit !== undefined) return true;
    const answer = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
    return answer?.status === 200;
  }, timeoutMs);
  if (!ready || exit !== undefined) {
    const { stdout, stderr } = started.output();
    throw new Error(`serve at ${url} ${exit === undefined ? "was not ready" : `exited (${exit})`}\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}

/** A promise and what resolves it. */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Resolves `true` as soon as `check` holds, or `false` once `timeoutMs` have passed without it. */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** An answer to a call: its status and body, or `status: null` when none came (the process died). */
export interface Answer {
  readonly status: number | null;
  readonly body: any;
}

/** Whether `answer` acknowledged the write: a 2xx status. */
export function acknowledged(answer: Answer): boolean {
  return answer.status !== null && answer.status >= 200 && answer.status < 300;
}

/** Calls the API with the crash key (JSON), or posts `form` form-encoded without it (a hosted page). */
export async function call(base: string, method: string, path: string, body?: unknown, form?: Record<string, string>): Promise<Answer> {
  const init: RequestInit = form
    ? { method, headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() }
    : { method, headers: HEADERS, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
  try {
    const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    const json = (response.headers.get("content-type") ?? "").includes("application/json");
    return { status: response.status, body: json && text !== "" ? JSON.parse(text) : text };
  } catch {
    return { status: null, body: null };
  }
}

/** Reads `path` and fails naming it unless the answer is 200. */
export async function read(base: string, path: string): Promise<any> {
  const answer = await call(base, "GET", path);
  if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Every item of a list endpoint, paged by `nextCursor` to the end, and the total the first page gave. */
export async function readAll(base: string, path: string): Promise<{ items: any[]; total: number }> {
  const items = [];
  let cursor: string | null = null;
  let total = -1;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page = await read(base, `${path}${separator}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (total < 0) total = page.pagination.total;
    items.push(...page.data);
    cursor = page.pagination.nextCursor;
  } while (cursor);
  return { items, total };
}

/** Runs `task` over `items` with at most `limit` at a time, the results in the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** One webhook request as the receiver got it. */
export interface Delivery {
  /** The `webhook-id` header: the event's id. */
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** `Date.now()` when the request arrived. */
  readonly arrivedAt: number;
}

/** An HTTP server in the test process that answers every webhook 204 and keeps what came. */
export interface WebhookReceiver {
  readonly url: string;
  readonly deliveries: readonly Delivery[];
  /** Holds the answers to the requests from now on until `release`: the senders' deliveries stay in flight. */
  hold(): void;
  /** Answers every held request, and the next ones at once. */
  release(): void;
  /** The senders' ports of the requests held now, one entry a request. */
  heldPorts(): number[];
  close(): Promise<void>;
}

/** Starts a webhook receiver on a free loopback port; it notes each request as it arrives. */
export async function startReceiver(): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  let held: { port: number; answer: () => void }[] | null = null;
  const server: Server = createServer((request, response) => {
    let text = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    request.on("end", () => {
      const arrivedAt = Date.now();
      const body = JSON.parse(text) as { type: string; timestamp: string; data: Record<string, unknown> };
      deliveries.push({ id: String(request.headers["webhook-id"]), type: body.type, timestamp: body.timestamp, data: body.data, arrivedAt });
      const answer = () => response.writeHead(204).end();
      if (held) held.push({ port: request.socket.remotePort ?? 0, answer });
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    hold() {
      held ??= [];
    },
    release() {
      const answers = held ?? [];
      held = null;
      for (const { answer } of answers) answer();
    },
    heldPorts() {
      return (held ?? []).map(({ port }) => port);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The p-th percentile (0 to 100) of `values`, by the nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Which of `pids` holds the loopback TCP connection whose local port is each of `ports`, read from
 * Linux's /proc (socket inodes by port in /proc/net/tcp*, by process in /proc/<pid>/fd); a port no
 * process of them holds, or any port off Linux, is missing from the answer.
 */
export function portOwners(pids: readonly number[], ports: readonly number[]): Map<number, number> {
  const owners = new Map<number, number>();
  try {
    const inodeOfPort = new Map<number, string>();
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields.length > 9) inodeOfPort.set(Number.parseInt(fields[1]!.split(":").at(-1)!, 16), fields[9]!);
      }
    }
    const pidOfInode = new Map<string, number>();
    for (const pid of pids) {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: "utf8" }))?.[1];
        if (inode) pidOfInode.set(inode, pid);
      }
    }
    for (const port of ports) {
      const pid = pidOfInode.get(inodeOfPort.get(port) ?? "");
      if (pid !== undefined) owners.set(port, pid);
    }
  } catch {
    // Not Linux, or a process gone meanwhile: the owners found so far.
  }
  return owners;
}
