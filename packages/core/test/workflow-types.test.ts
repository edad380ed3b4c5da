// Workflow sessions' engine API is typed like the rest (see engine-types.test.ts): each
// `@ts-expect-error` below fails `pnpm typecheck` the day the line it marks compiles.
import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createEngine,
  type Engine,
  type Inbox,
  type InboxWithMessages,
  type Message,
  type Page,
  type Step,
  type Wait,
  type WaitWithSession,
  type Workflow,
} from "../src/index.js";

const ORG = "org_00000000000000000000000000000001";
type Workflows = Engine["workflows"];

/** Calls that must not compile; never run (the engine would refuse each at run time). */
function wrongCalls(workflows: Workflows): void {
  // @ts-expect-error `closed` is a thread's status, not a workflow session's
  void workflows.list(ORG, { status: "closed" });
  // @ts-expect-error a typo in a field name
  void workflows.createInbox(ORG, "sess_x", { ttlSecond: 3600 });
  // @ts-expect-error a timeout is a number of seconds
  void workflows.createWait(ORG, "sess_x", { type: "otp", inboxId: "inb_x", timeoutSeconds: "120" });
  // @ts-expect-error a wait is for a message or a one-time code
  void workflows.createWait(ORG, "sess_x", { type: "sms", inboxId: "inb_x", timeoutSeconds: 120 });
  // @ts-expect-error a workflow session has no lifetime
  void workflows.create(ORG, { name: "signup", expiresIn: 60 });
  // @ts-expect-error the reason a session failed is given as `{ reason }`
  void workflows.fail(ORG, "sess_x", "captcha");
}

describe("the workflow engine's types", () => {
  it("take typed inputs and return typed resources", () => {
    expectTypeOf<Workflows["create"]>().returns.resolves.toEqualTypeOf<Workflow>();
    expectTypeOf<Workflows["list"]>().returns.resolves.toEqualTypeOf<Page<Workflow>>();
    expectTypeOf<Workflows["fail"]>().returns.resolves.toEqualTypeOf<Workflow>();
    expectTypeOf<Workflows["recordStep"]>().returns.resolves.toEqualTypeOf<Step>();
    expectTypeOf<Workflows["replay"]>().returns.resolves.toEqualTypeOf<Step[]>();
    expectTypeOf<Workflows["createInbox"]>().returns.resolves.toEqualTypeOf<Inbox>();
    expectTypeOf<Workflows["getInbox"]>().returns.resolves.toEqualTypeOf<InboxWithMessages>();
    expectTypeOf<Workflows["postMessage"]>().returns.resolves.toEqualTypeOf<Message>();
    expectTypeOf<Workflows["createWait"]>().returns.resolves.toEqualTypeOf<Wait>();
    expectTypeOf<Workflows["getWait"]>().returns.resolves.toEqualTypeOf<WaitWithSession>();
    expectTypeOf<Parameters<Workflows["createWait"]>[2]>().toEqualTypeOf<{
      type: "otp" | "message";
      inboxId: string;
      timeoutSeconds: number;
      onTimeout?: "fail" | { resolve_with: unknown };
      pattern?: string;
      since?: string;
      remindBefore?: number[];
    }>();
    expect(typeof wrongCalls).toBe("function");
  });

  it("still refuse at run time what a JavaScript caller gets wrong, naming the field", async () => {
    const engine = createEngine({ store: new MemoryStore(), clock: () => 1_700_000_000_000 });
    const session = await engine.workflows.create(ORG, { name: "signup" });
    const untyped = engine.workflows as unknown as { createInbox(org: string, id: string, input: unknown): Promise<unknown> };
    await expect(untyped.createInbox(ORG, session.id, { ttl_seconds: 60 })).rejects.toThrow("ttl_seconds is not a known field");
    await expect(engine.workflows.fail(ORG, session.id, "captcha" as unknown as { reason: string })).rejects.toThrow("must be a JSON object");
  });
});
