// The typed engine API of workflow sessions: a wrong field or a wrong status does not compile
// (`tsc -p tsconfig.json` at the repository root checks this file), and each operation returns its resource.
import { describe, expect, expectTypeOf, it } from "vitest";
import type { Engine, Inbox, InboxWithMessages, Message, Page, Step, Wait, WaitWithSession, Workflow } from "../src/index.js";

type Workflows = Engine["workflows"];

describe("engine.workflows types", () => {
  it("take their input types and return their resources (checked by tsc)", () => {
    expectTypeOf<Workflows["create"]>().returns.resolves.toEqualTypeOf<Workflow>();
    expectTypeOf<Workflows["list"]>().returns.resolves.toEqualTypeOf<Page<Workflow>>();
    expectTypeOf<Workflows["recordStep"]>().returns.resolves.toEqualTypeOf<Step>();
    expectTypeOf<Workflows["replay"]>().returns.resolves.toEqualTypeOf<Step[]>();
    expectTypeOf<Workflows["createInbox"]>().returns.resolves.toEqualTypeOf<Inbox>();
    expectTypeOf<Workflows["getInbox"]>().returns.resolves.toEqualTypeOf<InboxWithMessages>();
    expectTypeOf<Workflows["postMessage"]>().returns.resolves.toEqualTypeOf<Message>();
    expectTypeOf<Workflows["createWait"]>().returns.resolves.toEqualTypeOf<Wait>();
    expectTypeOf<Workflows["getWait"]>().returns.resolves.toEqualTypeOf<WaitWithSession>();

    const calls = (workflows: Workflows) => [
      workflows.create("org", { name: "signup", metadata: { plan: "pro" } }),
      workflows.list("org", { status: "failed", limit: 10 }),
      workflows.fail("org", "sess_1", { reason: "captcha" }),
      workflows.createInbox("org", "sess_1", { ttlSeconds: 3600 }),
      workflows.createWait("org", "sess_1", { type: "otp", inboxId: "inb_1", timeoutSeconds: 120 }),
      workflows.recordStep("org", "sess_1", { action: "fetch_page", durationMs: 12, error: { message: "boom", critical: true } }),
      // @ts-expect-error: a status workflow sessions do not have
      workflows.list("org", { status: "closed" }),
      // @ts-expect-error: the wire's casing is not the engine's
      workflows.createInbox("org", "sess_1", { ttl_seconds: 3600 }),
      // @ts-expect-error: a field the input does not have
      workflows.create("org", { name: "signup", expiresIn: 60 }),
      // @ts-expect-error: a wait type that does not exist
      workflows.createWait("org", "sess_1", { type: "sms", inboxId: "inb_1", timeoutSeconds: 120 }),
      // @ts-expect-error: the reason is an input object
      workflows.fail("org", "sess_1", "captcha"),
    ];
    expect(typeof calls).toBe("function");
  });
});
