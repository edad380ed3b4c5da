// Webhooks over the in-memory store: 10,000 form sessions that expire at one moment, one engine
// running its worker, one local node:http receiver on 127.0.0.1. Measures the delay from the
// deadline to each session.expired webhook's arrival (p50, p99) and the events delivered per
// second from the deadline to the last arrival. Every delivery is signed, logged in the
// endpoint's delivery log and settled in the outbox, as in production.
import { fork } from "node:child_process";
import { createServer } from "node:http";
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { formatCount, report } from "./measure.mjs";

// The receiver runs in a process of its own, as a real one would: it must not share our core.
if (process.argv[2] === "--receiver") {
  const arrivals = {};
  const server = createServer((request, response) => {
    const id = request.headers["webhook-id"];
    request.resume();
    request.on("end", () => {
      arrivals[id] ??= Date.now();
      response.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
  process.on("message", () => {
    process.send({ arrivals }, () => process.exit(0));
  });
} else {
  await main();
}

async function main() {
  const SESSIONS = Number(process.env.BENCH_WEBHOOK_SESSIONS ?? 10_000);
  const ORG = "org_bench";
  /** How often the worker looks for due deadlines; the delay's floor is up to this much. */
  const INTERVAL_MS = 100;
  const BATCH = 200;
  const LEAD_MS = 3_000;

  const receiver = fork(new URL(import.meta.url).pathname, ["--receiver"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { port } = await new Promise((resolve) => receiver.once("message", resolve));
  const url = `http://127.0.0.1:${port}/hooks`;
  let delivered = 0;

  // Sessions are created under a frozen clock so they all share one deadline; then time runs.
  let frozen = Date.now();
  const errors = [];
  const engine = createEngine({
    store: new MemoryStore(),
    clock: () => frozen ?? Date.now(),
    webhooks: { allowPrivateAddresses: true },
    onWorkerError: (error) => errors.push(error),
  });
  engine.events.on("delivery.succeeded", () => delivered++);
  await engine.webhooks.create(ORG, { url, events: ["session.expired"] });
  await engine.forms.create(ORG, { name: "Bench", slug: "bench", fields: [{ name: "email", type: "email" }] });
  const deadline = frozen + LEAD_MS;
  for (let i = 0; i < SESSIONS; i++) await engine.formSessions.create(ORG, "bench", { expiresIn: LEAD_MS / 1000 });
  if (Date.now() >= deadline) throw new Error(`creating ${SESSIONS} sessions took longer than ${LEAD_MS} ms`);
  frozen = null;

  engine.start({ intervalMs: INTERVAL_MS, batch: BATCH });
  const giveUp = deadline + 120_000;
  while (delivered < SESSIONS && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 20));
  await engine.stop();
  receiver.send("report");
  const arrivals = new Map(Object.entries((await new Promise((resolve) => receiver.once("message", resolve))).arrivals));

  const delays = [...arrivals.values()].map((at) => at - deadline).sort((a, b) => a - b);
  const quantile = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  const p50 = quantile(0.5);
  const p99 = quantile(0.99);
  const last = delays[delays.length - 1];
  const perSecond = arrivals.size / (Math.max(last, 1) / 1000);
  console.log(
    `webhooks over MemoryStore: ${formatCount(arrivals.size)} of ${formatCount(SESSIONS)} session.expired delivered; ` +
      `deadline → arrival p50 ${p50} ms, p99 ${p99} ms, last ${last} ms; ${formatCount(perSecond)} events/s ` +
      `(worker every ${INTERVAL_MS} ms, batch ${BATCH}; ${errors.length} worker errors)`,
  );
  if (arrivals.size < SESSIONS) process.exitCode = 1;

  report([
    {
      benchmark: `webhooks: deadline → arrival p50, ${formatCount(SESSIONS)} sessions due at once (memory store, worker every ${INTERVAL_MS} ms)`,
      figure: `${p50} ms`,
      goal: "≤ 2,000 ms",
      met: p50 <= 2000,
    },
    {
      benchmark: `webhooks: deadline → arrival p99, ${formatCount(SESSIONS)} sessions due at once`,
      figure: `${p99} ms`,
      goal: "≤ 10,000 ms",
      met: p99 <= 10_000,
    },
    {
      benchmark: "webhooks: events delivered per second (signed, logged, one local receiver)",
      figure: `${formatCount(perSecond)} events/s`,
      goal: "≥ 1,000 events/s",
      met: perSecond >= 1000,
    },
  ]);
}
