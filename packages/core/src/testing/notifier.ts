import type { StoreNotifier } from "../store.js";
import type { SuiteContext } from "./failed-writes.js";
import { id } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

type Heard = [orgId: string, recordId: string, seq: number | undefined];

/** A listener that keeps what it hears. */
function ear(): { heard: Heard[]; listener: (orgId: string, recordId: string, seq?: number) => void } {
  const heard: Heard[] = [];
  return { heard, listener: (orgId, recordId, seq) => void heard.push([orgId, recordId, seq]) };
}

/**
 * Announces from `from` until `done` holds: a networked notifier subscribes in the background,
 * and an announcement made before that is lost, as the contract allows.
 */
async function announceUntil(from: StoreNotifier, heard: Heard, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`no notifier heard ${JSON.stringify(heard)} within 10 s`);
    await from.publish(...heard);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * `createNotifier()`: an announcement reaches every notifier the store made (the announcing one
 * included) with its organization, record id and `seq` (or none); a listener that unsubscribed,
 * or whose notifier closed, hears nothing more.
 */
export function describeNotifier(test: TestRunner, context: () => SuiteContext): void {
  const { it, expect } = test;
  const notifiers: StoreNotifier[] = [];
  const notifier = () => {
    const made = context().store.createNotifier!();
    notifiers.push(made);
    return made;
  };
  test.afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((made) => made.close()));
  });

  it("carries an announcement to every notifier of the store, its own included, with or without a seq", async () => {
    const { org } = context();
    const [a, b] = [notifier(), notifier()];
    const [onA, onB] = [ear(), ear()];
    a.subscribe(onA.listener);
    b.subscribe(onB.listener);
    const first: Heard = [org, id(), 7];
    await announceUntil(a, first, () => onA.heard.length > 0 && onB.heard.length > 0);
    for (const heard of [...onA.heard, ...onB.heard]) expect(heard).toEqual(first);
    const second: Heard = [org, id(), undefined];
    await announceUntil(b, second, () => onA.heard.some((h) => h[1] === second[1]) && onB.heard.some((h) => h[1] === second[1]));
    expect(onA.heard.filter((h) => h[1] === second[1])[0]).toEqual(second);
  });

  it("tells nothing more to a listener that unsubscribed, or whose notifier closed", async () => {
    const { org } = context();
    const [a, b, c] = [notifier(), notifier(), notifier()];
    const [stays, leaves, closed] = [ear(), ear(), ear()];
    b.subscribe(stays.listener);
    const unsubscribe = b.subscribe(leaves.listener);
    c.subscribe(closed.listener);
    const before: Heard = [org, id(), 1];
    await announceUntil(a, before, () => [stays, leaves, closed].every((e) => e.heard.length > 0));
    unsubscribe();
    await c.close();
    const after: Heard = [org, id(), 2];
    await announceUntil(a, after, () => stays.heard.some((h) => h[1] === after[1]));
    expect(leaves.heard.filter((h) => h[1] === after[1])).toEqual([]);
    expect(closed.heard.filter((h) => h[1] === after[1])).toEqual([]);
  });
}
