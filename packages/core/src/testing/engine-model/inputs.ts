import fc from "fast-check";
import type { FieldValue, FormField } from "../../kinds/index.js";

// The inputs the engine model test sends, each with the verdict the rules give it written beside
// it, so the reference model looks answers up instead of re-implementing the validators.

/** A value posted to a field: `value` is what the field keeps of `raw`; absent, the field refuses `raw`. */
export interface FieldChoice {
  readonly raw: FieldValue;
  readonly value?: FieldValue;
}

/** Fields a generated form is made of, each with values it accepts and values it refuses. */
export const FIELD_MENU: readonly { field: FormField; choices: readonly FieldChoice[]; reserved?: boolean }[] = [
  {
    field: { name: "email", type: "email", required: true },
    choices: [
      { raw: "ana@example.com", value: "ana@example.com" },
      { raw: " bo@example.org ", value: "bo@example.org" },
      { raw: "not-an-email" },
      { raw: "", value: "" },
    ],
  },
  {
    field: { name: "issue", label: "What happened?", type: "textarea" },
    choices: [
      { raw: "It broke\nagain", value: "It broke\nagain" },
      { raw: "  kept  ", value: "  kept  " },
      { raw: "   ", value: "   " },
    ],
  },
  {
    field: { name: "age", type: "number", required: true },
    choices: [{ raw: 42, value: 42 }, { raw: " 7 ", value: 7 }, { raw: 1.5, value: 1.5 }, { raw: "seven" }, { raw: "", value: "" }],
  },
  {
    field: { name: "plan", type: "select", options: ["free", "pro"], required: true },
    choices: [{ raw: "pro", value: "pro" }, { raw: " free ", value: "free" }, { raw: "gold" }, { raw: "", value: "" }],
  },
  {
    field: { name: "agree", type: "checkbox", required: true },
    choices: [{ raw: true, value: true }, { raw: "on", value: true }, { raw: false, value: false }, { raw: "maybe" }],
  },
  { field: { name: "visit", type: "date" }, choices: [{ raw: "2026-02-28", value: "2026-02-28" }, { raw: "2026-02-30" }] },
  { field: { name: "ref", type: "hidden" }, choices: [{ raw: "crm-7", value: "crm-7" }] },
  // Filled only by prefill: a session of a form with it and no prefill of it is refused.
  {
    field: { name: "token", type: "hidden", required: true },
    choices: [
      { raw: "tok-1", value: "tok-1" },
      { raw: " ", value: " " },
    ],
  },
  // Names every JavaScript object has: a form with one is refused (its values are keyed by name).
  { field: { name: "constructor", type: "text" }, choices: [{ raw: "built", value: "built" }], reserved: true },
  { field: { name: "__proto__", type: "text", required: true }, choices: [{ raw: "proto", value: "proto" }], reserved: true },
];

/**
 * Free-form metadata a create carries, and whether the rules accept it. `pending` names the
 * engine gap (issue 16) that still answers it wrongly: such inputs are not sent until it is closed.
 */
export const METADATA: readonly { label: string; value: Record<string, unknown> | undefined; valid: boolean; pending?: string }[] = [
  { label: "none", value: undefined, valid: true },
  { label: "small", value: { source: "model", tags: ["a", "b"], n: 1 }, valid: true },
  { label: "key of 200 characters", value: { ["k".repeat(200)]: 1 }, valid: true },
  { label: "16 KB of JSON", value: { blob: "x".repeat(16 * 1024 - 11) }, valid: true }, // `{"blob":"…"}`
  { label: "16 KB and a byte", value: { blob: "x".repeat(16 * 1024 - 10) }, valid: false },
  { label: "key of 201 characters", value: { ["k".repeat(201)]: 1 }, valid: false },
  { label: "nested 40 levels", value: nest(40), valid: false },
  { label: "a NUL in a string", value: { note: "a\u0000b" }, valid: false },
  { label: "a lone surrogate", value: { note: "\ud800" }, valid: false },
  { label: "a NUL in a key", value: { "a\u0000": 1 }, valid: false },
];

function nest(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** Context-variable keys: UPPERCASE_SNAKE_CASE or not. */
export const CONTEXT_KEYS: readonly { readonly key: string; readonly valid: boolean }[] = [
  ...Array.from({ length: 22 }, (_, i) => ({ key: i === 0 ? "USER_PLAN" : `VAR_${i}`, valid: true })),
  { key: "X1_2", valid: true },
  { key: "userPlan", valid: false },
  { key: "A__B", valid: false },
  { key: "_X", valid: false },
  { key: "9LIVES", valid: false },
];

/** Context-variable values: `null` removes a key; the long text makes a few variables pass 4 KB. */
export const CONTEXT_VALUES: readonly { value: unknown; valid: boolean; pending?: string }[] = [
  { value: null, valid: true },
  { value: "enterprise", valid: true },
  { value: 42, valid: true },
  { value: true, valid: true },
  { value: { nested: [1, 2] }, valid: true },
  { value: "x".repeat(700), valid: true },
  { value: "a\u0000b", valid: false },
  { value: nest(40), valid: false },
];

/** Inbound messages, with the one-time code each holds. */
export const MESSAGES: readonly { from: string; subject: string; body: string; otp: string | null }[] = [
  { from: "no-reply@bank.example", subject: "Your code", body: "Your verification code is 482913.", otp: "482913" },
  { from: "alerts@shop.example", subject: "Order shipped", body: "Your parcel is on its way.", otp: null },
  { from: "it@corp.example", subject: "Sign-in", body: "Use 7731 to sign in", otp: "7731" },
  { from: "friend@mail.example", subject: "Lunch", body: "See you at 12:30 in 2026?", otp: null },
];

/** Agent-session usage counters; `valid: false` ones break the counter rules by themselves. */
export const USAGES: readonly { value: Record<string, number> | undefined; valid: boolean; pending?: string }[] = [
  { value: undefined, valid: true },
  { value: { input_tokens: 12, output_tokens: 40 }, valid: true },
  { value: { input_tokens: 3 }, valid: true },
  { value: {}, valid: true },
  { value: { input_tokens: Number.MAX_SAFE_INTEGER - 100 }, valid: true }, // two of these pass 2^53 - 1
  { value: { input_tokens: -1 }, valid: false },
  { value: { input_tokens: 1.5 }, valid: false },
  { value: { InputTokens: 3 }, valid: false },
  { value: { "Bad Key": -5 }, valid: false },
  { value: { input_tokens: "3" } as unknown as Record<string, number>, valid: false },
  { value: { input_tokens: 1e308 }, valid: false },
];

/** Tools a thread may propose: two have executors (one always fails), one has none, one is not a tool name. */
export const TOOLS: readonly { readonly tool: string; readonly valid: boolean }[] = [
  { tool: "send_email", valid: true },
  { tool: "flaky", valid: true },
  { tool: "unregistered", valid: false },
  { tool: "bad tool!", valid: false },
];

/** What the `send_email` executor returns, and the error the `flaky` one throws. */
export const SENT = { sent: true } as const;
export const FLAKY_ERROR = "smtp down";
/** Attempts of an executor before its action fails, and the pause before the retry. */
export const MAX_ACTION_ATTEMPTS = 2;
export const ACTION_RETRY_MS = 60_000;

/** How a command names the record it acts on. */
export type How = "own" | "absent" | "malformed" | "otherKind" | "stranger";
export interface Ref {
  readonly pick: number;
  readonly how: How;
}

/** Ids that cannot be ids of any record. */
export const MALFORMED_IDS: readonly string[] = [
  "nope",
  "sess_123",
  "SESS_0193A1B2C3D4E5F60718293A4B5C6D7E",
  "thread_../../x",
  "sess_\u0000",
  "act_\ud800",
  "x".repeat(10_000),
];

/** A lifetime in seconds: often a few, so that whole-second clock moves land exactly on deadlines. */
export const lifetime = fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 900 }));

/** Mostly a record of this run; now and then an id that must be answered "not found". */
export const ref: fc.Arbitrary<Ref> = fc.record({
  pick: fc.nat({ max: 1000 }),
  how: fc.oneof(
    { weight: 24, arbitrary: fc.constant<How>("own") },
    { weight: 1, arbitrary: fc.constant<How>("absent") },
    { weight: 1, arbitrary: fc.constant<How>("malformed") },
    { weight: 1, arbitrary: fc.constant<How>("otherKind") },
    { weight: 1, arbitrary: fc.constant<How>("stranger") },
  ),
});

/** An index into `list`, weighted; entries still `pending` an engine fix are left out. */
export function choice<T extends object>(list: readonly T[], weights?: (item: T) => number): fc.Arbitrary<number> {
  const usable = list.flatMap((item, index) =>
    "pending" in item && item.pending ? [] : [{ weight: weights?.(item) ?? 1, arbitrary: fc.constant(index) }],
  );
  return fc.oneof(...usable);
}

/** A JSON-safe short rendering of a command's parameters, for the failure report. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === "string" && item.length > 40 ? `${item.slice(0, 12)}…(${item.length} chars)` : item,
  );
}

/** The schema of the arguments of a generated proposal that names one. */
export const REFUND_SCHEMA = {
  type: "object",
  properties: { to: { type: "string", format: "email" }, amount: { type: "integer", maximum: 500 } },
  required: ["to"],
  additionalProperties: false,
} as const;

/**
 * What a proposal asks beyond the seed's fields (issue 18), and whether the engine takes it:
 * arguments with or without a schema they must pass, and what the deadline does.
 */
export const PROPOSALS: readonly { readonly options: Record<string, unknown>; readonly valid: boolean }[] = [
  { options: {}, valid: true },
  { options: { args: { to: "ana@example.com", amount: 20 }, argsSchema: REFUND_SCHEMA }, valid: true },
  { options: { args: { to: "ana@example.com", amount: 20 }, argsSchema: REFUND_SCHEMA, onExpire: "deny" }, valid: true },
  { options: { args: ["free", { form: true }] }, valid: true },
  { options: { onExpire: "deny" }, valid: true },
  { options: { args: { to: 3 }, argsSchema: REFUND_SCHEMA }, valid: false },
  { options: { argsSchema: { type: "string", pattern: "(?=a)" } }, valid: false },
  { options: { onExpire: "never" }, valid: false },
];

/** Arguments a person confirms with: none, others the refund schema takes, others it refuses. */
export const EDITS: readonly { readonly args: unknown; readonly passesSchema: boolean }[] = [
  { args: undefined, passesSchema: true },
  { args: { to: "bo@example.com", amount: 25 }, passesSchema: true },
  { args: { amount: 20, to: "ana@example.com" }, passesSchema: true },
  { args: { to: "bo@example.com", amount: 9000 }, passesSchema: false },
];

/** Reasons a person gives with a "no": none, one, and one past the 1,000 characters kept. */
export const REASONS: readonly { readonly reason: string | undefined; readonly valid: boolean }[] = [
  { reason: undefined, valid: true },
  { reason: "wrong recipient", valid: true },
  { reason: "x".repeat(1001), valid: false },
];
