// Resident memory of 1,000,000 form sessions in the in-memory store, each created through the
// engine (`engine.formSessions.create`: validation, machine, events, store insert), exactly as an
// application would. RSS and heapUsed are read after a full garbage collection.
import { getHeapStatistics } from "node:v8";
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { collectGarbage, formatCount, formatMb, report } from "./measure.mjs";

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
const GOAL_BYTES = 1.5 * 2 ** 30;
const ORG = "org_bench";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc: RSS is read after a full collection");

const store = new MemoryStore();
const engine = createEngine({ store });
const form = await engine.forms.create(ORG, {
  name: "Contact",
  slug: "contact",
  fields: [
    { name: "email", label: "Email", type: "email", required: true },
    { name: "name", label: "Name", type: "text", required: true },
    { name: "plan", label: "Plan", type: "select", options: ["free", "pro", "team"] },
  ],
});

collectGarbage();
const before = process.memoryUsage();
const limit = getHeapStatistics().heap_size_limit;
console.log(`memory store holding ${formatCount(SESSIONS)} form sessions, created through engine.formSessions.create`);
console.log(`  V8 heap limit ${formatMb(limit)} (${process.execArgv.join(" ") || "no flags"})`);
console.log(`  before: rss ${formatMb(before.rss)}, heapUsed ${formatMb(before.heapUsed)}`);

const started = performance.now();
for (let i = 0; i < SESSIONS; i++) await engine.formSessions.create(ORG, form.id, {});
const seconds = (performance.now() - started) / 1000;
if (store.size !== SESSIONS + 1) throw new Error(`the store holds ${store.size} records, expected ${SESSIONS + 1}`);

collectGarbage();
const after = process.memoryUsage();
const sample = await store.get(ORG, (await engine.formSessions.list(ORG, { limit: 1 })).data[0].id);
const [event] = await store.timeline(ORG, sample.id);
const rssPerSession = (after.rss - before.rss) / SESSIONS;
const heapPerSession = (after.heapUsed - before.heapUsed) / SESSIONS;

console.log(`  created in ${seconds.toFixed(1)} s (${formatCount(SESSIONS / seconds)} creates/s, sequential awaits)`);
console.log(
  `  after:  rss ${formatMb(after.rss)}, heapTotal ${formatMb(after.heapTotal)}, heapUsed ${formatMb(after.heapUsed)}, external ${formatMb(after.external)}`,
);
console.log(`  per session: ${formatCount(rssPerSession)} B of RSS, ${formatCount(heapPerSession)} B of heap`);
console.log(`  one session stores ${JSON.stringify(sample.data).length} chars of state JSON and ${JSON.stringify(event).length} chars of event JSON`);
console.log(`  goal: ${formatCount(SESSIONS)} sessions within ${formatMb(GOAL_BYTES)} RSS → ${after.rss <= GOAL_BYTES ? "met" : "missed"}`);

report([
  {
    benchmark: `MemoryStore, ${formatCount(SESSIONS)} form sessions (via engine), after gc`,
    figure: `${formatMb(after.rss)} RSS, ${formatMb(after.heapUsed)} heap (${formatCount(rssPerSession)} B/session)`,
    goal: `≤ ${formatMb(GOAL_BYTES)} RSS`,
    met: after.rss <= GOAL_BYTES,
  },
]);
