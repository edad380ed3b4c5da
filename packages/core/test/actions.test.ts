import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, it } from "vitest";
import { createEngine, type Store } from "../src/index.js";

const ORG = "org_00000000000000000000000000000001";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);

describe("an executor whose every run takes its worker down", () => {
  it("ends in failed once maxActionAttempts runs began, counting runs a crash cut short", async () => {
    const store: Store = new MemoryStore();
    const clock = { now: T0 };
    // Each engine stands for a process: its executor never returns, as if the process died mid-run.
    const instance = () =>
      createEngine({ store, clock: () => clock.now, maxActionAttempts: 2, actions: { send_email: () => new Promise(() => {}) } });
    const first = instance();
    const thread = await first.threads.create(ORG, {});
    const action = await first.threads.proposeAction(ORG, thread.id, { tool: "send_email", preview: { to: "a@b.co" } });
    await first.threads.decideAction(ORG, thread.id, action.id, { confirmed: true });

    const runsBegun = async (count: number) => {
      for (let wait = 0; wait < 200 && (await first.threads.getAction(ORG, thread.id, action.id)).runs < count; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect((await first.threads.getAction(ORG, thread.id, action.id)).runs).toBe(count);
    };
    void first.tick(clock.now, { leaseMs: 1000 }); // hangs in the executor: run 1 begun, never finished
    await runsBegun(1);
    clock.now += 1001; // the lease runs out; another instance takes the message over
    void instance().tick(clock.now, { leaseMs: 1000 });
    await runsBegun(2);
    clock.now += 1001;
    expect(await instance().tick(clock.now, { leaseMs: 1000 })).toMatchObject({ actions: 1 });

    const ended = await first.threads.getAction(ORG, thread.id, action.id);
    expect(ended).toMatchObject({
      status: "failed",
      runs: 2,
      error: "gave up after 2 runs of the executor, 2 of them cut short (its worker stopped or lost its lease mid-run)",
    });
    const types = (await first.timeline(ORG, thread.id)).map((event) => event.type);
    expect(types.filter((type) => type.startsWith("action."))).toEqual(["action.proposed", "action.confirmed", "action.failed"]);
    expect(await instance().tick(clock.now + 60_000)).toMatchObject({ actions: 0 }); // nothing left to run
  });
});
