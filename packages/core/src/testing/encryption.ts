import { toHex } from "../bytes.js";
import { type Codec, createAesGcmCodec, type EncryptionKey, isEncryptedValue } from "../encryption.js";
import { createEngine, type Engine, type EngineOptions } from "../engine/engine.js";
import type { SessionEvent } from "../schemas/event.js";
import type { Store, StoreCapabilities } from "../store.js";
import { T0 } from "./fixtures.js";
import type { StoreSuiteOptions, TestRunner } from "./runner.js";
import { memoryReceiver } from "./worker.js";

type RawDump = NonNullable<StoreSuiteOptions["rawDump"]>;

/** A new key of the ring, 32 random bytes. */
function newKey(id: string): EncryptionKey {
  return { id, key: globalThis.crypto.getRandomValues(new Uint8Array(32)) };
}

/** Text that appears nowhere unless this test wrote it: `marker("prefill")`, `marker("message")`… */
function markers(): (name: string) => string {
  const run = toHex(globalThis.crypto.getRandomValues(new Uint8Array(6)));
  return (name) => `plaintext-${run}-${name}`;
}

/**
 * Encryption at rest, over the engine (`createEngine({ codec })`) on the suite's store: every
 * kind's sensitive values read back equal while no raw row or key holds them (with `rawDump`);
 * a rotated key ring reads what older keys wrote and writes with the new one; records written
 * before a codec was added stay readable; a ciphertext copied to another record does not decrypt.
 */
export function describeEncryption(
  test: TestRunner,
  context: () => { store: Store; org: string },
  options: { readonly capabilities: Required<StoreCapabilities>; readonly rawDump: RawDump | undefined },
): void {
  const { describe, it, expect, afterEach } = test;
  const { capabilities, rawDump } = options;
  const engines: Engine[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.close()));
  });
  const engineOver = (store: Store, codec: Codec | undefined, more: Partial<EngineOptions> = {}): Engine => {
    const engine = createEngine({ store, clock: () => T0, ...(codec ? { codec } : {}), ...more });
    engines.push(engine);
    return engine;
  };
  /** The raw rows that hold `text`; none is the point. */
  const rawRowsWith = async (store: Store, text: string) => (await rawDump!(store)).filter((row) => row.includes(text));
  const itWithDump = (title: string, body: () => Promise<void>) =>
    rawDump ? it(title, body) : it.skip(`${title} (skipped: the adapter's test passes no rawDump)`, () => {});

  describe("encryption at rest", () => {
    itWithDump("keeps every value people and agents wrote out of the raw rows and keys, and reads each back equal", async () => {
      const { store, org } = context();
      const marker = markers();
      const receiver = memoryReceiver();
      const engine = engineOver(store, createAesGcmCodec({ keys: [newKey("k1")] }), {
        fetch: receiver.fetch!,
        webhooks: { allowPrivateAddresses: true },
        actions: { send_email: () => ({ receipt: marker("action-result") }) },
      });
      const written = new Map<string, SessionEvent[]>();
      engine.events.on("*", (_type, event) => {
        written.set(event.recordId, [...(written.get(event.recordId) ?? []), event]);
      });

      const webhook = await engine.webhooks.create(org, { url: receiver.url, description: marker("webhook-description") });
      const form = await engine.forms.create(org, {
        name: "Intake",
        fields: [{ name: "answer", type: "text", required: true }],
        metadata: { note: marker("form-metadata") },
      });
      const session = await engine.formSessions.create(org, form.id, {
        prefill: { answer: marker("prefill") },
        metadata: { m: marker("session-metadata") },
      });
      const submitted = capabilities.unscopedReads ? await engine.formSessions.submit(session.id, { values: { answer: marker("submitted") } }) : null;
      const workflow = await engine.workflows.create(org, { name: "Signup", metadata: { m: marker("workflow-metadata") } });
      const inbox = await engine.workflows.createInbox(org, workflow.id, { ttlSeconds: 600 });
      await engine.workflows.postMessage(org, inbox.id, { from: "a@example.com", subject: marker("subject"), body: marker("message-body") });
      await engine.workflows.recordStep(org, workflow.id, {
        action: "lookup",
        input: { q: marker("step-input") },
        output: marker("step-output"),
        durationMs: 3,
      });
      const thread = await engine.threads.create(org, {
        contextVariables: { USER_PLAN: marker("context") },
        metadata: { m: marker("thread-metadata") },
      });
      const action = await engine.threads.proposeAction(org, thread.id, {
        tool: "send_email",
        preview: { text: marker("preview") },
        args: { to: marker("args") },
      });
      await engine.threads.decideAction(org, thread.id, action.id, { confirmed: true });
      const agent = await engine.agents.create(org, { name: "Helper", metadata: { m: marker("agent-metadata") } });
      const agentSession = await engine.agentSessions.create(org, { agentId: agent.id, title: marker("agent-title") });
      await engine.agentSessions.postMessage(org, agentSession.id, { role: "user", content: marker("agent-message") });
      const response = { status: 201, body: { metadata: marker("idempotent-response") } };
      if (engine.idempotency) {
        await engine.idempotency.reserveIdempotencyKey(org, "create-1", { fingerprint: "f1", expiresAt: T0 + 60_000, response: null }, T0);
        await engine.idempotency.completeIdempotencyKey(org, "create-1", response);
      }

      // Before the worker ran, the outbox holds the deliveries and the action to run.
      const ids = [webhook.id, form.id, session.id, workflow.id, thread.id, agent.id, agentSession.id];
      const before = await rawDump!(store);
      expect(
        ids.filter((id) => !before.some((row) => row.includes(id))),
        "record ids stay clear in the raw rows",
      ).toEqual([]);
      expect(await rawRowsWith(store, marker(""))).toEqual([]);

      await engine.tick(T0);
      expect(await rawRowsWith(store, marker(""))).toEqual([]);

      // Read back through the codec: records, timelines, the delivery log, the outbox as sent.
      const read = await engine.formSessions.get(org, session.id);
      expect(read).toMatchObject({ prefill: { answer: marker("prefill") }, metadata: { m: marker("session-metadata") } });
      if (submitted) expect(read).toEqual(submitted);
      expect((await engine.forms.get(org, form.id)).metadata).toEqual({ note: marker("form-metadata") });
      expect((await engine.workflows.getInbox(org, inbox.id)).messages).toMatchObject([{ subject: marker("subject"), body: marker("message-body") }]);
      expect((await engine.workflows.replay(org, workflow.id)).at(-1)).toMatchObject({
        input: { q: marker("step-input") },
        output: marker("step-output"),
      });
      expect((await engine.threads.get(org, thread.id)).contextVariables).toEqual({ USER_PLAN: marker("context") });
      expect(await engine.threads.getAction(org, thread.id, action.id)).toMatchObject({
        preview: { text: marker("preview") },
        args: { to: marker("args") },
        result: { receipt: marker("action-result") },
      });
      expect(JSON.stringify(await engine.agentSessions.get(org, agentSession.id))).toContain(marker("agent-message").slice(0, 20));
      expect((await engine.webhooks.get(org, webhook.id)).description).toBe(marker("webhook-description"));
      const deliveries = await engine.webhooks.deliveries(org, webhook.id, { limit: 100 });
      expect(deliveries.total).toBe(receiver.received.length);
      // The deliveries left the outbox decrypted: the receiver got the values people wrote.
      expect(receiver.received.filter((request) => request.body.includes(marker(""))).length).toBeGreaterThan(0);
      for (const [recordId, events] of written) expect(await engine.timeline(org, recordId), recordId).toEqual(events);
      if (engine.idempotency) {
        const again = await engine.idempotency.reserveIdempotencyKey(
          org,
          "create-1",
          { fingerprint: "f1", expiresAt: T0 + 60_000, response: null },
          T0,
        );
        expect(again).toEqual({ fingerprint: "f1", expiresAt: T0 + 60_000, response });
      }
    });

    it("reads what an older key wrote after a rotation, writes with the new key, and names a key the ring lacks", async () => {
      const { store, org } = context();
      const marker = markers();
      const [k1, k2] = [newKey("k1"), newKey("k2")];
      const before = engineOver(store, createAesGcmCodec({ keys: [k1] }));
      const thread = await before.threads.create(org, { contextVariables: { PLAN: marker("old") } });
      const rotated = engineOver(store, createAesGcmCodec({ keys: [k2, k1] }));
      expect(await rotated.threads.get(org, thread.id)).toEqual(thread);
      await rotated.threads.updateContext(org, thread.id, { contextVariables: { NEXT: marker("new") } });
      const stored = await store.get(org, thread.id);
      expect(isEncryptedValue(stored?.data) && stored.data.kid).toBe("k2");
      const timeline = await store.timeline(org, thread.id);
      expect(timeline.map((event) => (event.payload as { kid?: unknown }).kid)).toEqual(["k1", "k2"]);

      // The record was written again with k2; its first event was not, and k1 is gone from this ring.
      const withoutK1 = engineOver(store, createAesGcmCodec({ keys: [k2] }));
      expect((await withoutK1.threads.get(org, thread.id)).contextVariables).toEqual({ PLAN: marker("old"), NEXT: marker("new") });
      await expect(withoutK1.timeline(org, thread.id)).rejects.toMatchObject({
        code: "internal",
        message: expect.stringContaining('key "k1", which is not in the key ring (k2)'),
      });
    });

    it("reads records written before a codec was added, and encrypts what is written after", async () => {
      const { store, org } = context();
      const marker = markers();
      const plain = engineOver(store, undefined);
      const thread = await plain.threads.create(org, { contextVariables: { PLAN: marker("before") } });
      if (rawDump) expect((await rawRowsWith(store, marker("before"))).length, "the raw dump shows an unencrypted value").toBeGreaterThan(0);
      const encrypted = engineOver(store, createAesGcmCodec({ keys: [newKey("k1")] }));
      expect(await encrypted.threads.get(org, thread.id)).toEqual(thread);
      const updated = await encrypted.threads.updateContext(org, thread.id, { contextVariables: { LATER: marker("after") } });
      expect(await encrypted.threads.get(org, thread.id)).toEqual(updated);
      expect((await encrypted.timeline(org, thread.id)).map((event) => event.seq)).toEqual([1, 2]);
      expect(isEncryptedValue((await store.get(org, thread.id))?.data)).toBe(true);
      if (rawDump) expect(await rawRowsWith(store, marker("after"))).toEqual([]);
    });

    it("refuses a record whose ciphertext was copied from another record", async () => {
      const { store, org } = context();
      const engine = engineOver(store, createAesGcmCodec({ keys: [newKey("k1")] }));
      const source = await engine.threads.create(org, { contextVariables: { PLAN: "a" } });
      const target = await engine.threads.create(org, { contextVariables: { PLAN: "b" } });
      const [from, to] = [(await store.get(org, source.id))!, (await store.get(org, target.id))!];
      expect(
        await store.compareAndSet({ record: { ...to, version: to.version + 1, data: from.data }, events: [], expectedVersion: to.version }),
      ).toBe(true);
      await expect(engine.threads.get(org, target.id)).rejects.toMatchObject({
        code: "internal",
        message: expect.stringContaining(`record:${org}:${target.id} does not decrypt with key "k1"`),
      });
      expect(await engine.threads.get(org, source.id)).toEqual(source);
    });
  });
}
