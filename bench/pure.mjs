// Pure transitions per second on one core: each machine's `transition(state, command, now)`,
// with no store, no I/O and no clock reads. Every case applies one command to a prepared state.
import {
  agentSessionMachine,
  createAgentSession,
  createFormSession,
  createThread,
  createWorkflow,
  formSessionMachine,
  threadMachine,
  workflowMachine,
} from "@agent-sessions/core";
import { formatCount, measureSync, report } from "./measure.mjs";

const GOAL = 1_000_000;
const T0 = Date.UTC(2025, 0, 1);
const ORG = "org_bench";
const BATCH = 10_000;

const form = {
  id: "form_0193a0f0000070008000000000000001",
  orgId: ORG,
  name: "Contact",
  slug: "contact",
  fields: [
    { name: "email", label: "Email", type: "email", required: true },
    { name: "name", label: "Name", type: "text", required: true },
    { name: "plan", label: "Plan", type: "select", options: ["free", "pro", "team"] },
  ],
  allowPartial: false,
  metadata: {},
  createdAt: T0,
  updatedAt: T0,
};

/** Applies `command` to `state`, checking it is accepted: a refused transition would measure the wrong path. */
function accepted(machine, state, command, now) {
  const result = machine.transition(state, command, now);
  if (!result.ok) throw new Error(`${command.type} was refused: ${result.error.message}`);
  return result.state;
}

const created = createFormSession(form, { id: "sess_0193a0f0000070008000000000000002" }, T0).state;
const open = accepted(formSessionMachine, created, { type: "open" }, T0 + 1_000);

let workflow = createWorkflow({ id: "sess_0193a0f0000070008000000000000003", orgId: ORG, name: "signup" }, T0).state;
workflow = accepted(workflowMachine, workflow, { type: "createInbox", inboxId: "inb_1", ttlSeconds: 3600 }, T0);
workflow = accepted(workflowMachine, workflow, { type: "createWait", waitId: "wait_1", waitType: "otp", inboxId: "inb_1", timeoutSeconds: 600 }, T0);

const thread = createThread(
  { id: "thread_0193a0f0000070008000000000000004", orgId: ORG, contextVariables: { USER_NAME: "Ada", PLAN: "free" } },
  T0,
).state;

const agent = {
  id: "agent_0193a0f0000070008000000000000005",
  orgId: ORG,
  name: "support",
  capabilities: [{ ref: "web-search" }],
  modelId: "gpt-4o-mini",
  metadata: {},
  createdAt: T0,
  updatedAt: T0,
};
const agentSession = createAgentSession(agent, { id: "session_0193a0f0000070008000000000000006" }, T0).state;

const NOW = T0 + 60_000;
const cases = [
  {
    name: "formSession extend (open)",
    machine: formSessionMachine,
    state: open,
    command: () => ({ type: "extend", seconds: 60 }),
  },
  {
    name: "formSession submit (open → submitted)",
    machine: formSessionMachine,
    state: open,
    command: () => ({ type: "submit", values: { email: "ada@example.com", name: "Ada Lovelace", plan: "pro" } }),
  },
  {
    name: "workflow receiveMessage (completes an otp wait)",
    machine: workflowMachine,
    state: workflow,
    command: () => ({
      type: "receiveMessage",
      messageId: "msg_1",
      inboxId: "inb_1",
      from: "no-reply@example.com",
      subject: "Your sign-in code",
      body: "Your verification code is 482913. It expires in 10 minutes.",
    }),
  },
  { name: "workflow complete (active → completed)", machine: workflowMachine, state: workflow, command: () => ({ type: "complete" }) },
  {
    name: "thread updateContext",
    machine: threadMachine,
    state: thread,
    command: (i) => ({ type: "updateContext", variables: { PLAN: "pro", SEATS: i & 63 } }),
  },
  {
    name: "agentSession message turn (user, then assistant)",
    machine: agentSessionMachine,
    state: agentSession,
    // Odd steps answer the user message of the step before, so every transition is accepted.
    chained: true,
    command: (i) =>
      (i & 1) === 0
        ? { type: "message", role: "user", content: "What is the status of order 1234?" }
        : { type: "message", role: "assistant", content: "Order 1234 shipped yesterday.", usage: { input_tokens: 42, output_tokens: 9 } },
  },
];

console.log(`pure transitions, one core (batches of ${formatCount(BATCH)}, 0.3 s warm-up, 1.2 s timed each)`);
const rows = [];
let totalOperations = 0;
let totalSeconds = 0;
let slowest = null;
// BENCH_ONLY=<name prefix> runs one case, e.g. under --cpu-prof.
const selected = cases.filter((bench) => !process.env.BENCH_ONLY || bench.name.startsWith(process.env.BENCH_ONLY));
for (const bench of selected) {
  const { machine, state, chained } = bench;
  // Commands are built before timing so the loop measures the transition, not the command literal.
  const commands = Array.from({ length: 64 }, (_, i) => bench.command(i));
  accepted(machine, state, commands[0], NOW);
  let current = state;
  let refused = 0;
  const result = measureSync(
    () => {
      for (let i = 0; i < BATCH; i++) {
        const outcome = machine.transition(current, commands[i & 63], NOW);
        if (!outcome.ok) refused++;
        else if (chained) current = outcome.state;
      }
    },
    { batch: BATCH },
  );
  if (refused > 0) throw new Error(`${bench.name}: ${refused} transitions were refused`);
  totalOperations += result.operations;
  totalSeconds += result.seconds;
  if (!slowest || result.perSecond < slowest.perSecond) slowest = { name: bench.name, perSecond: result.perSecond };
  console.log(`  ${bench.name.padEnd(50)} ${formatCount(result.perSecond).padStart(12)} transitions/s   (goal ≥ ${formatCount(GOAL)}/s)`);
}
const overall = totalOperations / totalSeconds;
console.log(
  `  ${"overall (every case for equal time)".padEnd(50)} ${formatCount(overall).padStart(12)} transitions/s   (goal ≥ ${formatCount(GOAL)}/s)`,
);

if (!slowest) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY} matches no case`);
rows.push(
  { benchmark: "pure transitions, one core: overall", figure: `${formatCount(overall)} /s`, goal: `≥ ${formatCount(GOAL)} /s`, met: overall >= GOAL },
  {
    benchmark: `pure transitions, one core: slowest (${slowest.name})`,
    figure: `${formatCount(slowest.perSecond)} /s`,
    goal: `≥ ${formatCount(GOAL)} /s`,
    met: slowest.perSecond >= GOAL,
  },
);
report(rows);
