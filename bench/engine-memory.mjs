// Engine operations per second over the in-memory store, on one core: the whole path of a call
// (input validation, load, pure transition, compare-and-set, in-process emit), awaited one at a
// time and then with 64 calls in flight. The clock is the real one: under a frozen clock every id
// falls in one millisecond, where id order is random, so the store's sorted id index would pay an
// O(n) splice per insert; a moving clock keeps each splice within the current millisecond's ids.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { formatCount, measureAsync, report } from "./measure.mjs";

const GOAL = 100_000;
const CONCURRENCY = 64;
const ORG = "org_bench";
/** Records each operation cycles over; a multiple of CONCURRENCY, so lanes never share one. */
const POOL = 4_096;

const engine = createEngine({ store: new MemoryStore() });
const form = await engine.forms.create(ORG, {
  name: "Contact",
  slug: "contact",
  fields: [
    { name: "email", label: "Email", type: "email", required: true },
    { name: "name", label: "Name", type: "text", required: true },
    { name: "plan", label: "Plan", type: "select", options: ["free", "pro", "team"] },
  ],
});
const agent = await engine.agents.create(ORG, { name: "support", capabilities: [{ ref: "web-search" }], modelId: "gpt-4o-mini" });

async function pool(create) {
  const ids = [];
  for (let i = 0; i < POOL; i++) ids.push((await create()).id);
  return ids;
}
const formSessionIds = await pool(() => engine.formSessions.create(ORG, form.id, {}));
const workflowIds = await pool(() => engine.workflows.create(ORG, { name: "signup" }));
const threadIds = await pool(() => engine.threads.create(ORG, { contextVariables: { USER_NAME: "Ada", PLAN: "free" } }));
const agentSessionIds = await pool(() => engine.agentSessions.create(ORG, { agentId: agent.id }));

/** Active workflows for `complete`, which a workflow accepts once; refilled before each measurement. */
let activeWorkflows = [];
async function refillActiveWorkflows(count) {
  activeWorkflows = [];
  for (let i = 0; i < count; i++) activeWorkflows.push((await engine.workflows.create(ORG, { name: "to-complete" })).id);
}
const COMPLETE_POOL = 120_000;

const USER = { role: "user", content: "What is the status of order 1234?" };
const ASSISTANT = { role: "assistant", content: "Order 1234 shipped yesterday.", usage: { input_tokens: 42, output_tokens: 9 } };
const CONTEXT = Array.from({ length: 64 }, (_, i) => ({ contextVariables: { PLAN: "pro", SEATS: i } }));
const EXTEND = { expiresIn: 60 };
const turnActive = new Array(POOL).fill(false);

const operations = [
  { group: "create", name: "workflows.create", run: () => engine.workflows.create(ORG, { name: "signup" }) },
  { group: "create", name: "formSessions.create", run: () => engine.formSessions.create(ORG, form.id, {}) },
  { group: "read", name: "formSessions.get", run: (i) => engine.formSessions.get(ORG, formSessionIds[i % POOL]) },
  { group: "read", name: "workflows.get", run: (i) => engine.workflows.get(ORG, workflowIds[i % POOL]) },
  { group: "read", name: "threads.get", run: (i) => engine.threads.get(ORG, threadIds[i % POOL]) },
  { group: "transition", name: "formSessions.extend", run: (i) => engine.formSessions.extend(ORG, formSessionIds[i % POOL], EXTEND) },
  {
    group: "transition",
    name: "workflows.complete",
    prepare: () => refillActiveWorkflows(COMPLETE_POOL),
    maxOperations: COMPLETE_POOL - 4 * CONCURRENCY,
    run: (i) => engine.workflows.complete(ORG, activeWorkflows[i]),
  },
  { group: "transition", name: "threads.updateContext", run: (i) => engine.threads.updateContext(ORG, threadIds[i % POOL], CONTEXT[i & 63]) },
  {
    group: "transition",
    name: "agentSessions.postMessage (user/assistant)",
    // Each session alternates user and assistant messages; only one lane ever touches a session.
    run: async (i) => {
      const index = i % POOL;
      await engine.agentSessions.postMessage(ORG, agentSessionIds[index], turnActive[index] ? ASSISTANT : USER);
      turnActive[index] = !turnActive[index];
    },
  },
];

const modes = [
  { name: "sequential", concurrency: 1 },
  { name: `${CONCURRENCY} in flight`, concurrency: CONCURRENCY },
];

console.log(`engine over MemoryStore, one core (0.2 s warm-up, 0.8 s timed each; ${formatCount(POOL)} records per kind cycled)`);
const results = [];
for (const mode of modes) {
  console.log(`  ${mode.name}`);
  for (const operation of operations) {
    if (process.env.BENCH_ONLY && !operation.name.startsWith(process.env.BENCH_ONLY)) continue;
    if (operation.prepare) await operation.prepare();
    const result = await measureAsync(operation.run, {
      concurrency: mode.concurrency,
      ...(operation.maxOperations ? { maxOperations: operation.maxOperations } : {}),
    });
    results.push({ mode: mode.name, ...operation, ...result });
    console.log(
      `    ${operation.group.padEnd(10)} ${operation.name.padEnd(42)} ${formatCount(result.perSecond).padStart(9)} ops/s` +
        `   (${formatCount(result.operations)} ops in ${result.seconds.toFixed(2)} s; goal ≥ ${formatCount(GOAL)} ops/s)`,
    );
  }
}

const rows = [];
for (const mode of modes) {
  for (const group of ["create", "read", "transition"]) {
    const measured = results.filter((result) => result.mode === mode.name && result.group === group);
    if (measured.length === 0) continue; // left out by BENCH_ONLY
    const slowest = measured.reduce((a, b) => (b.perSecond < a.perSecond ? b : a));
    rows.push({
      benchmark: `engine + MemoryStore ${group}, ${mode.name} (slowest: ${slowest.name})`,
      figure: `${formatCount(slowest.perSecond)} ops/s`,
      goal: `≥ ${formatCount(GOAL)} ops/s`,
      met: slowest.perSecond >= GOAL,
    });
  }
}
report(rows);
