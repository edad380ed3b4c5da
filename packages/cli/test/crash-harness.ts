// What the crash tests drive `serve` with: instances on a fixed port that can be SIGKILLed and
// started again on the same store, a webhook receiver in the test process, calls that say whether
// a write was acknowledged, and bounded polls.
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
  close(): Promise<void>;
}

/**
 * Starts a webhook receiver on a free loopback port. It notes each request as it arrives and
 * answers it `answerAfterMs` later: a receiver that takes its time keeps deliveries in flight.
 */
export async function startReceiver(answerAfterMs = 0): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((request, response) => {
    let text = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    request.on("end", () => {
      const arrivedAt = Date.now();
      const body = JSON.parse(text) as { type: string; timestamp: string; data: Record<string, unknown> };
      deliveries.push({ id: String(request.headers["webhook-id"]), type: body.type, timestamp: body.timestamp, data: body.data, arrivedAt });
      setTimeout(() => response.writeHead(204).end(), answerAfterMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
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
