import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, it } from "vitest";
import { retryDelay } from "../src/engine/records.js";
import { createEngine, type RecordWrite } from "../src/index.js";

const ORG = "org_00000000000000000000000000000001";

/** A memory store that counts compare-and-sets, and lets a test write first, as another instance would. */
class RacedStore extends MemoryStore {
  lost = 0;
  /** Runs before the next compare-and-sets, once each: another instance's write landing first. */
  readonly before: Array<() => Promise<void>> = [];

  override async compareAndSet(write: RecordWrite & { expectedVersion: number }): Promise<boolean> {
    const interloper = this.before.shift();
    if (interloper) await interloper();
    const saved = await super.compareAndSet(write);
    if (!saved) this.lost++;
    return saved;
  }
}

describe("engine: concurrent writes of one record", () => {
  it("takes turns within one engine: thirty messages into one inbox, none lost, no write lost", async () => {
    const store = new RacedStore();
    const engine = createEngine({ store });
    const session = await engine.workflows.create(ORG, { name: "signup" });
    const inbox = await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 3600 });
    const sent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => engine.workflows.postMessage(ORG, inbox.id, { from: "a@example.com", subject: "s", body: `#${i}` })),
    );
    expect(new Set(sent.map((message) => message.id)).size).toBe(30);
    expect((await engine.workflows.getInbox(ORG, inbox.id)).messages).toHaveLength(30);
    expect(store.lost).toBe(0);
  });

  it("applies a command again to what another instance wrote, instead of answering a conflict", async () => {
    const store = new RacedStore();
    const engine = createEngine({ store });
    const thread = await engine.threads.create(ORG, {});
    // Another instance's update lands before each of this engine's first three attempts.
    for (let i = 0; i < 3; i++) {
      store.before.push(async () => {
        const record = (await store.get(ORG, thread.id))!;
        const data = record.data as { contextVariables: Record<string, unknown> };
        await MemoryStore.prototype.compareAndSet.call(store, {
          record: {
            ...record,
            version: record.version + 1,
            data: { ...data, contextVariables: { ...data.contextVariables, [`OTHER_${i}`]: i } },
          },
          events: [],
          expectedVersion: record.version,
        });
      });
    }
    const updated = await engine.threads.updateContext(ORG, thread.id, { contextVariables: { MINE: "yes" } });
    expect(store.lost).toBe(3);
    expect(updated.contextVariables).toEqual({ OTHER_0: 0, OTHER_1: 1, OTHER_2: 2, MINE: "yes" });
    expect((await engine.threads.get(ORG, thread.id)).contextVariables).toEqual(updated.contextVariables);
  });

  it("gives up with a version conflict once its retries are spent", async () => {
    const store = new RacedStore();
    const engine = createEngine({ store, maxRetries: 2 });
    const thread = await engine.threads.create(ORG, {});
    for (let i = 0; i < 3; i++) {
      store.before.push(async () => {
        const record = (await store.get(ORG, thread.id))!;
        await MemoryStore.prototype.compareAndSet.call(store, {
          record: { ...record, version: record.version + 1 },
          events: [],
          expectedVersion: record.version,
        });
      });
    }
    await expect(engine.threads.updateContext(ORG, thread.id, { contextVariables: { MINE: "yes" } })).rejects.toMatchObject({
      code: "version_conflict",
    });
    expect(store.lost).toBe(3);
  });

  it("spreads retries over a window that grows to at most 50 ms", () => {
    for (let attempt = 2; attempt < 20; attempt++) {
      const window = Math.min(50, 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const delay = retryDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(window);
      }
    }
  });
});
