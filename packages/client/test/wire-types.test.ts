// The client's hand-written answer types agree with the router's wire schemas: a difference fails
// `tsc -p tsconfig.json` at the repository root (this file is type-checked there).
import type * as Client from "@agent-sessions/client";
import type { threadWire, WireBody } from "@agent-sessions/core";
import type { wire } from "@agent-sessions/router";
import { describe, expect, it } from "vitest";
import type { CreatedWebhookBody, DeliveryAttemptBody, WebhookBody } from "../../router/src/routes/webhooks.js";

/** True when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Wire<K extends keyof typeof wire> = (typeof wire)[K] extends { static: infer T } ? T : never;
/** True when A is assignable to B: the client is as precise as the schema, or more. */
type Narrower<A, B> = [A] extends [B] ? true : false;
type PageOf<T> = { data: T[]; pagination: Wire<"Pagination"> };

const agreements: Record<string, true> = {
  Form: true satisfies Same<Client.Form, Wire<"FormBody">>,
  FormSession: true satisfies Same<Client.FormSession, Wire<"FormSessionBody">>,
  Session: true satisfies Same<Client.Session, Wire<"WorkflowBody">>,
  CompletedSession: true satisfies Same<Client.CompletedSession, Wire<"CompletedBody">>,
  TimelineEvent: true satisfies Same<Client.TimelineEvent, Wire<"TimelineEvent">>,
  Step: true satisfies Same<Client.Step, Wire<"StepBody">>,
  Inbox: true satisfies Same<Client.Inbox, Wire<"InboxBody">>,
  Message: true satisfies Same<Client.Message, Wire<"MessageBody">>,
  // The schema's result is any JSON; the client tells a message's result from a resolve_with value by timed_out.
  Wait: true satisfies Narrower<Client.Wait, Wire<"WaitBody">>,
  // The same fields, optional ones included (Same alone lets an optional field be left out).
  WaitFields: true satisfies Same<keyof Client.Wait, keyof Wire<"WaitBody">> &
    Same<Omit<Client.Wait, "result" | "timed_out">, Omit<Wire<"WaitBody">, "result" | "timed_out">>,
  Thread: true satisfies Same<Client.Thread, Wire<"ThreadBody">>,
  ClosedThread: true satisfies Same<Client.ClosedThread, Wire<"ClosedBody">>,
  // The schema's status is built from a list, so it reads as string; the client names the five statuses.
  PendingAction: true satisfies Narrower<Client.PendingAction, Wire<"ActionBody">>,
  ProposedAction: true satisfies Narrower<Client.ProposedAction, Wire<"ProposedActionBody">>,
  // Every field of the schemas is in the client's types, under the wire's name.
  PendingActionFields: true satisfies Same<keyof Client.PendingAction, keyof Wire<"ActionBody">>,
  ProposedActionFields: true satisfies Same<keyof Client.ProposedAction, keyof Wire<"ProposedActionBody">>,
  ProposeActionInput: true satisfies Same<
    keyof Client.ProposeActionInput,
    "tool" | "preview" | "expires_in" | "args" | "args_schema" | "approvers" | "approvals_required" | "on_expire" | "remind_before"
  >,
  // The client's decision is a union the wire's one body takes: `args` only with a yes, `reason` only with a no.
  DecideActionInput: true satisfies Narrower<Client.DecideActionInput, WireBody<typeof threadWire.decideAction>>,
  ActionDecision: true satisfies Same<Client.ActionDecision, Wire<"DecisionBody">>,
  Agent: true satisfies Same<Client.Agent, Wire<"AgentBody">>,
  AgentSession: true satisfies Same<Client.AgentSession, Wire<"AgentSessionBody">>,
  WebhookEndpoint: true satisfies Same<Client.WebhookEndpoint, (typeof WebhookBody)["static"]>,
  CreatedWebhookEndpoint: true satisfies Same<Client.CreatedWebhookEndpoint, (typeof CreatedWebhookBody)["static"]>,
  DeliveryAttempt: true satisfies Same<Client.DeliveryAttempt, (typeof DeliveryAttemptBody)["static"]>,
  Page: true satisfies Same<Client.Page<Client.Form>, PageOf<Client.Form>>,
};

const decisions: Client.DecideActionInput[] = [
  { confirmed: true },
  { confirmed: true, args: { to: "ana@example.com" } },
  { confirmed: false, reason: "wrong recipient" },
  // @ts-expect-error a reason comes only with a no
  { confirmed: true, reason: "fine" },
  // @ts-expect-error edited arguments come only with a yes
  { confirmed: false, args: {} },
];

describe("client types", () => {
  it("agree with the router's wire schemas (checked by tsc)", () => {
    expect(Object.keys(agreements).length).toBe(25);
  });

  it("let a decision carry edited arguments only with a yes and a reason only with a no (checked by tsc)", () => {
    expect(decisions).toHaveLength(5);
  });
});
