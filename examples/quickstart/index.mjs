// A form session from creation to submission, a workflow waiting for an OTP, and an expiry
// persisted by tick(): the engine on the in-memory store, with a clock we move by hand.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";

let now = Date.now();
const engine = createEngine({ store: new MemoryStore(), clock: () => now });
engine.events.on("*", (type, event) => console.log(`  event ${type.padEnd(20)} ${event.recordId}`));
const org = "org_00000000000000000000000000000001";

console.log("1. A form a person fills in before it expires");
await engine.forms.create(org, {
  name: "Support intake",
  slug: "support-intake",
  fields: [
    { name: "email", type: "email", required: true },
    { name: "issue", type: "textarea", required: true },
    { name: "session_id", type: "hidden" },
  ],
  allowPartial: true,
});
const form = await engine.formSessions.create(org, "support-intake", {
  expiresIn: 3600,
  prefill: { email: "user@example.com", session_id: "sess_internal_ref" },
  metadata: { thread_id: "thread_42" },
});
await engine.formSessions.open(form.id); // the person loads the hosted page
const submitted = await engine.formSessions.submit(form.id, { values: { issue: "Printer on fire", session_id: "forged" } });
console.log("  submission:", JSON.stringify(submitted.submission.values));

console.log("2. A workflow that waits for an OTP");
const workflow = await engine.workflows.create(org, { name: "user-signup-flow" });
const inbox = await engine.workflows.createInbox(org, workflow.id, { ttlSeconds: 3600 });
await engine.workflows.postMessage(org, inbox.id, { from: "no-reply@example.com", subject: "Your code", body: "Your code is 482913" });
const wait = await engine.workflows.createWait(org, workflow.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
console.log(`  wait ${wait.status}, code ${wait.result.code}`);

console.log("3. A session nobody opened expires; tick() records it once");
const unopened = await engine.formSessions.create(org, "support-intake", { expiresIn: 60 });
now += 61_000;
console.log(`  read before any sweep: ${(await engine.formSessions.get(org, unopened.id)).status}`);
console.log(`  tick: ${JSON.stringify(await engine.tick())}`);
console.log(`  tick again: ${JSON.stringify(await engine.tick())}`);
