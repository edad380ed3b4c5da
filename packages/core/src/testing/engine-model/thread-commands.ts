import fc from "fast-check";
import type { Capability } from "../../kinds/agent.js";
import { threadKind } from "../../kinds/thread.js";
import * as agents from "./agents.js";
import { project } from "./checks.js";
import { CONTEXT_KEYS, CONTEXT_VALUES, choice, EDITS, lifetime, METADATA, PROPOSALS, REASONS, ref, show, TOOLS, USAGES } from "./inputs.js";
import type { EngineModel, Entry } from "./model.js";
import { absentId, both, created, metadataIndex, named, ownEntry, resolve, Step, type Weighted, withMetadata } from "./step.js";
import * as threads from "./threads.js";

// Commands on conversations: threads with their context variables and pending actions, and agent
// sessions with their turns.

/**
 * A context-variable patch, whether all its keys are UPPERCASE_SNAKE_CASE, and whether all its
 * values are acceptable JSON: a few random pairs, or many new small variables (toward `threadKind.limits.contextVariables`).
 */
const SMALL = CONTEXT_VALUES.findIndex((item) => item.value === "enterprise");
const VALID_KEYS = [...CONTEXT_KEYS.keys()].filter((key) => CONTEXT_KEYS[key]!.valid);
const pair = fc.tuple(
  choice(CONTEXT_KEYS, (key) => (key.valid ? 8 : 1)),
  choice(CONTEXT_VALUES, (item) => (item.valid ? 8 : 1)),
);
const manyNew = fc
  .uniqueArray(fc.constantFrom(...VALID_KEYS), { minLength: 6, maxLength: 12 })
  .map((keys) => keys.map((key): [number, number] => [key, SMALL]));
const patch = fc.oneof({ weight: 4, arbitrary: fc.array(pair, { maxLength: 8 }) }, { weight: 1, arbitrary: manyNew }).map((pairs) => {
  // As the object holds them: a key given twice keeps its last value.
  const last = new Map(pairs);
  return {
    variables: Object.fromEntries(pairs.map(([key]) => [CONTEXT_KEYS[key]!.key, CONTEXT_VALUES[last.get(key)!]!.value])),
    keysValid: pairs.every(([key]) => CONTEXT_KEYS[key]!.valid),
    valuesValid: [...last.values()].every((value) => CONTEXT_VALUES[value]!.valid),
  };
});

/** The given fields of a generated input, without those left `undefined`. */
const given = <T extends object>(input: T): T => Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as T;

const createThread = fc.record({ patch, withVariables: fc.boolean(), metadata: metadataIndex }).map((p) => {
  const variables = p.withVariables ? p.patch.variables : {};
  const input = { ...(p.withVariables ? { contextVariables: variables } : {}), ...withMetadata(p.metadata) };
  const { value: metadata, valid, label } = METADATA[p.metadata]!;
  return new Step(`createThread(${show({ ...input, metadata: label })})`, [], (m, r) =>
    both(m, r, {
      what: "threads.create",
      kind: "thread",
      model: () => {
        const { keysValid, valuesValid } = p.withVariables ? p.patch : { keysValid: true, valuesValid: true };
        return threads.createThread(m, variables, keysValid, metadata, valid && valuesValid);
      },
      engine: () => r.engine.threads.create(r.org, input),
      touched: created(m, "thread"),
    }),
  );
});

const updateContext = fc.record({ thread: ref, patch }).map(
  (p) =>
    new Step(`updateContext(${named(p.thread, "thread")}, ${show(p.patch.variables)})`, ["thread"], (m, r) => {
      const { id, entry } = resolve(m, r, "thread", p.thread);
      return both(m, r, {
        what: "threads.updateContext",
        kind: "thread",
        model: () => threads.updateContext(m, entry, p.patch, p.patch.valuesValid),
        engine: () => r.engine.threads.updateContext(r.org, id, { contextVariables: p.patch.variables }),
        touched: () => entry,
      });
    }),
);

/** An update that brings a thread's variables to exactly their limit of bytes of JSON, or to one byte more. */
const MAX_BYTES = threadKind.limits.contextVariablesBytes;
const fillContext = fc.record({ thread: ref, over: fc.constantFrom(0, 1) }).map(
  (p) =>
    new Step(`fillContext(${named(p.thread, "thread")}, to ${MAX_BYTES}${p.over ? " + 1" : ""} bytes)`, ["thread"], (m, r) => {
      const { id, entry } = resolve(m, r, "thread", p.thread);
      const base = new TextEncoder().encode(JSON.stringify({ ...entry?.state.contextVariables, FILL: "" })).length;
      const variables = { FILL: "x".repeat(Math.max(0, MAX_BYTES + p.over - base)) };
      return both(m, r, {
        what: "threads.updateContext",
        kind: "thread",
        model: () => threads.updateContext(m, entry, { variables, keysValid: true }, true),
        engine: () => r.engine.threads.updateContext(r.org, id, { contextVariables: variables }),
        touched: () => entry,
      });
    }),
);

const closeThread = ref.map(
  (target) =>
    new Step(`close(${named(target, "thread")})`, ["thread"], (m, r) => {
      const { id, entry } = resolve(m, r, "thread", target);
      return both(m, r, {
        what: "threads.close",
        kind: "thread",
        model: () => threads.close(m, entry),
        engine: () => r.engine.threads.close(r.org, id),
        touched: () => entry,
      });
    }),
);

const proposeAction = fc
  .record({
    thread: ref,
    tool: choice(TOOLS, (tool) => (tool.valid ? 6 : 1)),
    // A preview is at most 16 KB of JSON: `{"blob":"…"}` of 16,384 bytes passes, one more byte does not.
    size: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(16 * 1024 - 11, 16 * 1024 - 10) }),
    expiresIn: fc.oneof(
      { weight: 5, arbitrary: lifetime },
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constant(0) },
    ),
    proposal: choice(PROPOSALS, (item) => (item === PROPOSALS[0] ? 6 : item.valid ? 2 : 1)),
  })
  .map((p) => {
    const preview = p.size > 0 ? { blob: "x".repeat(p.size) } : { to: "ana@example.com", subject: "Order" };
    const { options, valid: optionsValid } = PROPOSALS[p.proposal]!;
    const input = given({ tool: TOOLS[p.tool]!.tool, preview, expiresIn: p.expiresIn, ...options });
    const valid = TOOLS[p.tool]!.valid && p.size <= 16 * 1024 - 11 && p.expiresIn !== 0 && optionsValid;
    return new Step(`propose(${named(p.thread, "thread")}, ${show(input)})`, ["thread"], (m, r) => {
      const { id, entry } = resolve(m, r, "thread", p.thread);
      return both(m, r, {
        what: "threads.proposeAction",
        kind: "thread",
        model: () => threads.propose(m, entry, { tool: input.tool, preview, expiresIn: p.expiresIn, options }, valid),
        engine: () => r.engine.threads.proposeAction(r.org, id, input),
        touched: () => entry,
        shown: ({ reviewTokens, ...action }, e) => {
          // The token of the action's own link names its thread and action, then a 256-bit secret.
          const pattern = new RegExp(`^${id}\\.${action.id}\\.[A-Za-z0-9_-]{43}$`);
          r.expect(pattern.test(reviewTokens.link), `the review link's token ${reviewTokens.link}`).toBe(true);
          return [action, (e as Entry<"thread">).state.actions.find((candidate) => candidate.id === action.id)];
        },
      });
    });
  });

const decideAction = fc
  .record({
    thread: ref,
    action: fc.nat({ max: 1000 }),
    whose: fc.oneof({ weight: 6, arbitrary: fc.constant("same") }, { weight: 1, arbitrary: fc.constantFrom("other", "absent", "stranger") }),
    confirmed: fc.boolean(),
    edit: choice(EDITS, (item) => (item === EDITS[0] ? 4 : 1)),
    reason: choice(REASONS, (item) => (item === REASONS[0] ? 4 : 1)),
    // Now and then an argument edit comes with a no, or a reason with a yes: both refused.
    crossed: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map((p) => {
    const edit = EDITS[p.edit]!;
    const reason = REASONS[p.reason]!;
    const sendsArgs = edit.args !== undefined && (p.confirmed || p.crossed);
    const sendsReason = reason.reason !== undefined && (!p.confirmed || p.crossed);
    const input = {
      confirmed: p.confirmed,
      ...(sendsArgs ? { args: edit.args } : {}),
      ...(sendsReason ? { reason: reason.reason } : {}),
    };
    // An action of the thread itself needs one; one of another thread, or none, is "not found".
    const needs = (m: EngineModel) =>
      p.whose === "same"
        ? (ownEntry(m, "thread", p.thread)?.state.actions.length ?? 0) > 0
        : m.records.thread.some((t) => t.state.actions.length > 0);
    return new Step(`decide(${named(p.thread, "thread")}, ${p.whose} action#${p.action}, ${show(input)})`, needs, (m, r) => {
      const { id, entry } = resolve(m, r, "thread", p.thread);
      const pool =
        p.whose === "same"
          ? (entry?.state.actions ?? [])
          : p.whose === "other"
            ? m.records.thread.filter((t) => t !== entry).flatMap((t) => t.state.actions)
            : [];
      const actionId = pool.length > 0 ? pool[p.action % pool.length]!.id : p.whose === "stranger" ? r.strangers.action : absentId("act");
      return both(m, r, {
        what: "threads.decideAction",
        kind: "thread",
        model: () =>
          threads.decide(m, entry, actionId, p.confirmed, {
            ...(sendsArgs ? { args: edit.args, passesSchema: edit.passesSchema } : {}),
            ...(sendsReason ? { reason: reason.reason, reasonValid: reason.valid } : {}),
          }),
        engine: () => r.engine.threads.decideAction(r.org, id, actionId, input),
        touched: () => entry,
        shown: (answer, e) => [project(r, answer.thread), e.state],
      });
    });
  });

const createAgent = fc
  .record({
    name: fc.constantFrom("Helper", "Helper", "Helper", ""),
    capabilities: fc.constantFrom<Capability[] | undefined>(undefined, [{ ref: "search" }], [{ ref: "search", config: { depth: 2 } }]),
    modelId: fc.constantFrom(undefined, null, "model-a"),
  })
  .map((p) => {
    const input = given(p);
    return new Step(`createAgent(${show(input)})`, [], (m, r) =>
      both(m, r, {
        what: "agents.create",
        kind: "agent",
        model: () => agents.createAgent(m, input, p.name !== ""),
        engine: () => r.engine.agents.create(r.org, input),
        touched: created(m, "agent"),
      }),
    );
  });

const createAgentSession = fc
  .record({
    agent: ref,
    tags: fc.constantFrom<string[] | undefined>(undefined, undefined, ["debugging", "urgent"], ["debugging", "urgent"], ["dup", "dup"]),
    title: fc.constantFrom(undefined, null, "Debug login issue"),
    modelId: fc.constantFrom(undefined, "model-b"),
    capabilities: fc.constantFrom<Capability[] | undefined>(
      undefined,
      [{ ref: "browse", config: { depth: 1 } }],
      [{ ref: "search", config: { depth: 5, safe: true } }, { ref: "mail" }],
    ),
  })
  .map(({ agent, ...fields }) => {
    const input = given(fields);
    return new Step(`createAgentSession(${named(agent, "agent")}, ${show(input)})`, ["agent"], (m, r) => {
      const target = resolve(m, r, "agent", agent);
      return both(m, r, {
        what: "agentSessions.create",
        kind: "agent_session",
        model: () => agents.createAgentSession(m, target.entry, input, fields.tags?.[0] !== "dup"),
        engine: () => r.engine.agentSessions.create(r.org, { agentId: target.id, ...input }),
        touched: created(m, "agent_session"),
      });
    });
  });

const agentMessage = fc
  .record({
    session: ref,
    role: fc.constantFrom("user" as const, "assistant" as const),
    content: fc.constantFrom("Hi there", "  padded reply  ", "y".repeat(250), ""),
    usage: choice(USAGES, (usage) => (usage.valid ? 4 : 1)),
  })
  .map((p) => {
    const usage = USAGES[p.usage]!;
    const input = { role: p.role, content: p.content, ...(usage.value ? { usage: usage.value } : {}) };
    return new Step(`agentMessage(${named(p.session, "agent_session")}, ${show(input)})`, ["agent_session"], (m, r) => {
      const { id, entry } = resolve(m, r, "agent_session", p.session);
      return both(m, r, {
        what: "agentSessions.postMessage",
        kind: "agent_session",
        model: () => agents.message(m, entry, input, usage.valid),
        engine: () => r.engine.agentSessions.postMessage(r.org, id, input),
        touched: () => entry,
      });
    });
  });

const finishAgentSession = ref.map(
  (target) =>
    new Step(`finish(${named(target, "agent_session")})`, ["agent_session"], (m, r) => {
      const { id, entry } = resolve(m, r, "agent_session", target);
      return both(m, r, {
        what: "agentSessions.finish",
        kind: "agent_session",
        model: () => agents.finish(m, entry),
        engine: () => r.engine.agentSessions.finish(r.org, id),
        touched: () => entry,
      });
    }),
);

export const THREAD_COMMANDS: Weighted[] = [
  [createThread, 2],
  [updateContext, 4],
  [fillContext, 1],
  [closeThread, 1],
  [proposeAction, 4],
  [decideAction, 6],
];

export const AGENT_COMMANDS: Weighted[] = [
  [createAgent, 1],
  [createAgentSession, 3],
  [agentMessage, 8],
  [finishAgentSession, 1],
];
