// Transitions per second through RedisStore.compareAndSet (one event each) beside raw ioredis
// running a minimal compare-and-set Lua script (check the version, set the state, append the
// event) on the same connection, in the same run, one at a time and with 64 in flight. Both sides
// serialize the same record and event; the ratio is what the store's indexes, write token and
// argument building cost. Needs a Redis at REDIS_URL (default redis://127.0.0.1:6379); every key
// it writes has a random prefix and is removed at the end.
import { eventId } from "@agent-sessions/core";
import { openRedisStore } from "@agent-sessions/redis";
import { bestOfRounds, formatCount, report } from "./measure.mjs";

const GOAL_RATIO = 0.7;
const CONCURRENCY = 64;
/** Records each side cycles over; a multiple of CONCURRENCY, so lanes never share one. */
const POOL = 1_024;
const URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `bench-${Math.random().toString(36).slice(2, 10)}`;
const ORG = "org_bench";
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

const store = openRedisStore(URL, { prefix: PREFIX, redisOptions: { maxRetriesPerRequest: 1, retryStrategy: () => null } });
const client = store.client;
try {
  await client.ping();
} catch (error) {
  console.log(`redis: no Redis at ${URL} (${error.message}); skipped`);
  report([{ benchmark: `RedisStore.compareAndSet vs raw Lua (no Redis at ${URL})`, figure: "skipped", goal: `≥ ${GOAL_RATIO} of raw`, met: false }]);
  store.close();
  process.exit(0);
}

client.defineCommand("benchRawCompareAndSet", {
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'j', ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
return 1`,
});

/** A workflow-sized state: a few hundred bytes of JSON, as the engine writes them. */
function state(id, n) {
  return { id, orgId: ORG, name: "signup", status: "active", metadata: { plan: "pro", region: "eu" }, steps: n, updatedAt: T0 + n };
}

function event(record) {
  const seq = record.eventCount;
  return {
    id: eventId(record.id, seq, T0 + seq),
    orgId: ORG,
    recordId: record.id,
    kind: "workflow",
    seq,
    type: "step.recorded",
    at: T0 + seq,
    payload: { n: seq },
  };
}

/** The next version of a record, with one event. */
function advance(record) {
  const version = record.version + 1;
  return { ...record, version, eventCount: record.eventCount + 1, updatedAt: T0 + version, data: state(record.id, version) };
}

// The store's records, inserted through the store.
const records = [];
for (let i = 0; i < POOL; i += CONCURRENCY) {
  const batch = Array.from({ length: CONCURRENCY }, (_, j) => {
    const id = `sess_${String(i + j).padStart(32, "0")}`;
    return {
      id,
      orgId: ORG,
      kind: "workflow",
      status: "active",
      version: 1,
      createdAt: T0,
      updatedAt: T0,
      dueAt: null,
      eventCount: 0,
      data: state(id, 1),
    };
  });
  await Promise.all(batch.map((record) => store.insert({ record, events: [] })));
  records.push(...batch);
}

// The raw side's records: the same states under keys of their own, one hash tag each.
const raw = records.map((record) => ({ ...record, key: `{${PREFIX}-raw:${record.id}}:r`, events: `{${PREFIX}-raw:${record.id}}:e` }));
await Promise.all(raw.map((record) => client.hset(record.key, "v", record.version, "j", JSON.stringify(record))));

const sides = {
  store: async (i) => {
    const index = i % POOL;
    const written = advance(records[index]);
    if (!(await store.compareAndSet({ record: written, events: [event(written)], expectedVersion: written.version - 1 }))) {
      throw new Error(`store: ${written.id} lost a write it owns`);
    }
    records[index] = written;
  },
  raw: async (i) => {
    const index = i % POOL;
    const current = raw[index];
    const written = advance(current);
    const { key, events, ...record } = written;
    const applied = await client.benchRawCompareAndSet(
      key,
      events,
      current.version,
      written.version,
      JSON.stringify(record),
      JSON.stringify(event(written)),
    );
    if (applied !== 1) throw new Error(`raw: ${written.id} lost a write it owns`);
    raw[index] = written;
  },
};

console.log(
  `Redis at ${URL}: compareAndSet with one event, store vs raw Lua (0.2 s warm-up, 0.8 s timed, best of 5 in turn; ${formatCount(POOL)} records a side)`,
);
const rows = [];
for (const mode of [
  { name: "sequential", concurrency: 1 },
  { name: `${CONCURRENCY} in flight`, concurrency: CONCURRENCY },
]) {
  const { ratio, ...best } = await bestOfRounds(sides, mode.concurrency);
  console.log(
    `  ${mode.name.padEnd(12)} store ${formatCount(best.store).padStart(7)} ops/s   raw Lua ${formatCount(best.raw).padStart(7)} ops/s   ratio ${ratio.toFixed(2)} (goal ≥ ${GOAL_RATIO})`,
  );
  rows.push({
    benchmark: `RedisStore.compareAndSet vs raw ioredis Lua compare-and-set, ${mode.name} (${formatCount(best.store)} vs ${formatCount(best.raw)} ops/s)`,
    figure: `${ratio.toFixed(2)} of raw`,
    goal: `≥ ${GOAL_RATIO} of raw`,
    met: ratio >= GOAL_RATIO,
  });
}

// Remove every key this run wrote: the store's (`{prefix:NN}:…`) and the raw side's (`{prefix-raw:…}:…`).
let cursor = "0";
do {
  const [nextCursor, keys] = await client.scan(cursor, "MATCH", `\\{${PREFIX}*`, "COUNT", 1000);
  cursor = nextCursor;
  if (keys.length > 0) await client.unlink(...keys);
} while (cursor !== "0");
await store.close();
report(rows);
