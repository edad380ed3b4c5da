import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ActionStatus,
  type Agent,
  type AgentSessionCommand,
  agentSessionMachine,
  type CancelReason,
  createAgentSession,
  createFormSession,
  createThread,
  createWorkflow,
  type EventDraft,
  type Form,
  type FormSessionCommand,
  type FormSessionStatus,
  formSessionMachine,
  type Machine,
  type PendingActionCommand,
  type ThreadCommand,
  threadMachine,
  type Usage,
  type Workflow,
  type WorkflowCommand,
  workflowMachine,
} from "../../src/index.js";
import { HOUR, MINUTE, newId, ok, SECOND, T0 } from "./helpers.js";

const NUM_RUNS = 300;

/** How far the clock moves between two commands: often a little, sometimes far past any deadline. */
const elapsed = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 5 * SECOND }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 20 * MINUTE }) },
  { weight: 1, arbitrary: fc.integer({ min: HOUR, max: 3 * HOUR }) },
);

/** Later moments at which a state is read, relative to the clock of the last command. */
const probes = fc.array(fc.oneof(fc.integer({ min: 0, max: 10 * SECOND }), fc.integer({ min: 0, max: 4 * HOUR })), {
  minLength: 1,
  maxLength: 3,
});

function steps<C>(command: fc.Arbitrary<C>) {
  return fc.array(fc.record({ dt: elapsed, engine: fc.boolean(), command, probes }), { maxLength: 25 });
}

/**
 * Applies one command the way the engine does (`engine`: settle and keep what time did, then
 * transition) or as a bare `transition` call; on a refusal the state stays as it was.
 */
function drive<S, C>(machine: Machine<S, C>, state: S, command: C, now: number, engine: boolean) {
  let current = state;
  const events: EventDraft[] = [];
  if (engine) {
    const settled = machine.settle(current, now);
    current = settled.state;
    events.push(...settled.events);
  }
  const result = machine.transition(current, command, now);
  if (result.ok) {
    current = result.state;
    events.push(...result.events);
  }
  for (const event of events) expect(event.at).toBeLessThanOrEqual(now);
  return { state: current, events };
}

function count(events: readonly EventDraft[], types: readonly string[], key?: string): Map<unknown, number> {
  const counts = new Map<unknown, number>();
  for (const event of events) {
    if (!types.includes(event.type)) continue;
    const id = key ? event.payload[key] : "all";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function expectAtMostOnce(events: readonly EventDraft[], types: readonly string[], key?: string): void {
  for (const [id, n] of count(events, types, key)) {
    if (n > 1) throw new Error(`${n} of ${types.join("/")} for ${String(id)}`);
  }
}

describe("form session properties", () => {
  const form: Form = {
    id: newId("form"),
    orgId: newId("org"),
    name: "Intake",
    slug: null,
    fields: [{ name: "name", type: "text", required: true }],
    allowPartial: false,
    metadata: {},
    createdAt: T0,
    updatedAt: T0,
  };
  const command: fc.Arbitrary<FormSessionCommand> = fc.oneof(
    fc.constant<FormSessionCommand>({ type: "open" }),
    fc.constantFrom<FormSessionCommand>(
      { type: "submit", values: { name: "Ada" } },
      { type: "submit", values: { name: "Grace" } },
      { type: "submit", values: {} },
    ),
    fc.integer({ min: 1, max: 3600 }).map((seconds): FormSessionCommand => ({ type: "extend", seconds })),
    fc.constant<FormSessionCommand>({ type: "tick" }),
  );

  it("never leaves submitted or expired, emits at most one terminal event, and expires exactly when a reference model says", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7200 }), steps(command), (expiresIn, run) => {
        const machine = formSessionMachine;
        let state = createFormSession(form, { id: newId("sess"), expiresInSeconds: expiresIn }, T0).state;
        const ref = { status: "created" as FormSessionStatus, deadline: T0 + expiresIn * SECOND };
        const events: EventDraft[] = [];
        let now = T0;
        for (const step of run) {
          now += step.dt;
          const before = state;
          const driven = drive(machine, state, step.command, now, step.engine);
          state = driven.state;
          events.push(...driven.events);

          // The reference model: a deadline, pushed by extends while live; a valid submit before it wins.
          const live = () => ref.status === "created" || ref.status === "open";
          if (live() && now >= ref.deadline) ref.status = "expired";
          if (live()) {
            const c = step.command;
            if (c.type === "open") ref.status = "open";
            if (c.type === "submit" && c.values.name) ref.status = "submitted";
            if (c.type === "extend") ref.deadline += c.seconds * SECOND;
          }

          // A terminal form session answers every command as a no-op or a refusal: it never changes again.
          if (before.status === "submitted" || before.status === "expired") expect(state).toBe(before);
          expect(machine.settle(state, now).state.status).toBe(ref.status);
          if (live()) expect(state.expiresAt).toBe(ref.deadline);
          for (const offset of [...step.probes, ref.deadline - now - 1, ref.deadline - now]) {
            if (offset < 0) continue;
            const t = now + offset;
            const expired = machine.settle(state, t).state.status === "expired";
            expect(expired).toBe(ref.status !== "submitted" && t >= ref.deadline);
          }
        }
        expectAtMostOnce(events, ["session.expired", "submission.created"]);
        for (const event of events.filter((e) => e.type === "session.expired")) expect(event.at).toBe(ref.deadline);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("sends each reminder at most once per deadline, only while live and before the deadline, and settles something whenever due", () => {
    const remindBefore = fc.uniqueArray(fc.integer({ min: 1, max: 7200 }), { maxLength: 4 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7200 }), remindBefore, steps(command), (expiresIn, reminders, run) => {
        const machine = formSessionMachine;
        let state = createFormSession(form, { id: newId("sess"), expiresInSeconds: expiresIn, remindBefore: reminders }, T0).state;
        const events: EventDraft[] = [];
        let now = T0;
        for (const step of run) {
          now += step.dt;
          const before = state;
          const driven = drive(machine, state, step.command, now, step.engine);
          state = driven.state;
          for (const event of driven.events) {
            if (event.type !== "session.expiring") continue;
            // Sent before the deadline it names, by one of the entries asked for, while the session was live.
            expect(event.at).toBeLessThan(Date.parse(event.payload.expires_at as string));
            expect(reminders).toContain(event.payload.remind_before);
            expect(before.status === "created" || before.status === "open").toBe(true);
          }
          events.push(...driven.events);
          // The pending moments: absent rather than empty, earliest first, only while live.
          if (state.reminders !== undefined) {
            expect(state.reminders.length).toBeGreaterThan(0);
            expect([...state.reminders].sort((a, b) => a - b)).toEqual(state.reminders);
            expect(state.status === "created" || state.status === "open").toBe(true);
          }
          // The invariant lists by status rely on: a due record's settle writes something.
          const due = machine.dueAt(state);
          for (const offset of [...step.probes, 0]) {
            const t = now + offset;
            const settled = machine.settle(state, t);
            if (due !== null && due <= t) expect(settled.events.length).toBeGreaterThan(0);
            if (due === null || due > t) expect(settled.events).toEqual([]);
          }
        }
        const sent = events
          .filter((event) => event.type === "session.expiring")
          .map((event) => `${event.payload.expires_at} ${event.payload.remind_before}`);
        expect(new Set(sent).size).toBe(sent.length);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("workflow properties", () => {
  type Abstract =
    | { kind: "createInbox"; ttl: number }
    | { kind: "message"; inbox: number; withCode: boolean }
    | { kind: "wait"; inbox: number; waitType: "otp" | "message"; timeout: number }
    | { kind: "step"; critical: boolean }
    | { kind: "complete" }
    | { kind: "fail" }
    | { kind: "tick" };

  // Ending commands are rarer than the others, so most runs get to exercise inboxes and waits.
  const abstract: fc.Arbitrary<Abstract> = fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("createInbox" as const), ttl: fc.integer({ min: 1, max: 3600 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("message" as const), inbox: fc.nat(4), withCode: fc.boolean() }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("wait" as const),
        inbox: fc.nat(4),
        waitType: fc.constantFrom("otp" as const, "message" as const),
        timeout: fc.integer({ min: 1, max: 3600 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("step" as const), critical: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }) },
    { weight: 1, arbitrary: fc.constant({ kind: "complete" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "fail" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "tick" as const }) },
  );

  /** Turns an abstract command into a concrete one against the inboxes the state has. */
  function concrete(state: Workflow, command: Abstract): WorkflowCommand {
    const inboxId = (index: number) => state.inboxes[index % Math.max(1, state.inboxes.length)]?.id ?? newId("inb");
    switch (command.kind) {
      case "createInbox":
        return { type: "createInbox", inboxId: newId("inb"), ttlSeconds: command.ttl };
      case "message":
        return {
          type: "receiveMessage",
          messageId: newId("msg"),
          inboxId: inboxId(command.inbox),
          from: "noreply@example.com",
          subject: "Sign in",
          body: command.withCode ? "Your code is 482913" : "Welcome aboard",
        };
      case "wait":
        return {
          type: "createWait",
          waitId: newId("wait"),
          waitType: command.waitType,
          inboxId: inboxId(command.inbox),
          timeoutSeconds: command.timeout,
        };
      case "step":
        return command.critical
          ? { type: "recordStep", action: "pay", durationMs: 5, error: { message: "declined", critical: true } }
          : { type: "recordStep", action: "load", durationMs: 5 };
      case "complete":
        return { type: "complete" };
      case "fail":
        return { type: "fail", message: "gave up" };
      case "tick":
        return { type: "tick" };
    }
  }

  it("never leaves completed or failed, ends at most once, and settles each wait exactly once", () => {
    fc.assert(
      fc.property(steps(abstract), (run) => {
        const machine = workflowMachine;
        let state = createWorkflow({ id: newId("sess"), orgId: newId("org"), name: "signup" }, T0).state;
        let refStatus: Workflow["status"] = "active";
        const events: EventDraft[] = [];
        let now = T0;
        for (const step of run) {
          now += step.dt;
          const before = state;
          const command = concrete(state, step.command);
          const driven = drive(machine, state, command, now, step.engine);
          state = driven.state;
          events.push(...driven.events);

          if (refStatus === "active") {
            if (command.type === "complete") refStatus = "completed";
            if (command.type === "fail" || (command.type === "recordStep" && command.error?.critical)) refStatus = "failed";
          }
          expect(state.status).toBe(refStatus);
          if (before.status !== "active") expect(state.status).toBe(before.status);
          for (const wait of before.waits) {
            if (wait.status === "pending") continue;
            expect(state.waits.find((w) => w.id === wait.id)).toEqual(wait);
          }
          const consumed = state.waits.flatMap((wait) => (!wait.timedOut && wait.result ? [wait.result.messageId] : []));
          expect(new Set(consumed).size).toBe(consumed.length);
          for (const wait of state.waits) {
            if (wait.status !== "completed" || wait.timedOut) continue;
            expect(state.messages.find((m) => m.id === wait.result?.messageId)?.consumedBy).toBe(wait.id);
            if (wait.type === "otp") expect(wait.result?.code).toBe("482913");
          }
          const deadlines = state.waits.filter((wait) => wait.status === "pending").flatMap((wait) => [wait.expiresAt - 1, wait.expiresAt]);
          for (const t of [...step.probes.map((offset) => now + offset), ...deadlines.filter((at) => at >= now)]) {
            const settled = machine.settle(state, t).state;
            // Lists by status skip writing what time did for a machine that says time keeps its status.
            if (!machine.timeChangesStatus) expect(machine.status(settled)).toBe(machine.status(state));
            for (const wait of settled.waits) {
              if (wait.status === "pending") expect(wait.expiresAt).toBeGreaterThan(t);
              if (wait.status === "timed_out") {
                expect(wait.completedAt).toBe(wait.expiresAt);
                expect(wait.expiresAt).toBeLessThanOrEqual(t);
              }
            }
          }
        }
        expectAtMostOnce(events, ["session.completed", "session.failed"]);
        expectAtMostOnce(events, ["wait.completed", "wait.timed_out"], "waitId");
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("thread and pending action properties", () => {
  type Abstract =
    | { kind: "context"; key: "PLAN" | "LOCALE" | "TIER"; value: number | null }
    | { kind: "propose"; ttl: number }
    | { kind: "action"; index: number; command: Exclude<PendingActionCommand["type"], "review"> }
    | { kind: "close" }
    | { kind: "tick" };

  const abstract: fc.Arbitrary<Abstract> = fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("context" as const),
        key: fc.constantFrom("PLAN" as const, "LOCALE" as const, "TIER" as const),
        value: fc.option(fc.nat(9), { nil: null }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("propose" as const), ttl: fc.integer({ min: 1, max: 3600 }) }) },
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant("action" as const),
        index: fc.nat(5),
        command: fc.constantFrom(
          "confirm" as const,
          "confirm" as const,
          "cancel" as const,
          "succeed" as const,
          "attemptFailed" as const,
          "fail" as const,
        ),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "close" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "tick" as const }) },
  );

  interface RefAction {
    id: string;
    expiresAt: number;
    status: ActionStatus;
    reason: CancelReason | null;
  }

  const actionCommand = (type: Exclude<PendingActionCommand["type"], "review">): PendingActionCommand => {
    switch (type) {
      case "confirm":
        return { type, callbackId: newId("cb") };
      case "cancel":
      case "start":
        return { type };
      case "succeed":
        return { type, result: { ok: true } };
      case "attemptFailed":
      case "fail":
        return { type, error: "smtp down" };
    }
  };

  it("never leaves closed or a terminal action status, ends each action once, and expires actions exactly when a reference model says", () => {
    fc.assert(
      fc.property(steps(abstract), (run) => {
        const machine = threadMachine;
        let state = ok(createThread({ id: newId("thread"), orgId: newId("org") }, T0));
        const ref = { closed: false, actions: [] as RefAction[] };
        const events: EventDraft[] = [];
        let now = T0;
        for (const step of run) {
          now += step.dt;
          const before = state;
          const abstractCommand = step.command;
          let command: ThreadCommand;
          if (abstractCommand.kind === "context") command = { type: "updateContext", variables: { [abstractCommand.key]: abstractCommand.value } };
          else if (abstractCommand.kind === "propose")
            command = { type: "proposeAction", actionId: newId("act"), tool: "refund", preview: {}, expiresAt: now + abstractCommand.ttl * SECOND };
          else if (abstractCommand.kind === "action") {
            const target = ref.actions[abstractCommand.index % Math.max(1, ref.actions.length)]?.id ?? newId("act");
            command = { type: "action", actionId: target, command: actionCommand(abstractCommand.command) };
          } else command = { type: abstractCommand.kind };
          const driven = drive(machine, state, command, now, step.engine);
          state = driven.state;
          events.push(...driven.events);

          // The reference model: deadlines first, then the command.
          for (const action of ref.actions) {
            if (action.status === "pending" && now >= action.expiresAt) Object.assign(action, { status: "cancelled", reason: "expired" });
          }
          if (command.type === "proposeAction" && !ref.closed) {
            ref.actions.push({ id: command.actionId, expiresAt: command.expiresAt!, status: "pending", reason: null });
          }
          if (command.type === "close" && !ref.closed) {
            ref.closed = true;
            for (const action of ref.actions) {
              if (action.status === "pending") Object.assign(action, { status: "cancelled", reason: "thread_closed" });
            }
          }
          if (command.type === "action") {
            const action = ref.actions.find((a) => a.id === command.actionId);
            const type = command.command.type;
            if (action?.status === "pending" && type === "confirm") action.status = "processing";
            else if (action?.status === "pending" && type === "cancel") Object.assign(action, { status: "cancelled", reason: "person" });
            else if (action?.status === "processing" && type === "succeed") action.status = "succeeded";
            else if (action?.status === "processing" && type === "fail") action.status = "failed";
          }

          if (before.status === "closed") expect(state.status).toBe("closed");
          for (const action of before.actions) {
            if (action.status === "pending" || action.status === "processing") continue;
            const after = state.actions.find((a) => a.id === action.id);
            expect([after?.status, after?.cancelReason]).toEqual([action.status, action.cancelReason]);
          }
          const settled = machine.settle(state, now).state;
          expect(settled.status).toBe(ref.closed ? "closed" : "active");
          expect(settled.actions.map((a) => [a.id, a.status, a.cancelReason])).toEqual(ref.actions.map((a) => [a.id, a.status, a.reason]));
          const deadlines = ref.actions.filter((a) => a.status === "pending").flatMap((a) => [a.expiresAt - 1, a.expiresAt]);
          for (const t of [...step.probes.map((offset) => now + offset), ...deadlines.filter((at) => at >= now)]) {
            if (!machine.timeChangesStatus) expect(machine.status(machine.settle(state, t).state)).toBe(machine.status(state));
            machine.settle(state, t).state.actions.forEach((action, index) => {
              const expected = ref.actions[index]!;
              const expired = (expected.status === "pending" && t >= expected.expiresAt) || expected.reason === "expired";
              expect(action.cancelReason === "expired").toBe(expired);
            });
          }
        }
        expectAtMostOnce(events, ["session.closed"]);
        expectAtMostOnce(events, ["action.succeeded", "action.failed", "action.cancelled"], "action_id");
        expectAtMostOnce(events, ["action.confirmed"], "action_id");
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("agent session properties", () => {
  const agent: Agent = {
    id: newId("agent"),
    orgId: newId("org"),
    name: "bot",
    capabilities: [],
    modelId: null,
    metadata: {},
    createdAt: T0,
    updatedAt: T0,
  };
  const usage: fc.Arbitrary<Usage | undefined> = fc.option(
    fc.record({ input_tokens: fc.nat(100), output_tokens: fc.nat(100) }, { requiredKeys: [] }),
    { nil: undefined },
  );
  const command: fc.Arbitrary<AgentSessionCommand> = fc.oneof(
    fc
      .record({ type: fc.constant("message" as const), role: fc.constantFrom("user" as const, "assistant" as const), content: fc.string(), usage })
      .map(({ usage: u, ...rest }): AgentSessionCommand => (u ? { ...rest, usage: u } : rest)),
    fc.constant<AgentSessionCommand>({ type: "finish" }),
  );

  it("never unfinishes, finishes at most once, and agrees with a reference model on status, turns and usage", () => {
    fc.assert(
      fc.property(steps(command), (run) => {
        const machine = agentSessionMachine;
        let state = createAgentSession(agent, { id: newId("session") }, T0).state;
        const ref = { status: "started" as "started" | "active" | "idle", finished: false, turns: 0, usage: null as Record<string, number> | null };
        const events: EventDraft[] = [];
        let now = T0;
        for (const step of run) {
          now += step.dt;
          const before = state;
          const driven = drive(machine, state, step.command, now, step.engine);
          state = driven.state;
          events.push(...driven.events);

          const c = step.command;
          const addUsage = (more: Usage | undefined) => {
            if (!more) return;
            ref.usage ??= {};
            for (const [key, value] of Object.entries(more)) ref.usage[key] = (ref.usage[key] ?? 0) + value;
          };
          if (c.type === "finish" && !ref.finished) {
            ref.finished = true;
            if (ref.status === "active") ref.status = "idle";
          } else if (c.type === "message" && !ref.finished) {
            if (c.role === "user" && ref.status !== "active") {
              ref.status = "active";
              ref.turns += 1;
              addUsage(c.usage);
            } else if (c.role === "assistant" && ref.status === "active") {
              ref.status = "idle";
              addUsage(c.usage);
            }
          }

          if (before.finishedAt !== null) expect(state.finishedAt).toBe(before.finishedAt);
          expect({ status: state.status, finished: state.finishedAt !== null, turns: state.turns, usage: state.usage }).toEqual(ref);
        }
        expectAtMostOnce(events, ["session.finished"]);
        const started = events.filter((e) => e.type === "turn.started").length;
        const completed = events.filter((e) => e.type === "turn.completed").length;
        expect(started).toBe(ref.turns);
        expect(started - completed).toBeGreaterThanOrEqual(ref.status === "active" ? 1 : 0);
        expect(started - completed).toBeLessThanOrEqual(1);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
