// The SQL store on PostgreSQL, MariaDB/MySQL and SQLite, each in a database made for the run and
// dropped at its end:
// 1. Transitions per second through SqlStore.compareAndSet (one event each) beside the raw driver
//    running the same compare-and-set UPDATE and event INSERT in one transaction, on the same
//    tables, with a pool of the same size, in the same run, at 64 operations in flight (and one at
//    a time, for reference). The ratio is what kysely, the store's SQL and its checks cost; on
//    PostgreSQL the store writes in one statement where the raw driver needs four round trips, and
//    both prepare their statements once per connection (the raw driver's are named).
// 2. list() page 1 and page 1,000 (limit 100, by cursor) of 100,000 sessions of one organization.
// Servers: PostgreSQL at 127.0.0.1:5432 (user postgres, database test), MariaDB/MySQL at
// 127.0.0.1:3306 (user root, no password); a server that does not answer is reported as skipped.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventId } from "@agent-sessions/core";
import { openSqlStore } from "@agent-sessions/sql";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import { bestOfRounds, formatCount, report } from "./measure.mjs";

const GOAL_RATIO = 0.6;
const GOAL_PAGES = 2;
const CONCURRENCY = 64;
/** Records each side cycles over; a multiple of CONCURRENCY, so lanes never share one. */
const POOL = 1_024;
const CONNECTIONS = 16;
const LIST_SESSIONS = 100_000;
const PAGE = 100;
const ORG = "org_bench";
const LIST_ORG = "org_bench_list";
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const RUN = `as_bench_${Math.random().toString(36).slice(2, 10)}`;
const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_URL = "mysql://root@127.0.0.1:3306";

/** A workflow-sized state: a few hundred bytes of JSON, as the engine writes them. */
function state(id, n) {
  return { id, orgId: ORG, name: "signup", status: "active", metadata: { plan: "pro", region: "eu" }, steps: n, updatedAt: T0 + n };
}

function newRecord(id, orgId = ORG) {
  return { id, orgId, kind: "workflow", status: "active", version: 1, createdAt: T0, updatedAt: T0, dueAt: null, eventCount: 1, data: state(id, 1) };
}

function event(record) {
  const seq = record.eventCount;
  return {
    id: eventId(record.id, seq, T0 + seq),
    orgId: record.orgId,
    recordId: record.id,
    kind: "workflow",
    seq,
    type: "step.recorded",
    at: T0 + seq,
    payload: { n: seq },
  };
}

/** The next version of a record, with one more event. */
function advance(record) {
  const version = record.version + 1;
  return { ...record, version, eventCount: record.eventCount + 1, updatedAt: T0 + version, data: state(record.id, version) };
}

/** The parameters of the raw drivers' compare-and-set UPDATE, in the order their statements name them. */
const casParameters = (previous, next) => [
  next.status,
  next.version,
  next.updatedAt,
  next.dueAt,
  next.eventCount,
  JSON.stringify(next.data),
  next.id,
  next.orgId,
  previous.version,
];

/** A record id of one side: `a` the store's, `b` the raw driver's, `c` the listed ones (a hex digit, so a real id). */
const idOf = (side, i) => `sess_${side}${String(i).padStart(31, "0")}`;

/**
 * Each dialect: how to make and drop the run's database, open the store in it, and run the raw
 * compare-and-set (`rawWrite`) and a raw bulk insert (`rawInsert`) with the driver alone.
 */
const dialects = {
  postgres: async () => {
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 3000 });
    await admin.query(`CREATE SCHEMA ${RUN}`);
    const store = await openSqlStore(PG_URL, { schema: RUN, maxConnections: CONNECTIONS });
    const raw = new pg.Pool({ connectionString: PG_URL, max: CONNECTIONS });
    const t = (name) => `${RUN}.${name}`;
    return {
      store,
      async rawWrite(previous, next, e) {
        const client = await raw.connect();
        try {
          await client.query("BEGIN");
          // Named, so prepared once per connection, as the store's statements are (`preparePostgresStatements`).
          const updated = await client.query({
            name: "raw_compare_and_set",
            text: `UPDATE ${t("records")} SET status = $1, version = $2, updated_at = $3, due_at = $4, event_count = $5, data = $6, lease_owner = NULL, lease_until = 0
             WHERE id = $7 AND org_id = $8 AND version = $9`,
            values: casParameters(previous, next),
          });
          if (updated.rowCount !== 1) throw new Error(`raw: ${next.id} lost a write it owns`);
          await client.query({
            name: "raw_insert_event",
            text: `INSERT INTO ${t("events")} (org_id, record_id, seq, id, kind, type, at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            values: [e.orgId, e.recordId, e.seq, e.id, e.kind, e.type, e.at, JSON.stringify(e.payload)],
          });
          await client.query("COMMIT");
        } finally {
          client.release();
        }
      },
      async rawInsert(records) {
        const params = [];
        const rows = records.map((r) => {
          const at = params.length;
          params.push(r.id, r.orgId, r.kind, r.status, r.version, r.createdAt, r.updatedAt, r.eventCount, JSON.stringify(r.data));
          return `(${Array.from({ length: 9 }, (_, k) => `$${at + k + 1}`).join(", ")})`;
        });
        await raw.query(
          `INSERT INTO ${t("records")} (id, org_id, kind, status, version, created_at, updated_at, event_count, data) VALUES ${rows.join(", ")}`,
          params,
        );
      },
      // What autovacuum does after a bulk insert: without the visibility map it sets, COUNT(*)
      // reads every heap page instead of the index alone.
      analyze: () => raw.query(`VACUUM ANALYZE ${t("records")}`),
      async drop() {
        await store.close();
        await raw.end();
        await admin.query(`DROP SCHEMA ${RUN} CASCADE`);
        await admin.end();
      },
    };
  },

  mysql: async () => {
    const admin = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
    await admin.query(`CREATE DATABASE ${RUN}`);
    const store = await openSqlStore(`${MYSQL_URL}/${RUN}`, { maxConnections: CONNECTIONS });
    const raw = mysql.createPool({ uri: `${MYSQL_URL}/${RUN}`, connectionLimit: CONNECTIONS, charset: "utf8mb4" });
    return {
      store,
      async rawWrite(previous, next, e) {
        const connection = await raw.getConnection();
        try {
          await connection.query("BEGIN");
          const [updated] = await connection.query(
            `UPDATE records SET status = ?, version = ?, updated_at = ?, due_at = ?, event_count = ?, data = ?, lease_owner = NULL, lease_until = 0
             WHERE id = ? AND org_id = ? AND version = ?`,
            casParameters(previous, next),
          );
          if (updated.affectedRows !== 1) throw new Error(`raw: ${next.id} lost a write it owns`);
          await connection.query(`INSERT INTO events (org_id, record_id, seq, id, kind, type, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
            e.orgId,
            e.recordId,
            e.seq,
            e.id,
            e.kind,
            e.type,
            e.at,
            JSON.stringify(e.payload),
          ]);
          await connection.query("COMMIT");
        } finally {
          connection.release();
        }
      },
      async rawInsert(records) {
        const rows = records.map((r) => [r.id, r.orgId, r.kind, r.status, r.version, r.createdAt, r.updatedAt, r.eventCount, JSON.stringify(r.data)]);
        await raw.query("INSERT INTO records (id, org_id, kind, status, version, created_at, updated_at, event_count, data) VALUES ?", [rows]);
      },
      analyze: () => raw.query("ANALYZE TABLE records"),
      async drop() {
        await store.close();
        await raw.end();
        await admin.query(`DROP DATABASE ${RUN}`);
        await admin.end();
      },
    };
  },

  // The store's default (a commit on disk when acknowledged), and `?synchronous=normal`; the raw side the same.
  sqlite: () => sqliteTarget("full"),
  "sqlite-normal": () => sqliteTarget("normal"),
};

/** SQLite with `synchronous` on both sides. */
async function sqliteTarget(synchronous) {
  const file = join(tmpdir(), `${RUN}-${synchronous}.db`);
  const store = await openSqlStore(`sqlite:${file}${synchronous === "full" ? "" : `?synchronous=${synchronous}`}`);
  await store.migrate(); // before the raw connection prepares statements on the store's tables
  const raw = new Database(file);
  raw.pragma("journal_mode = WAL");
  raw.pragma(`synchronous = ${synchronous}`);
  raw.pragma("busy_timeout = 5000");
  const update = raw.prepare(
    `UPDATE records SET status = ?, version = ?, updated_at = ?, due_at = ?, event_count = ?, data = ?, lease_owner = NULL, lease_until = 0
       WHERE id = ? AND org_id = ? AND version = ?`,
  );
  const insertEvent = raw.prepare("INSERT INTO events (org_id, record_id, seq, id, kind, type, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const insertRecord = raw.prepare(
    "INSERT INTO records (id, org_id, kind, status, version, created_at, updated_at, event_count, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const write = raw.transaction((previous, next, e) => {
    const { changes } = update.run(...casParameters(previous, next));
    if (changes !== 1) throw new Error(`raw: ${next.id} lost a write it owns`);
    insertEvent.run(e.orgId, e.recordId, e.seq, e.id, e.kind, e.type, e.at, JSON.stringify(e.payload));
  });
  const insertMany = raw.transaction((records) => {
    for (const r of records)
      insertRecord.run(r.id, r.orgId, r.kind, r.status, r.version, r.createdAt, r.updatedAt, r.eventCount, JSON.stringify(r.data));
  });
  return {
    store,
    // better-sqlite3 is synchronous; `.immediate` takes the write lock up front, as the store does.
    rawWrite: async (previous, next, e) => write.immediate(previous, next, e),
    rawInsert: async (records) => insertMany.immediate(records),
    analyze: async () => raw.exec("ANALYZE"),
    async drop() {
      await store.close();
      raw.close();
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    },
  };
}

/** Store vs raw compare-and-set, the better of two runs each, per concurrency. */
async function transitions(name, target) {
  const sides = {};
  for (const side of ["store", "raw"]) {
    const records = Array.from({ length: POOL }, (_, i) => newRecord(idOf(side === "store" ? "a" : "b", i)));
    for (let i = 0; i < POOL; i += CONCURRENCY) {
      await Promise.all(records.slice(i, i + CONCURRENCY).map((record) => target.store.insert({ record, events: [event(record)] })));
    }
    sides[side] = async (i) => {
      const index = i % POOL;
      const previous = records[index];
      const next = advance(previous);
      if (side === "raw") await target.rawWrite(previous, next, event(next));
      else if (!(await target.store.compareAndSet({ record: next, events: [event(next)], expectedVersion: previous.version }))) {
        throw new Error(`store: ${next.id} lost a write it owns`);
      }
      records[index] = next;
    };
  }
  const rows = [];
  for (const mode of [
    { name: "sequential", concurrency: 1 },
    { name: `${CONCURRENCY} in flight`, concurrency: CONCURRENCY },
  ]) {
    const { ratio, ...best } = await bestOfRounds(sides, mode.concurrency);
    console.log(
      `  ${mode.name.padEnd(12)} store ${formatCount(best.store).padStart(6)} ops/s   raw ${formatCount(best.raw).padStart(6)} ops/s   ratio ${ratio.toFixed(2)} (goal ≥ ${GOAL_RATIO} at ${CONCURRENCY} in flight)`,
    );
    if (mode.concurrency === CONCURRENCY) {
      rows.push({
        benchmark: `SqlStore.compareAndSet on ${name} vs raw driver, ${mode.name} (${formatCount(best.store)} vs ${formatCount(best.raw)} ops/s)`,
        figure: `${ratio.toFixed(2)} of raw`,
        goal: `≥ ${GOAL_RATIO} of raw`,
        met: ratio >= GOAL_RATIO,
      });
    }
  }
  return rows;
}

/** list() page 1 vs page 1,000 by cursor, over LIST_SESSIONS sessions of one organization. */
async function pages(name, target) {
  const started = performance.now();
  for (let i = 0; i < LIST_SESSIONS; i += 1000) {
    await target.rawInsert(Array.from({ length: 1000 }, (_, j) => newRecord(idOf("c", i + j), LIST_ORG)));
  }
  await target.analyze();
  const inserted = performance.now();
  const cursors = [undefined];
  for (let page = 1; page < 1000; page++) {
    const { nextCursor, total } = await target.store.list(LIST_ORG, {
      kind: "workflow",
      limit: PAGE,
      ...(cursors.at(-1) ? { cursor: cursors.at(-1) } : {}),
    });
    if (total !== LIST_SESSIONS || nextCursor === null) throw new Error(`list: page ${page} ended early (total ${total})`);
    cursors.push(nextCursor);
  }
  const seconds = (from, to = performance.now()) => ((to - from) / 1000).toFixed(1);
  console.log(`  ${formatCount(LIST_SESSIONS)} sessions inserted in ${seconds(started, inserted)} s, walked to page 1,000 in ${seconds(inserted)} s`);
  const timing = { first: [], thousandth: [] };
  for (let round = 0; round < 30; round++) {
    for (const [key, cursor] of [
      ["first", undefined],
      ["thousandth", cursors[999]],
    ]) {
      const at = performance.now();
      const page = await target.store.list(LIST_ORG, { kind: "workflow", limit: PAGE, ...(cursor ? { cursor } : {}) });
      timing[key].push(performance.now() - at);
      if (page.records.length !== PAGE) throw new Error(`list: a page of ${page.records.length}`);
    }
  }
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
  const first = median(timing.first);
  const thousandth = median(timing.thousandth);
  const ratio = thousandth / first;
  console.log(
    `  list page 1 ${first.toFixed(2)} ms   page 1,000 ${thousandth.toFixed(2)} ms   ratio ${ratio.toFixed(2)} (goal ≤ ${GOAL_PAGES}; medians of 30)`,
  );
  return [
    {
      benchmark: `SqlStore.list on ${name}: page 1,000 vs page 1 of ${formatCount(LIST_SESSIONS)} by cursor (${thousandth.toFixed(2)} vs ${first.toFixed(2)} ms)`,
      figure: `${ratio.toFixed(2)}x`,
      goal: `≤ ${GOAL_PAGES}x`,
      met: ratio <= GOAL_PAGES,
    },
  ];
}

const NAMES = { postgres: "PostgreSQL", mysql: "MariaDB/MySQL", sqlite: "SQLite (synchronous=FULL)", "sqlite-normal": "SQLite (synchronous=NORMAL)" };
const rows = [];
for (const [dialect, open] of Object.entries(dialects)) {
  if (process.env.BENCH_ONLY && !dialect.startsWith(process.env.BENCH_ONLY)) continue;
  const name = NAMES[dialect];
  let target;
  try {
    target = await open();
  } catch (error) {
    console.log(`${name}: not reachable (${error.message}); skipped`);
    rows.push({ benchmark: `SqlStore on ${name}`, figure: "skipped (server not reachable)", goal: "", met: false });
    continue;
  }
  try {
    if (!dialect.startsWith("sqlite")) await target.store.migrate();
    console.log(
      `${name}: compareAndSet with one event, store vs raw driver (0.2 s warm-up, 0.8 s timed, best of 5 in turn; ${formatCount(POOL)} records a side, ${dialect.startsWith("sqlite") ? "one connection" : `${CONNECTIONS} connections a side`})`,
    );
    rows.push(...(await transitions(name, target)));
    rows.push(...(await pages(name, target)));
  } finally {
    await target.drop();
  }
}
report(rows);
