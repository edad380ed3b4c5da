// Issue 20 item 4: `serve` killed with SIGKILL under load on every durable store, and three
// instances on one store with one killed after a burst of deadlines. Nothing acknowledged is lost,
// nothing is half-written, and every committed event reaches the webhook receiver under one id.
import { describe, it } from "vitest";
import { type CommittedEvent, checkDurability, readTimeline } from "./crash-checks.js";
import {
  call,
  type Delivery,
  mapLimit,
  percentile,
  pollUntil,
  portOwners,
  read,
  readAll,
  ServeInstance,
  signal,
  startReceiver,
  type WebhookReceiver,
} from "./crash-harness.js";
import { CRASH_FORM, CrashLoad } from "./crash-load.js";
import { DURABLE_STORES, type DurableStore, type DurableStoreName, usable } from "./durable-stores.js";

const STORE_NAMES = Object.keys(DURABLE_STORES) as DurableStoreName[];
const IN_FLIGHT = 32;
const KILLS = 3;
/** How long the load runs before the first kill and after each restart. */
const LOAD_MS = 2000;
/**
 * The bound on waiting for deliveries after the load. A killed instance's claimed outbox messages
 * and deadlines pass on when their lease ends, 3 s after its last heartbeat; the bound leaves a
 * loaded machine ample room beyond that.
 */
const DELIVERY_WAIT_MS = 45_000;
const BURST = 300;
/** Deadline → arrival p99 the issue asks for with one of three instances killed. */
const P99_LIMIT_MS = 6000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Creates the form and a webhook endpoint taking `events` (every event when empty); the endpoint's id. */
async function setUp(base: string, receiver: WebhookReceiver, events: string[]): Promise<{ formId: string; webhookId: string }> {
  // The endpoint first: the form's own creation is an event it is to receive.
  const webhook = await call(base, "POST", "/v1/webhooks", { url: receiver.url, ...(events.length > 0 ? { events } : {}) });
  const form = await call(base, "POST", "/v1/forms", {
    name: "Crash",
    slug: CRASH_FORM,
    fields: [{ name: "email", label: "Email", type: "email", required: true }],
  });
  if (form.status !== 201 || webhook.status !== 201) throw new Error(`set-up refused: ${JSON.stringify([form.body, webhook.body])}`);
  return { formId: form.body.id, webhookId: webhook.body.id };
}

/** The committed events the receiver has not got yet. */
function undelivered(committed: ReadonlyMap<string, CommittedEvent>, deliveries: readonly Delivery[]): CommittedEvent[] {
  const received = new Set(deliveries.map((delivery) => delivery.id));
  return [...committed.values()].filter((event) => !received.has(event.id));
}

/** Each delivery that is no committed event, or that carries another event's type or time under its id. */
function strayDeliveries(committed: ReadonlyMap<string, CommittedEvent>, deliveries: readonly Delivery[]): string[] {
  return deliveries.flatMap((delivery) => {
    const event = committed.get(delivery.id);
    if (!event) return [`${delivery.id} (${delivery.type}) is no committed event`];
    if (event.type !== delivery.type || event.timestamp !== delivery.timestamp) {
      return [`${delivery.id} came as ${delivery.type} at ${delivery.timestamp}, committed as ${event.type} at ${event.timestamp}`];
    }
    return [];
  });
}

/** Runs `body` with a receiver, and cleans the store and the receiver up after it. */
async function withStore(store: DurableStore, body: (receiver: WebhookReceiver) => Promise<void>): Promise<void> {
  const receiver = await startReceiver();
  try {
    await body(receiver);
  } finally {
    await receiver.close();
    await store.cleanup().catch((error: unknown) => console.warn(`could not clean up ${store.name}: ${String(error)}`));
  }
}

describe.concurrent("serve killed with SIGKILL under load", () => {
  for (const name of STORE_NAMES) {
    it(`${name}: ${KILLS} kills with ${IN_FLIGHT} requests in flight lose no acknowledged write, leave no half state, deliver every committed event under its id, and the delivery log agrees with the receiver`, async ({
      expect,
      skip,
    }) => {
      const store = DURABLE_STORES[name]("crash");
      if (!(await usable(store, "the crash test"))) return skip();
      await withStore(store, async (receiver) => {
        const instance = await ServeInstance.start(store.url);
        try {
          const { formId, webhookId } = await setUp(instance.url, receiver, []);
          const load = new CrashLoad(instance);
          const running = load.run(IN_FLIGHT);
          try {
            await sleep(LOAD_MS);
            for (let kill = 0; kill < KILLS; kill++) {
              await load.crash();
              await sleep(LOAD_MS);
            }
          } finally {
            load.stopped = true;
            await running;
          }
          expect(load.kills, "kills made").toBe(KILLS);
          expect(load.refused, "answers other than 2xx or none").toEqual([]);

          const findings = await checkDurability(instance.url, load, formId);
          expect(findings.problems, "acknowledged writes lost, half states, or lists that disagree with reads").toEqual([]);

          // Every committed event at the receiver, and the log agreeing with it: as many attempts of
          // each event as requests the receiver got or more (an attempt whose sender died before
          // its request left is logged, as unknown), no more attempts with an answer than requests,
          // and none still shown as in flight once every sender is done or gone.
          let disagreements: string[] = [];
          const agreed = async () => {
            const attempts = (await readAll(instance.url, `/v1/webhooks/${webhookId}/deliveries`)).items;
            const logged = countBy(attempts.map((attempt) => attempt.event_id));
            const answered = countBy(attempts.filter((attempt) => attempt.status_code !== null).map((attempt) => attempt.event_id));
            const got = countBy(receiver.deliveries.map((delivery) => delivery.id));
            disagreements = [
              ...[...got]
                .filter(([id, count]) => (logged.get(id) ?? 0) < count)
                .map(([id, count]) => `${id}: received ${count}, logged ${logged.get(id) ?? 0}`),
              ...[...answered]
                .filter(([id, count]) => (got.get(id) ?? 0) < count)
                .map(([id, count]) => `${id}: ${count} answered in the log, received ${got.get(id) ?? 0}`),
              ...attempts
                .filter((attempt) => attempt.status === "started")
                .map((attempt) => `${attempt.event_id}: attempt ${attempt.attempt} still started`),
            ];
            return disagreements.length === 0;
          };
          await pollUntil(async () => undelivered(findings.committed, receiver.deliveries).length === 0 && (await agreed()), DELIVERY_WAIT_MS, 500);
          const missing = undelivered(findings.committed, receiver.deliveries).map((event) => `${event.recordId} ${event.type} ${event.id}`);
          expect(missing, `committed events the receiver did not get within ${DELIVERY_WAIT_MS} ms`).toEqual([]);
          expect(strayDeliveries(findings.committed, receiver.deliveries), "deliveries under an id that is not their event's").toEqual([]);
          await agreed();
          expect(disagreements, "events on which the delivery log and the receiver disagree").toEqual([]);
          const repeated = receiver.deliveries.length - new Set(receiver.deliveries.map((delivery) => delivery.id)).size;
          console.log(
            `crash on ${name}: ${load.kills} kills, ${load.acknowledgedWrites} acknowledged writes, ${load.unanswered} unanswered, ` +
              `${findings.records} sessions, ${findings.committed.size} events, ${receiver.deliveries.length} deliveries (${repeated} repeated)`,
          );
        } finally {
          await instance.kill();
        }
      });
    }, 180_000);
  }
});

/**
 * One store's burst at a time: each starts once every store's instances are up and the previous
 * store's expiries have all arrived, or `TURN_MS` after its kill, so each latency is measured
 * without another burst beside it while the waits for leases overlap.
 */
class BurstTurns {
  private readonly setUp = STORE_NAMES.map(signal);
  private readonly delivered = STORE_NAMES.map(signal);

  /** Says store `index` is set up (or will not run). */
  ready(index: number): void {
    this.setUp[index]!.resolve();
  }

  /** Says store `index`'s burst is delivered, or is past its turn (or will not run). */
  done(index: number): void {
    this.delivered[index]!.resolve();
  }

  /** Resolves when store `index` may start its burst; `runs` says which of the stores' tests run at all (a filter may skip some). */
  async turn(index: number, runs: readonly boolean[]): Promise<void> {
    await Promise.all(this.setUp.filter((_, other) => runs[other]).map(({ promise }) => promise));
    const previous = index === 0 ? -1 : runs.lastIndexOf(true, index - 1);
    if (previous >= 0) await this.delivered[previous]!.promise;
  }
}

/** How long a store's burst holds the turn after its kill when not all of its expiries have arrived. */
const TURN_MS = 8000;
/** How far ahead of the burst's creation its deadlines are. */
const BURST_LEAD_MS = 5000;
const turns = new BurstTurns();

/**
 * The instance with the most deliveries held at the receiver: killing it leaves its claimed work
 * behind. The second instance when no sender can be told (off Linux).
 */
function busiest(instances: readonly ServeInstance[], receiver: WebhookReceiver): { victim: ServeInstance; held: number[] } {
  const owners = [
    ...portOwners(
      instances.map((instance) => instance.pid),
      receiver.heldPorts(),
    ).values(),
  ];
  const held = instances.map((instance) => owners.filter((pid) => pid === instance.pid).length);
  const most = Math.max(...held);
  return { victim: most > 0 ? instances[held.indexOf(most)]! : instances[1]!, held };
}

/** The session.expired deliveries the receiver got, by session. */
function expiriesBySession(receiver: WebhookReceiver): Map<string, Delivery[]> {
  const bySession = new Map<string, Delivery[]>();
  for (const delivery of receiver.deliveries) {
    if (delivery.type !== "session.expired") continue;
    const id = String(delivery.data.session_id);
    bySession.set(id, [...(bySession.get(id) ?? []), delivery]);
  }
  return bySession;
}

/** Creates `BURST` form sessions across `instances`, each due within half a second of `due` (expires_in counts whole seconds). */
async function createBurst(instances: readonly ServeInstance[], due: number): Promise<{ id: string; expiresAt: number }[]> {
  return mapLimit(
    Array.from({ length: BURST }, (_, n) => n),
    IN_FLIGHT,
    async (n) => {
      const expiresIn = Math.max(1, Math.round((due - Date.now()) / 1000));
      const created = await call(instances[n % instances.length]!.url, "POST", `/v1/forms/${CRASH_FORM}/sessions`, { expires_in: expiresIn });
      if (created.status !== 201) throw new Error(`session ${n} refused: ${created.status} ${JSON.stringify(created.body)}`);
      return { id: created.body.id as string, expiresAt: Date.parse(created.body.expires_at) };
    },
  );
}

/** Each session whose expiry is not in its timeline exactly once, or arrived under another id than the timeline's. */
async function expiryProblems(base: string, sessions: readonly { id: string }[], delivered: ReadonlyMap<string, Delivery[]>): Promise<string[]> {
  const problems: string[] = [];
  await mapLimit(sessions, 16, async ({ id }) => {
    const status = (await read(base, `/v1/sessions/${id}`)).status;
    const recorded = (await readTimeline(base, id, problems)).filter((event) => event.type === "session.expired").map((event) => event.id);
    const ids = [...new Set((delivered.get(id) ?? []).map((delivery) => delivery.id))];
    if (status !== "expired" || recorded.length !== 1) problems.push(`${id}: ${status}, expiry recorded ${recorded.length} times`);
    if (JSON.stringify(ids) !== JSON.stringify(recorded)) problems.push(`${id}: expiry ${recorded} delivered as ${ids}`);
  });
  return problems;
}

describe("three serve instances on one store, one killed a second after a burst of deadlines", () => {
  STORE_NAMES.forEach((name, index) => {
    it.concurrent(`${name}: every one of ${BURST} expiries is recorded once and delivered under its event's id, deadline → arrival p99 ≤ ${P99_LIMIT_MS} ms`, async ({
      expect,
      skip,
      task,
    }) => {
      const store = DURABLE_STORES[name]("burst");
      try {
        if (!(await usable(store, "the three-instance test"))) return skip();
        await withStore(store, async (receiver) => {
          const instances: ServeInstance[] = [];
          try {
            // The first migrates the store and creates the endpoint; the others start on both.
            instances.push(await ServeInstance.start(store.url));
            await setUp(instances[0]!.url, receiver, ["session.expired"]);
            instances.push(...(await Promise.all([ServeInstance.start(store.url), ServeInstance.start(store.url)])));
            turns.ready(index);
            await turns.turn(
              index,
              task.suite!.tasks.map((test) => test.mode === "run"),
            );

            // The receiver answers nothing until the kill, so every instance is mid-delivery then,
            // its window of claimed messages full: the killed one's claims are left behind, as when
            // a slow receiver keeps deliveries going past the kill (the run: p50 about 1 s).
            receiver.hold();
            const due = Date.now() + BURST_LEAD_MS;
            const sessions = await createBurst(instances, due);
            await sleep(due + 1000 - Date.now());
            const { victim, held } = busiest(instances, receiver);
            await victim.kill();
            const killedAt = Date.now();
            receiver.release();
            const allArrived = () => sessions.every(({ id }) => expiriesBySession(receiver).has(id));
            await pollUntil(allArrived, TURN_MS);
            turns.done(index);
            await pollUntil(allArrived, DELIVERY_WAIT_MS - TURN_MS);

            const delivered = expiriesBySession(receiver);
            const missing = sessions.filter(({ id }) => !delivered.has(id)).map(({ id }) => id);
            expect(missing, `sessions whose expiry did not arrive within ${DELIVERY_WAIT_MS} ms of the kill`).toEqual([]);
            const live = instances.find((instance) => instance !== victim)!;
            const problems = await expiryProblems(live.url, sessions, delivered);
            expect(problems, "expiries recorded other than once, or delivered under other ids").toEqual([]);

            const latencies = sessions.map(({ id, expiresAt }) => Math.min(...delivered.get(id)!.map((delivery) => delivery.arrivedAt)) - expiresAt);
            const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
            const late = latencies.filter((latency) => latency > P99_LIMIT_MS).length;
            const afterKill = sessions.filter(({ expiresAt }, n) => expiresAt + latencies[n]! > killedAt).length;
            const figures =
              `p50 ${p50} ms, p99 ${p99} ms; ${late} of ${BURST} later than ${P99_LIMIT_MS} ms, ${afterKill} arrived after the kill ` +
              `(deliveries held by instance: ${held.join(", ")}; killed the one with ${held[instances.indexOf(victim)]})`;
            console.log(`burst on ${name}: deadline → arrival ${figures}`);
            expect(p99, `deadline → arrival p99 (${figures})`).toBeLessThanOrEqual(P99_LIMIT_MS);
          } finally {
            await Promise.all(instances.map((instance) => instance.kill()));
          }
        });
      } finally {
        turns.ready(index);
        turns.done(index);
      }
    }, 150_000);
  });
});

/** How many times each value occurs. */
function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
