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
  read,
  readAll,
  ServeInstance,
  startReceiver,
  type WebhookReceiver,
} from "./crash-harness.js";
import { CRASH_FORM, CrashLoad } from "./crash-load.js";
import { DURABLE_STORES, type DurableStore, type DurableStoreName, usable } from "./durable-stores.js";

const STORE_NAMES = Object.keys(DURABLE_STORES) as DurableStoreName[];
const IN_FLIGHT = 32;
const KILLS = 3;
/** How long the load runs before the first kill and after each restart. */
const LOAD_MS = 1500;
/**
 * The bound on waiting for deliveries after the load. A killed instance's claimed outbox messages
 * and deadlines pass on when their lease ends, 30 s after the claim today: the wait covers that.
 */
const DELIVERY_WAIT_MS = 45_000;
const BURST = 300;
/**
 * How long the burst's receiver takes to answer: the instances' deliveries (16 at a time each) are
 * still in flight, and more are claimed and waiting, when one instance is killed a second after the
 * deadlines, as in the issue's run (p50 about a second). With an instant receiver a fast machine has
 * sent everything before the kill, and the test would not see a dead instance's work wait.
 */
const RECEIVER_ANSWER_MS = 200;
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

/** Runs `body` with a receiver answering after `answerAfterMs`, and cleans the store and the receiver up after it. */
async function withStore(store: DurableStore, answerAfterMs: number, body: (receiver: WebhookReceiver) => Promise<void>): Promise<void> {
  const receiver = await startReceiver(answerAfterMs);
  try {
    await body(receiver);
  } finally {
    await receiver.close();
    await store.cleanup().catch((error: unknown) => console.warn(`could not clean up ${store.name}: ${String(error)}`));
  }
}

describe.concurrent("serve killed with SIGKILL under load", () => {
  for (const name of STORE_NAMES) {
    it(`${name}: ${KILLS} kills with ${IN_FLIGHT} requests in flight lose no acknowledged write, leave no half state, and deliver every committed event under its id`, async ({
      expect,
      skip,
    }) => {
      const store = DURABLE_STORES[name]("crash");
      if (!(await usable(store, "the crash test"))) return skip();
      await withStore(store, 0, async (receiver) => {
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

          await pollUntil(() => undelivered(findings.committed, receiver.deliveries).length === 0, DELIVERY_WAIT_MS);
          const missing = undelivered(findings.committed, receiver.deliveries).map((event) => `${event.recordId} ${event.type} ${event.id}`);
          expect(missing, `committed events the receiver did not get within ${DELIVERY_WAIT_MS} ms`).toEqual([]);
          expect(strayDeliveries(findings.committed, receiver.deliveries), "deliveries under an id that is not their event's").toEqual([]);

          const received = new Set(receiver.deliveries.map((delivery) => delivery.id));
          let unlogged: string[] = [];
          await pollUntil(
            async () => {
              const log = new Set((await readAll(instance.url, `/v1/webhooks/${webhookId}/deliveries`)).items.map((attempt) => attempt.event_id));
              unlogged = [...received].filter((id) => !log.has(id));
              return unlogged.length === 0;
            },
            15_000,
            500,
          );
          expect(unlogged, "events the receiver got that the delivery log holds no attempt of").toEqual([]);
          console.log(
            `crash on ${name}: ${load.kills} kills, ${load.acknowledgedWrites} acknowledged writes, ${load.unanswered} unanswered, ` +
              `${findings.records} sessions, ${findings.committed.size} events, ${receiver.deliveries.length} deliveries (${receiver.deliveries.length - received.size} repeated)`,
          );
        } finally {
          await instance.kill();
        }
      });
    }, 180_000);
  }
});

describe("three serve instances on one store, one killed after a burst of deadlines", () => {
  for (const name of STORE_NAMES) {
    it(`${name}: every one of ${BURST} expiries is recorded once and delivered under its event's id, deadline → arrival p99 ≤ ${P99_LIMIT_MS} ms`, async ({
      expect,
      skip,
    }) => {
      const store = DURABLE_STORES[name]("burst");
      if (!(await usable(store, "the three-instance test"))) return skip();
      await withStore(store, RECEIVER_ANSWER_MS, async (receiver) => {
        const instances: ServeInstance[] = [];
        try {
          // The first migrates the store and creates the endpoint; the others start on both.
          instances.push(await ServeInstance.start(store.url));
          await setUp(instances[0]!.url, receiver, ["session.expired"]);
          instances.push(...(await Promise.all([ServeInstance.start(store.url), ServeInstance.start(store.url)])));

          // Every deadline within half a second of `due`, a few seconds ahead (expires_in counts whole seconds).
          const due = Date.now() + 5000;
          const sessions = await mapLimit(
            Array.from({ length: BURST }, (_, n) => n),
            IN_FLIGHT,
            async (n) => {
              const expiresIn = Math.max(1, Math.round((due - Date.now()) / 1000));
              const created = await call(instances[n % 3]!.url, "POST", `/v1/forms/${CRASH_FORM}/sessions`, { expires_in: expiresIn });
              if (created.status !== 201) throw new Error(`session ${n} refused: ${created.status} ${JSON.stringify(created.body)}`);
              return { id: created.body.id as string, expiresAt: Date.parse(created.body.expires_at) };
            },
          );
          await sleep(due + 1000 - Date.now());
          await instances[1]!.kill();
          const killedAt = Date.now();

          const expiries = () => receiver.deliveries.filter((delivery) => delivery.type === "session.expired");
          const arrived = () => new Set(expiries().map((delivery) => delivery.data.session_id));
          await pollUntil(() => arrived().size >= BURST, DELIVERY_WAIT_MS);
          const got = arrived();
          expect(
            sessions.filter((session) => !got.has(session.id)).map((session) => session.id),
            `sessions whose expiry did not arrive within ${DELIVERY_WAIT_MS} ms`,
          ).toEqual([]);

          const live = instances[0]!.url;
          const problems: string[] = [];
          await mapLimit(sessions, 16, async ({ id }) => {
            const status = (await read(live, `/v1/sessions/${id}`)).status;
            const recorded = (await readTimeline(live, id, problems)).filter((event) => event.type === "session.expired").map((event) => event.id);
            const delivered = [
              ...new Set(
                expiries()
                  .filter((delivery) => delivery.data.session_id === id)
                  .map((delivery) => delivery.id),
              ),
            ];
            if (status !== "expired" || recorded.length !== 1) problems.push(`${id}: ${status}, expiry recorded ${recorded.length} times`);
            if (JSON.stringify(delivered) !== JSON.stringify(recorded)) problems.push(`${id}: expiry ${recorded} delivered as ${delivered}`);
          });
          expect(problems, "expiries recorded other than once, or delivered under other ids").toEqual([]);

          const latencies = sessions.map(({ id, expiresAt }) => {
            const first = Math.min(
              ...expiries()
                .filter((delivery) => delivery.data.session_id === id)
                .map((delivery) => delivery.arrivedAt),
            );
            return first - expiresAt;
          });
          const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
          const late = latencies.filter((latency) => latency > P99_LIMIT_MS).length;
          const afterKill = sessions.filter((session, n) => session.expiresAt + latencies[n]! > killedAt).length;
          console.log(
            `burst on ${name}: deadline → arrival p50 ${p50} ms, p99 ${p99} ms, ${late} of ${BURST} later than ${P99_LIMIT_MS} ms, ${afterKill} arrived after the kill`,
          );
          expect(p99, `deadline → arrival p99 (p50 ${p50} ms; ${late} of ${BURST} later than ${P99_LIMIT_MS} ms)`).toBeLessThanOrEqual(P99_LIMIT_MS);
        } finally {
          await Promise.all(instances.map((instance) => instance.kill()));
        }
      });
    }, 120_000);
  }
});
