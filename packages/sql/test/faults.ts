// The shared shape of the fault tests: a second connection holds a lock a workflow's completion
// must wait for; once the database reports the store's connection blocked by it, that connection
// is killed. Nothing of the completion may remain, and the engine's next attempt must succeed.
import { createEngine } from "@agent-sessions/core";
import type { SqlStore } from "@agent-sessions/sql";
import { expect } from "vitest";

/** How one database lets a test hold a lock, find the connection it blocks, and kill that. */
export interface Interruption<Victim> {
  /** Opens a transaction on the second connection and takes the lock the completion of `id` will meet. */
  lock(id: string): Promise<void>;
  /** Resolves with the store's connection once the database reports it waiting for the lock. */
  blocked(): Promise<Victim>;
  /** Looks at the blocked connection before it is killed. */
  whileBlocked?(victim: Victim, id: string): Promise<void>;
  /** Kills the blocked connection and resolves once the store's pool has dropped it. */
  kill(victim: Victim): Promise<void>;
  /** Rolls back the second connection's transaction. */
  unlock(): Promise<void>;
}

/** Interrupts the completion of a fresh workflow as `interruption` says, and checks the outcome. */
export async function interruptCompletion<Victim>(store: SqlStore, org: string, interruption: Interruption<Victim>): Promise<void> {
  const engine = createEngine({ store });
  const { id } = await engine.workflows.create(org, { name: "fault" });
  await interruption.lock(id);
  try {
    const transition = engine.workflows.complete(org, id).then(
      () => "completed",
      (error: Error) => `failed: ${error.message}`,
    );
    const victim = await interruption.blocked();
    await interruption.whileBlocked?.(victim, id);
    await interruption.kill(victim);
    expect(await transition).toMatch(/^failed: /);
  } finally {
    await interruption.unlock();
  }
  // The old state, with none of the new events.
  expect(await store.get(org, id)).toMatchObject({ version: 1, status: "active", eventCount: 1 });
  expect((await store.timeline(org, id)).map((event) => event.type)).toEqual(["session.created"]);
  // The engine's next attempt writes the new state with its event.
  expect(await engine.workflows.complete(org, id)).toMatchObject({ status: "completed" });
  expect(await store.get(org, id)).toMatchObject({ version: 2, status: "completed", eventCount: 2 });
  expect((await store.timeline(org, id)).map((event) => event.type)).toEqual(["session.created", "session.completed"]);
}

/** Resolves once `check` holds, polling every 5 ms. */
export async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
}
