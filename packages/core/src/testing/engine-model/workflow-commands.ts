import fc from "fast-check";
import { lifetime, MESSAGES, METADATA, ref, show } from "./inputs.js";
import { type Entry, SECOND } from "./model.js";
import { absentId, both, created, metadataIndex, named, ownEntry, resolve, Step, type Weighted, withMetadata } from "./step.js";
import * as workflows from "./workflows.js";

// Commands on workflow sessions: creates, inboxes, waits, inbound messages, steps, complete and fail.

const often = <T>(value: T, weight: number, ...others: T[]) =>
  fc.oneof({ weight, arbitrary: fc.constant(value) }, ...others.map((other) => ({ weight: 1, arbitrary: fc.constant(other) })));
const workflowOf = (entry: Entry) => (entry as Entry<"workflow">).state;

const createWorkflow = fc.record({ name: often("user-signup-flow", 3, ""), metadata: metadataIndex }).map((p) => {
  const input = { name: p.name, ...withMetadata(p.metadata) };
  const valid = p.name !== "" && METADATA[p.metadata]!.valid;
  return new Step(`createWorkflow(${show({ ...input, metadata: METADATA[p.metadata]!.label })})`, [], (m, r) =>
    both(m, r, {
      what: "workflows.create",
      kind: "workflow",
      model: () => workflows.createWorkflow(m, input, valid),
      engine: () => r.engine.workflows.create(r.org, input),
      touched: created(m, "workflow"),
    }),
  );
});

const ttl = fc.oneof({ weight: 5, arbitrary: lifetime }, { weight: 1, arbitrary: fc.constant(0) });
const createInbox = fc.record({ session: ref, ttl }).map(
  (p) =>
    new Step(`createInbox(${named(p.session, "workflow")}, ${p.ttl})`, ["workflow"], (m, r) => {
      const { id, entry } = resolve(m, r, "workflow", p.session);
      return both(m, r, {
        what: "workflows.createInbox",
        kind: "workflow",
        model: () => workflows.createInbox(m, entry, p.ttl, p.ttl >= 1),
        engine: () => r.engine.workflows.createInbox(r.org, id, { ttlSeconds: p.ttl }),
        touched: () => entry,
        shown: (inbox, e) => [inbox, workflowOf(e).inboxes.find((candidate) => candidate.id === inbox.id)],
      });
    }),
);

/** What a wait does at its timeout: as before, fail, or complete with a value. */
const ON_TIMEOUT = [undefined, "fail", { resolve_with: { code: null, fallback: true } }, { resolve_with: null }] as const;
/** Patterns: ones that match some of `MESSAGES` (and mean the same in RE2 and JavaScript), and ones RE2 refuses. */
const PATTERNS = [
  { pattern: undefined, valid: true },
  { pattern: "(\\d{6})", valid: true },
  { pattern: "Use (\\d+) to", valid: true },
  { pattern: "(?:parcel|Lunch)( \\w+)?", valid: true },
  { pattern: "(a", valid: false },
  { pattern: "(?=x)(\\d)", valid: false },
  { pattern: "\\d+", valid: false },
] as const;
/** `since`, in seconds from the moment of the command: none, a little before or after, past the timeout, or a date that does not exist. */
const SINCE = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.integer({ min: -20, max: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("late" as const, "2025-02-30T10:00:00Z") },
);

const createWait = fc
  .record({
    session: ref,
    inbox: fc.nat({ max: 1000 }),
    whose: often("same", 8, "other", "absent"),
    type: fc.constantFrom("otp" as const, "message" as const),
    timeout: fc.oneof({ weight: 5, arbitrary: lifetime }, { weight: 1, arbitrary: fc.constant(86_401) }),
    onTimeout: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: ON_TIMEOUT.length - 1 }) }),
    pattern: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: PATTERNS.length - 1 }) }),
    since: SINCE,
    remindBefore: often(undefined, 4, [2] as number[], [600, 5] as number[]),
  })
  .map((p) => {
    const options = [
      p.onTimeout === 0 ? "" : `, on_timeout ${show(ON_TIMEOUT[p.onTimeout])}`,
      p.pattern === 0 ? "" : `, pattern ${show(PATTERNS[p.pattern]!.pattern)}`,
      p.since === undefined ? "" : `, since ${typeof p.since === "number" ? `${p.since} s` : p.since}`,
      p.remindBefore === undefined ? "" : `, remind_before ${show(p.remindBefore)}`,
    ].join("");
    const label = `createWait(${named(p.session, "workflow")}, ${p.whose} inbox#${p.inbox}, ${p.type}, ${p.timeout} s${options})`;
    // A wait on the workflow's own inbox needs one; on another workflow's inbox or none, it is refused.
    const needs = (m: Parameters<typeof ownEntry>[0]) =>
      p.whose === "same" ? (ownEntry(m, "workflow", p.session)?.state.inboxes.length ?? 0) > 0 : m.records.workflow.length > 0;
    return new Step(label, needs, (m, r) => {
      const { id, entry } = resolve(m, r, "workflow", p.session);
      const pool =
        p.whose === "same"
          ? (entry?.state.inboxes ?? [])
          : p.whose === "other"
            ? m.records.workflow.filter((w) => w !== entry).flatMap((w) => w.state.inboxes)
            : [];
      const inboxId = pool.length > 0 ? pool[p.inbox % pool.length]!.id : absentId("inb");
      const onTimeout = ON_TIMEOUT[p.onTimeout];
      const { pattern, valid: patternValid } = PATTERNS[p.pattern]!;
      const since =
        p.since === undefined
          ? undefined
          : p.since === "late"
            ? new Date(m.now + (p.timeout + 1) * SECOND).toISOString()
            : typeof p.since === "number"
              ? new Date(Math.max(0, m.now + p.since * SECOND)).toISOString()
              : p.since;
      const input: workflows.CreateWaitCall = {
        type: p.type,
        inboxId,
        timeoutSeconds: p.timeout,
        ...(onTimeout === undefined ? {} : { onTimeout }),
        ...(pattern === undefined ? {} : { pattern }),
        ...(since === undefined ? {} : { since }),
        ...(p.remindBefore === undefined ? {} : { remindBefore: p.remindBefore }),
      };
      const valid = p.timeout <= 86_400 && p.since !== "2025-02-30T10:00:00Z";
      return both(m, r, {
        what: "workflows.createWait",
        kind: "workflow",
        model: () => workflows.createWait(m, entry, input, valid, patternValid),
        engine: () => r.engine.workflows.createWait(r.org, id, input),
        touched: () => entry,
        shown: (wait, e) => [wait, workflowOf(e).waits.find((candidate) => candidate.id === wait.id)],
      });
    });
  });

/** A message into an inbox of the run, or to an id that names no inbox: a wait's, a workflow's, none, another organization's. */
const postMessage = fc
  .record({
    to: often("inbox" as const, 12, "wait" as const, "workflow" as const, "absent" as const, "stranger" as const),
    pick: fc.nat({ max: 1000 }),
    message: fc.nat({ max: MESSAGES.length - 1 }),
  })
  .map((p) => {
    const needs = (m: Parameters<typeof ownEntry>[0]) =>
      p.to === "inbox"
        ? m.records.workflow.some((w) => w.state.inboxes.length > 0)
        : p.to === "wait"
          ? m.records.workflow.some((w) => w.state.waits.length > 0)
          : m.records.workflow.length > 0;
    return new Step(`postMessage(${p.to}#${p.pick}, ${show(MESSAGES[p.message])})`, needs, (m, r) => {
      const ids = {
        inbox: m.records.workflow.flatMap((w) => w.state.inboxes.map((inbox) => inbox.id)),
        wait: m.records.workflow.flatMap((w) => w.state.waits.map((wait) => wait.id)),
        workflow: m.records.workflow.map((w) => w.state.id),
        absent: [absentId("inb")],
        stranger: [r.strangers.inbox],
      }[p.to];
      const inboxId = ids[p.pick % ids.length]!;
      const { otp, ...content } = MESSAGES[p.message]!;
      return both(m, r, {
        what: "workflows.postMessage",
        kind: "workflow",
        model: () => workflows.postMessage(m, inboxId, { ...content, otp }),
        engine: () => r.engine.workflows.postMessage(r.org, inboxId, content),
        touched: () => m.records.workflow.find((w) => w.state.inboxes.some((inbox) => inbox.id === inboxId)),
        shown: (message, e) => [message, workflowOf(e).messages.find((candidate) => candidate.id === message.id)],
      });
    });
  });

const finishWorkflow = fc.record({ session: ref, reason: fc.constantFrom(undefined, undefined, "gave up") }).map((p) => {
  const session = named(p.session, "workflow");
  const label = p.reason === undefined ? `complete(${session})` : `fail(${session}, ${show(p.reason)})`;
  return new Step(label, ["workflow"], (m, r) => {
    const { id, entry } = resolve(m, r, "workflow", p.session);
    return both(m, r, {
      what: `workflows.${p.reason === undefined ? "complete" : "fail"}`,
      kind: "workflow",
      model: () => workflows.finishWorkflow(m, entry, p.reason),
      engine: () => (p.reason === undefined ? r.engine.workflows.complete(r.org, id) : r.engine.workflows.fail(r.org, id, { reason: p.reason })),
      touched: () => entry,
    });
  });
});

const recordStep = fc
  .record({
    session: ref,
    action: fc.oneof({ weight: 8, arbitrary: fc.constantFrom("fetch_page", "send_mail") }, { weight: 1, arbitrary: fc.constant("") }),
    durationMs: fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 5000 }) }, { weight: 1, arbitrary: fc.constant(-1) }),
    input: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(undefined, { url: "https://example.com" }) },
      { weight: 1, arbitrary: fc.constant({ page: "x".repeat(300_000) }) }, // four of these pass 1 MB
    ),
    output: fc.constantFrom(undefined, { status: 200 }, "plain"),
    error: fc.constantFrom(undefined, undefined, { message: "timeout" }, { message: "boom", critical: true }, { message: "flaky", critical: false }),
  })
  .map(({ session, ...fields }) => {
    const input = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as typeof fields;
    return new Step(`recordStep(${named(session, "workflow")}, ${show(input)})`, ["workflow"], (m, r) => {
      const { id, entry } = resolve(m, r, "workflow", session);
      return both(m, r, {
        what: "workflows.recordStep",
        kind: "workflow",
        model: () => workflows.recordStep(m, entry, input, fields.action !== "" && fields.durationMs >= 0),
        engine: () => r.engine.workflows.recordStep(r.org, id, input),
        touched: () => entry,
        shown: (step, e) => [step, workflowOf(e).steps.at(-1)],
      });
    });
  });

export const WORKFLOW_COMMANDS: Weighted[] = [
  [createWorkflow, 2],
  [createInbox, 3],
  [createWait, 4],
  [postMessage, 6],
  [finishWorkflow, 1],
  [recordStep, 2],
];
