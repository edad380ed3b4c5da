// The engine's API is typed: a wrong field, a wrong casing or a wrong status literal does not
// compile. Each `@ts-expect-error` below fails `pnpm typecheck` (tsc over packages/*/test) the day
// the line it marks compiles; the runtime half checks that JavaScript callers are still refused.
import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createEngine,
  type Engine,
  type FormSession,
  type FormSessionStatus,
  type Page,
  type ProposedAction,
  type Thread,
  type ThreadStatus,
} from "../src/index.js";

const ORG = "org_00000000000000000000000000000001";

/** Calls that must not compile; never run (the engine would refuse each at run time). */
function wrongCalls(engine: Engine): void {
  // @ts-expect-error seed 000's snake_case is the wire's; the engine takes camelCase
  void engine.formSessions.create(ORG, "intake", { expires_in: 60 });
  // @ts-expect-error a typo in a field name
  void engine.formSessions.create(ORG, "intake", { expiresln: 60 });
  // @ts-expect-error a lifetime is a number of seconds
  void engine.formSessions.extend(ORG, "sess_x", { expiresIn: "60" });
  // @ts-expect-error `closed` is a thread's status, not a form session's
  void engine.formSessions.list(ORG, { status: "closed" });
  // @ts-expect-error a form field's type is one of the field types
  void engine.forms.create(ORG, { name: "Intake", fields: [{ name: "email", type: "e-mail" }] });
  // @ts-expect-error forms are listed without a status
  void engine.forms.list(ORG, { status: "active" });
  // @ts-expect-error submitted values are strings, numbers or booleans
  void engine.formSessions.submit("sess_x", { values: { email: { address: "a@b.c" } } });
}

describe("the engine's types", () => {
  it("take typed camelCase inputs and return typed resources", () => {
    expectTypeOf<Engine["formSessions"]["create"]>().returns.resolves.toEqualTypeOf<FormSession>();
    expectTypeOf<Engine["formSessions"]["list"]>().returns.resolves.toEqualTypeOf<Page<FormSession>>();
    expectTypeOf<FormSession["status"]>().toEqualTypeOf<FormSessionStatus>();
    expectTypeOf<Parameters<Engine["formSessions"]["create"]>[2]>().toEqualTypeOf<
      | { expiresIn?: number; prefill?: Record<string, string | number | boolean>; metadata?: Record<string, unknown>; remindBefore?: number[] }
      | undefined
    >();
    expect(typeof wrongCalls).toBe("function");
  });

  it("still refuse at run time what a JavaScript caller gets wrong, naming the field", async () => {
    const engine = createEngine({ store: new MemoryStore(), clock: () => 1_700_000_000_000 });
    await engine.forms.create(ORG, { name: "Intake", slug: "intake", fields: [{ name: "email", type: "email" }] });
    const untyped = engine.formSessions as unknown as { create(org: string, form: string, input: unknown): Promise<unknown> };
    await expect(untyped.create(ORG, "intake", { expires_in: 60 })).rejects.toThrow("expires_in is not a known field");
    await expect(engine.formSessions.list(ORG, { status: "closed" as FormSessionStatus })).rejects.toThrow(
      "status: must be one of created, open, submitted, expired",
    );
  });
});

/** Thread calls that must not compile; never run. */
function wrongThreadCalls(engine: Engine): void {
  // @ts-expect-error seed 002's snake_case is the wire's; the engine takes contextVariables
  void engine.threads.create(ORG, { context_variables: { PLAN: "pro" } });
  // @ts-expect-error a patch of context variables is an object
  void engine.threads.updateContext(ORG, "thread_x", { contextVariables: "PLAN=pro" });
  // @ts-expect-error seed 002's expires_in is expiresIn to the engine
  void engine.threads.proposeAction(ORG, "thread_x", { tool: "send_email", preview: {}, expires_in: 60 });
  // @ts-expect-error a decision is a boolean
  void engine.threads.decideAction(ORG, "thread_x", "act_x", { confirmed: "yes" });
  // @ts-expect-error `open` is a form session's status, not a thread's
  void engine.threads.list(ORG, { status: "open" });
}

describe("the thread operations' types", () => {
  it("take typed camelCase inputs and return typed threads and actions", () => {
    expectTypeOf<Engine["threads"]["create"]>().returns.resolves.toEqualTypeOf<Thread>();
    expectTypeOf<Engine["threads"]["list"]>().returns.resolves.toEqualTypeOf<Page<Thread>>();
    expectTypeOf<Engine["threads"]["proposeAction"]>().returns.resolves.toEqualTypeOf<ProposedAction>();
    expectTypeOf<Thread["status"]>().toEqualTypeOf<ThreadStatus>();
    expectTypeOf<Parameters<Engine["threads"]["proposeAction"]>[2]>().toEqualTypeOf<{
      tool: string;
      preview: Record<string, unknown>;
      expiresIn?: number;
      args?: unknown;
      argsSchema?: Record<string, unknown>;
      approvers?: string[];
      approvalsRequired?: number;
      onExpire?: "cancel" | "deny";
      remindBefore?: number[];
    }>();
    expect(typeof wrongThreadCalls).toBe("function");
  });

  it("still refuse at run time what a JavaScript caller gets wrong, naming the field", async () => {
    const engine = createEngine({ store: new MemoryStore(), clock: () => 1_700_000_000_000 });
    const untyped = engine.threads as unknown as { create(org: string, input: unknown): Promise<unknown> };
    await expect(untyped.create(ORG, { context_variables: { PLAN: "pro" } })).rejects.toThrow("context_variables is not a known field");
    await expect(engine.threads.list(ORG, { status: "open" as ThreadStatus })).rejects.toThrow("status: must be one of active, closed");
  });
});
