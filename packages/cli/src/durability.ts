// What `serve` can see of its store's durability: the settings that let an acknowledged write be
// lost to an OS crash or a power cut (or less), read at start and judged here.
import type { SqlStore } from "@agent-sessions/sql";
import type { Logger } from "./logs.js";

/** A store setting weaker than "an acknowledged write survives an OS crash", or one that could not be read. */
export interface DurabilityFinding {
  /** `warn` for a setting that loses acknowledged writes; `info` for a small window, or a setting not read. */
  readonly level: "warn" | "info";
  /** Which store speaks: `sqlite`, `postgres`, `mysql` or `redis`. */
  readonly store: string;
  /** The setting's name as the server spells it, e.g. `synchronous_commit`. */
  readonly setting: string;
  /** Its value as read, or `unknown`. */
  readonly value: string;
  /** What an acknowledged write does not survive with this value. */
  readonly risk: string;
  /** How to make it durable. */
  readonly fix: string;
}

/** Logs each finding on one line, `store durability`, with the store, setting, value, risk and fix. */
export function logDurability(logger: Logger, findings: readonly DurabilityFinding[]): void {
  for (const { level, ...fields } of findings) logger[level]("store durability", fields);
}

/** SQLite's `PRAGMA synchronous` as a number (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA) judged: below FULL is a finding. */
export function judgeSqlite(synchronous: number): DurabilityFinding[] {
  if (synchronous >= 2) return [];
  const value = synchronous === 1 ? "normal" : "off";
  const risk =
    synchronous === 1
      ? "a commit is acknowledged before it is synced to disk: a process crash loses nothing, but an OS crash or power loss can roll back the last acknowledged writes"
      : "SQLite never syncs to disk: an OS crash or power loss can lose acknowledged writes and corrupt the database file";
  return [
    {
      level: "warn",
      store: "sqlite",
      setting: "synchronous",
      value,
      risk,
      fix: "drop ?synchronous= from the store URL (the default is full) or give ?synchronous=full",
    },
  ];
}

/** PostgreSQL's `synchronous_commit` and `fsync` (as `SHOW` prints them) judged: `off` for either is a finding. */
export function judgePostgres(settings: { readonly synchronous_commit: string; readonly fsync: string }): DurabilityFinding[] {
  const findings: DurabilityFinding[] = [];
  if (settings.fsync === "off") {
    findings.push({
      level: "warn",
      store: "postgres",
      setting: "fsync",
      value: "off",
      risk: "PostgreSQL never forces its writes to disk: an OS crash or power loss can lose acknowledged writes and corrupt the database",
      fix: "set fsync = on in postgresql.conf and reload the server",
    });
  }
  // on, local, remote_write and remote_apply all flush the local WAL before a commit is acknowledged.
  if (settings.synchronous_commit === "off") {
    findings.push({
      level: "warn",
      store: "postgres",
      setting: "synchronous_commit",
      value: "off",
      risk: "a commit is acknowledged before its WAL is flushed: a server crash, OS crash or power loss can lose the last acknowledged writes (up to 3 × wal_writer_delay)",
      fix: "set synchronous_commit = on (ALTER SYSTEM, ALTER ROLE or ALTER DATABASE; not off in the URL's options) and reload",
    });
  }
  return findings;
}

/** MySQL/MariaDB's `innodb_flush_log_at_trx_commit` judged: 1 (or MariaDB's 3) flushes at each commit; 0 and 2 are findings. */
export function judgeMysql(flushLogAtTrxCommit: number): DurabilityFinding[] {
  if (flushLogAtTrxCommit === 1 || flushLogAtTrxCommit === 3) return [];
  const risk =
    flushLogAtTrxCommit === 2
      ? "the redo log is written at each commit but flushed about once a second: a server crash loses nothing, an OS crash or power loss can lose about the last second of acknowledged writes"
      : "the redo log is written and flushed about once a second: a server crash, OS crash or power loss can lose about the last second of acknowledged writes";
  return [
    {
      level: "warn",
      store: "mysql",
      setting: "innodb_flush_log_at_trx_commit",
      value: String(flushLogAtTrxCommit),
      risk,
      fix: "SET GLOBAL innodb_flush_log_at_trx_commit = 1, and set it in the server's configuration file",
    },
  ];
}

/**
 * Redis's `appendonly` and `appendfsync` (as `CONFIG GET` returns them) judged: no AOF, or an AOF
 * the OS flushes when it likes, is a warning; `everysec` (up to a second lost) is told at info.
 */
export function judgeRedis(config: { readonly appendonly: string; readonly appendfsync: string }): DurabilityFinding[] {
  const fix = "CONFIG SET appendonly yes and CONFIG SET appendfsync always (or everysec), then CONFIG REWRITE or set both in redis.conf";
  if (config.appendonly !== "yes") {
    return [
      {
        level: "warn",
        store: "redis",
        setting: "appendonly",
        value: config.appendonly,
        risk: "writes are kept in memory and at best in the last RDB snapshot: a Redis restart or crash, an OS crash or power loss loses every acknowledged write since that snapshot",
        fix,
      },
    ];
  }
  if (config.appendfsync === "always") return [];
  const everysec = config.appendfsync === "everysec";
  return [
    {
      level: everysec ? "info" : "warn",
      store: "redis",
      setting: "appendfsync",
      value: config.appendfsync,
      risk: everysec
        ? "the append-only file is synced once a second: a Redis crash loses nothing, an OS crash or power loss can lose up to the last second of acknowledged writes"
        : "the append-only file is synced when the OS chooses (about every 30 s on Linux): an OS crash or power loss can lose that much of the acknowledged writes",
      fix: "CONFIG SET appendfsync always (or everysec, to lose at most a second), then CONFIG REWRITE or set it in redis.conf",
    },
  ];
}

/** Reads the durability settings of an SQL store's database and judges them. */
export async function probeSqlDurability(store: SqlStore): Promise<DurabilityFinding[]> {
  // Loaded when a store is probed, as the adapters are: `serve --store memory` loads no driver.
  const { sql } = await import("kysely");
  const first = async (query: string) => (await sql.raw<Record<string, unknown>>(query).execute(store.db)).rows[0] ?? {};
  switch (store.dialect) {
    case "sqlite":
      return judgeSqlite(Number((await first("PRAGMA synchronous")).synchronous));
    case "postgres":
      return judgePostgres({
        synchronous_commit: String((await first("SHOW synchronous_commit")).synchronous_commit),
        fsync: String((await first("SHOW fsync")).fsync),
      });
    case "mysql":
      return judgeMysql(Number((await first("SELECT @@innodb_flush_log_at_trx_commit AS flush")).flush));
  }
}

/** What `probeRedisDurability` needs of an ioredis client or cluster. */
export interface RedisConfigReader {
  config(subcommand: "GET", parameter: string): Promise<unknown>;
  nodes?(role: "master"): RedisConfigReader[];
}

/**
 * Reads `appendonly` and `appendfsync` from a Redis server (from each master of a cluster) and
 * judges them. A server that refuses `CONFIG` (a managed Redis often does) gives an info finding
 * saying the setting could not be read.
 */
export async function probeRedisDurability(client: RedisConfigReader): Promise<DurabilityFinding[]> {
  const servers = typeof client.nodes === "function" ? client.nodes("master") : [client];
  const findings = new Map<string, DurabilityFinding>(); // the masters of a cluster usually agree: one line each
  for (const server of servers) {
    for (const finding of await probeRedisServer(server)) findings.set(`${finding.setting}=${finding.value}`, finding);
  }
  return [...findings.values()];
}

async function probeRedisServer(server: RedisConfigReader): Promise<DurabilityFinding[]> {
  try {
    const [appendonly, appendfsync] = await Promise.all([configValue(server, "appendonly"), configValue(server, "appendfsync")]);
    return judgeRedis({ appendonly, appendfsync });
  } catch (error) {
    return [
      {
        level: "info",
        store: "redis",
        setting: "appendonly",
        value: "unknown",
        risk: `could not be read (CONFIG GET: ${error instanceof Error ? error.message : String(error)}); without appendonly yes an acknowledged write does not survive a Redis restart`,
        fix: "check that the server runs with appendonly yes and appendfsync always (or everysec)",
      },
    ];
  }
}

/** One value of `CONFIG GET name`, which answers `[name, value]` (or nothing for an unknown name). */
async function configValue(server: RedisConfigReader, name: string): Promise<string> {
  const reply = await server.config("GET", name);
  if (!Array.isArray(reply) || reply.length < 2) throw new Error(`no value for ${name}`);
  return String(reply[1]);
}
