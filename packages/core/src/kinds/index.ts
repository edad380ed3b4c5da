import { PART_PREFIXES } from "../ids.js";
import type { Machine } from "../machine.js";
import { agentSessionMachine } from "../machines/agent-session.js";
import { formSessionMachine } from "../machines/form-session.js";
import { threadMachine } from "../machines/thread.js";
import { workflowMachine } from "../machines/workflow.js";
import { agentKind } from "./agent.js";
import { agentSessionKind } from "./agent-session.js";
import { formKind } from "./form.js";
import { formSessionKind } from "./form-session.js";
import type { KindDescriptor } from "./kind.js";
import { ACTION_PREFIXES, threadKind } from "./thread.js";
import { webhookKind } from "./webhook.js";
import { WORKFLOW_PART_PREFIXES, workflowKind } from "./workflow.js";

/**
 * Every kind of record agent-sessions keeps, each with its machine (`null` for kinds that only
 * time cannot change). Everything that depends on a kind's name, prefix, statuses or limits reads
 * it here: the engine, the stores' retention, the router's filters, the OpenAPI document.
 */
export const KINDS = {
  form: { ...formKind, machine: null },
  form_session: { ...formSessionKind, machine: formSessionMachine },
  workflow: { ...workflowKind, machine: workflowMachine },
  thread: { ...threadKind, machine: threadMachine },
  agent: { ...agentKind, machine: null },
  agent_session: { ...agentSessionKind, machine: agentSessionMachine },
  webhook: { ...webhookKind, machine: null },
} as const;

/** A record kind the store keeps. */
export type RecordKind = keyof typeof KINDS;

/** Every record kind, in the order of `KINDS`. */
export const RECORD_KINDS = Object.keys(KINDS) as RecordKind[];

/** The descriptor of a kind, with its machine typed loosely for code that serves every kind. */
export function kindOf(kind: RecordKind): KindDescriptor & { readonly machine: Machine<unknown, unknown> | null } {
  return KINDS[kind] as unknown as KindDescriptor & { readonly machine: Machine<unknown, unknown> | null };
}

/** Every id prefix agent-sessions hands out, by what the id names. */
export const ID_PREFIXES = {
  ...PART_PREFIXES,
  ...WORKFLOW_PART_PREFIXES,
  ...ACTION_PREFIXES,
  form: KINDS.form.prefix,
  formSession: KINDS.form_session.prefix,
  workflow: KINDS.workflow.prefix,
  thread: KINDS.thread.prefix,
  agent: KINDS.agent.prefix,
  agentSession: KINDS.agent_session.prefix,
  webhook: KINDS.webhook.prefix,
} as const;

export type IdPrefix = (typeof ID_PREFIXES)[keyof typeof ID_PREFIXES];

/**
 * The kinds with a machine whose records can reach a final status, by name: what the Redis store's
 * TTL retention may remove. The engine's retention (`purge`) takes every kind with terminal
 * statuses, webhook endpoints too (`PURGEABLE_KINDS`).
 */
export const TERMINAL_STATUSES: Readonly<Partial<Record<RecordKind, readonly string[]>>> = Object.fromEntries(
  RECORD_KINDS.filter((kind) => KINDS[kind].terminal.length > 0 && KINDS[kind].machine !== null).map((kind) => [kind, KINDS[kind].terminal]),
);

export * from "./agent.js";
export * from "./agent-session.js";
export * from "./form.js";
export * from "./form-session.js";
export { defineKind, type KindDescriptor, type Renamed, statusSchema, type WireBody, type WireInput, wireError, wireInput } from "./kind.js";
export * from "./thread.js";
export * from "./webhook.js";
export * from "./workflow.js";
