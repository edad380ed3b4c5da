import {
  assertPurgeOptions,
  assertRecordLimit,
  type ClaimOptions,
  type DeliveryLogEntry,
  type DeliveryLogPage,
  type DeliveryLogQuery,
  type DueClaim,
  GroupCommit,
  type IdempotencyEntry,
  type InsertResult,
  InvalidInputError,
  isRecordId,
  type LimitedInsertResult,
  type ListRecordsQuery,
  type OutboxEntry,
  type OutboxLease,
  type PurgeOptions,
  type PurgeResult,
  type RecordKind,
  type RecordLimit,
  type RecordPage,
  type RecordWrite,
  type RenewOptions,
  type SessionEvent,
  type Store,
  type StoreCapabilities,
  type StoredRecord,
  type StoreNotifier,
} from "@agent-sessions/core";
import { claimAcrossBuckets } from "./claims.js";
import { defineScripts, type RedisClient, type Scripts, withReconnect } from "./commands.js";
import { deliveryWrites, parseDeliveryCursor, readDeliveryPage } from "./delivery-log.js";
import { assertOrgId, BUCKETS, KeySpace } from "./keys.js";
import { createRedisNotifier } from "./notifier.js";
import { type RetentionOptions, remembersAliases, terminalSince, terminalTtlMs } from "./retention.js";
import { WriteTokens } from "./write-tokens.js";

/** How to build a `RedisStore`. */
export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` client. The store never closes it unless `closeClient` is set. */
  readonly client: RedisClient;
  /** Starts every key (inside its hash tag): `{prefix:07}:…`. Required; no `{` or `}`. */
  readonly prefix: string;
  /** Gives terminal records a time to live, to reclaim space. Default: kept forever. */
  readonly retention?: RetentionOptions;
  /** Quits `client` on `close()`: for a client made for this store alone. Default: false. */
  readonly closeClient?: boolean;
}

/**
 * The Store on Redis through ioredis. Each transition (`insert`, `compareAndSet`) is one EVALSHA
 * of a Lua script that checks and writes the record, its events, aliases, list indexes, due entry
 * and outbox messages together. Keys are hash-tagged into a fixed set of buckets, so every script
 * touches one slot and the store works on Redis Cluster.
 */
export class RedisStore implements Store {
  readonly capabilities: StoreCapabilities = { unscopedReads: true, idempotency: true, notifier: true };
  /** The client the store talks through. */
  readonly client: RedisClient;
  private readonly keys: KeySpace;
  private readonly scripts: Scripts;
  private readonly tokens = new WriteTokens();
  private readonly retention: RetentionOptions | undefined;
  private readonly closeClient: boolean;
  /** Outbox message id → its bucket, for settling what this store claimed without asking every bucket. */
  private readonly claimedIn = new Map<string, string>();
  /**
   * Finishing settles of messages this store claimed, with group commit (see `GroupCommit`): one
   * script per bucket and owner for up to a hundred, instead of a script (and, as deliveries end
   * each in their own turn of the event loop, a socket write) each.
   */
  private readonly finished = new GroupCommit<{ readonly bucket: string; readonly id: string; readonly owner: string }, boolean>(
    async (settles) => {
      const { bucket, owner } = settles[0]!;
      const answers = (await this.scripts.finishOutbox([`${bucket}q`], [bucket, owner, ...settles.map((settle) => settle.id)])) as number[];
      return answers.map((answer) => answer === 1);
    },
    { key: (settle) => `${settle.bucket}\n${settle.owner}`, size: 100 },
  );

  constructor(options: RedisStoreOptions) {
    if (!options || typeof options !== "object") throw new InvalidInputError("options", "must be an object with client and prefix");
    const { client, prefix } = options;
    if (!client || typeof (client as { defineCommand?: unknown }).defineCommand !== "function") {
      throw new InvalidInputError("client", "must be an ioredis Redis or Cluster client");
    }
    if (typeof prefix !== "string" || prefix.length === 0 || /[{}]/.test(prefix)) {
      throw new InvalidInputError("prefix", "must be a non-empty string without '{' or '}' (it goes inside a hash tag)");
    }
    const seconds = options.retention?.terminalTtlSeconds;
    if (options.retention !== undefined && !(Number.isInteger(seconds) && seconds! > 0)) {
      throw new InvalidInputError("retention.terminalTtlSeconds", "must be a whole number of seconds ≥ 1");
    }
    this.client = client;
    this.keys = new KeySpace(prefix);
    this.scripts = defineScripts(client);
    this.retention = options.retention;
    this.closeClient = options.closeClient ?? false;
  }

  /** The key prefix. */
  get prefix(): string {
    return this.keys.prefix;
  }

  /** The SCAN pattern that matches every key of this store's prefix (run it on every master of a cluster). */
  get keyPattern(): string {
    return this.keys.pattern;
  }

  async insert(write: RecordWrite): Promise<InsertResult> {
    const result = await this.transition(this.scripts.insert, write, 0);
    return result === 1 ? { ok: true } : { ok: false, taken: String(result) };
  }

  async insertWithinLimit(write: RecordWrite, limit: RecordLimit): Promise<LimitedInsertResult> {
    assertRecordLimit(limit);
    const counted = this.keys.list(write.record.orgId, write.record.kind, limit.status);
    const result = await this.transition(this.scripts.insertWithinLimit, write, 0, { key: counted, max: limit.max });
    if (result === 1) return { ok: true };
    return result === 0 ? { ok: false, full: true } : { ok: false, taken: String(result) };
  }

  async compareAndSet(write: RecordWrite & { readonly expectedVersion: number }): Promise<boolean> {
    return (await this.transition(this.scripts.compareAndSet, write, write.expectedVersion)) === 1;
  }

  async get(orgId: string, id: string): Promise<StoredRecord | null> {
    const key = this.keys.record(orgId, id);
    const json = await withReconnect(this.client, () => this.client.hget(key, "j"));
    return json === null ? null : (JSON.parse(json) as StoredRecord);
  }

  /**
   * Finds the organization in the id → organization hash of every bucket (one read each, sent
   * together), then reads the record. The insert script writes that hash in the record's own
   * bucket, in the same atomic step, so a record is never without it; the price is one read a
   * bucket on this path, which only the hosted form page takes.
   */
  async getUnscoped(id: string): Promise<StoredRecord | null> {
    const owners = await withReconnect(this.client, () => Promise.all(this.keys.buckets.map((bucket) => this.client.hget(`${bucket}id`, id))));
    const orgId = owners.find((owner) => owner !== null);
    return orgId ? this.get(orgId, id) : null;
  }

  async resolveAlias(orgId: string, alias: string): Promise<string | null> {
    const key = this.keys.aliases(orgId);
    return withReconnect(this.client, () => this.client.hget(key, alias));
  }

  async list(orgId: string, query: ListRecordsQuery): Promise<RecordPage> {
    // This store's cursor is the id of a page's last record: any other text is none of its cursors.
    if (query.cursor !== undefined && !isRecordId(query.cursor)) {
      throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
    }
    const limit = Math.max(0, Math.floor(query.limit));
    const byCursor = query.cursor !== undefined;
    const keys = [this.keys.list(orgId, query.kind, query.status)];
    const args = [
      this.keys.org(orgId),
      this.keys.bucket(orgId),
      orgId,
      query.kind,
      byCursor ? "cursor" : "offset",
      byCursor ? query.cursor! : Math.max(0, Math.floor(query.offset ?? 0)),
      limit,
      this.retention ? "1" : "0",
    ];
    // Safe to resend: the only writes it makes remove what retention already ended.
    const reply = (await withReconnect(this.client, () => this.scripts.list(keys, args))) as [number, number, ...string[]];
    const [total, more, ...jsons] = reply;
    const records = jsons.filter((json) => json !== "").map((json) => JSON.parse(json) as StoredRecord);
    const last = records.at(-1);
    return { records, total, nextCursor: more === 1 && last ? last.id : null };
  }

  async timeline(orgId: string, id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<SessionEvent[]> {
    const start = Math.max(0, Math.floor(options.afterSeq ?? 0));
    if (options.limit !== undefined && options.limit <= 0) return [];
    const end = options.limit === undefined ? -1 : start + Math.floor(options.limit) - 1;
    const key = this.keys.events(orgId, id);
    const events = await withReconnect(this.client, () => this.client.lrange(key, start, end));
    return events.map((json) => JSON.parse(json) as SessionEvent);
  }

  async claimDue(options: ClaimOptions): Promise<DueClaim[]> {
    const leaseUntil = options.now + options.leaseMs;
    return claimAcrossBuckets(this.client, this.keys.buckets, options.now, options.limit, {
      queue: (bucket) => `${bucket}due`,
      take: async (bucket, count) => {
        const flat = (await this.scripts.claimDue([`${bucket}due`], [bucket, options.now, count, leaseUntil])) as string[];
        const claims: DueClaim[] = [];
        for (let i = 0; i < flat.length; i += 5) {
          // The record comes with its claim, read in the same step: the worker settles it without another read.
          const record = JSON.parse(flat[i + 4]!) as StoredRecord;
          claims.push({ orgId: flat[i]!, id: flat[i + 1]!, kind: flat[i + 2] as RecordKind, dueAt: Number(flat[i + 3]), leaseUntil, record });
        }
        return claims;
      },
      time: (claim) => claim.dueAt,
    });
  }

  /** One read of the organization's deadlines of `kind`, which every write keeps with the record. */
  async listDue(orgId: string, kind: RecordKind, now: number, limit: number): Promise<string[]> {
    const key = this.keys.deadlines(orgId, kind);
    return withReconnect(this.client, () => this.client.zrangebyscore(key, "-inf", now, "LIMIT", 0, limit));
  }

  async claimOutbox(options: ClaimOptions & { readonly topic?: string }): Promise<OutboxEntry[]> {
    const leaseUntil = options.now + options.leaseMs;
    const queue = (bucket: string) => (options.topic === undefined ? `${bucket}q` : `${bucket}q:${options.topic}`);
    const entries = await claimAcrossBuckets(this.client, this.keys.buckets, options.now, options.limit, {
      queue,
      take: async (bucket, count) => {
        const flat = (await this.scripts.claimOutbox([queue(bucket)], [bucket, options.now, count, leaseUntil, options.owner])) as string[];
        const claims: OutboxEntry[] = [];
        for (let i = 0; i < flat.length; i += 5) {
          const lastError = flat[i + 3]!;
          claims.push({
            ...(JSON.parse(flat[i + 1]!) as OutboxEntry),
            availableAt: Number(flat[i + 4]),
            attempts: Number(flat[i + 2]),
            lastError: lastError === "" ? null : lastError.slice(1),
            leaseOwner: options.owner,
            leaseUntil,
          });
          this.rememberClaim(flat[i]!, bucket);
        }
        return claims;
      },
      time: (entry) => entry.availableAt,
    });
    return entries;
  }

  async settleOutbox(id: string, owner: string, outcome: { readonly retryAt?: number; readonly error?: string }): Promise<boolean> {
    const args = (bucket: string) => [bucket, id, owner, outcome.retryAt ?? "", outcome.error === undefined ? "" : `!${outcome.error}`];
    const known = this.claimedIn.get(id);
    if (known !== undefined) {
      // A message never changes bucket: the one it was claimed from has the only answer.
      this.claimedIn.delete(id);
      if (outcome.retryAt === undefined) return this.finished.add({ bucket: known, id, owner });
      return (await this.scripts.settleOutbox([`${known}m:${id}`], args(known))) === 1;
    }
    // Claimed through another store instance: only the bucket holding the message can answer 1.
    const answers = await Promise.all(this.keys.buckets.map((bucket) => this.scripts.settleOutbox([`${bucket}m:${id}`], args(bucket))));
    return answers.includes(1);
  }

  /** One script a bucket that may hold the messages (the one this store claimed them from, when it did). */
  async renewOutbox(options: RenewOptions): Promise<string[]> {
    const leaseUntil = options.now + options.leaseMs;
    const ids = [...new Set(options.ids)];
    const replies = await Promise.all(
      [...this.bucketsHolding(ids)].map(([bucket, held]) =>
        // Safe to resend: a second run sets the same lease end.
        withReconnect(this.client, () => this.scripts.renewOutbox([`${bucket}q`], [bucket, options.owner, leaseUntil, ...held])),
      ),
    );
    const renewed = new Set((replies as string[][]).flat());
    return ids.filter((id) => renewed.has(id));
  }

  /** One read script a bucket that may hold the messages, sent together. */
  async outboxLeases(ids: readonly string[]): Promise<OutboxLease[]> {
    const unique = [...new Set(ids)];
    const replies = await Promise.all(
      [...this.bucketsHolding(unique)].map(([bucket, held]) =>
        withReconnect(this.client, () => this.scripts.outboxLeases([`${bucket}q`], [bucket, ...held])),
      ),
    );
    const leases: OutboxLease[] = [];
    for (const flat of replies as string[][]) {
      for (let i = 0; i < flat.length; i += 4) {
        const owner = flat[i + 2]!;
        leases.push({ id: flat[i]!, attempts: Number(flat[i + 1]), leaseOwner: owner === "" ? null : owner, leaseUntil: Number(flat[i + 3]) });
      }
    }
    return leases;
  }

  /**
   * One atomic script for all the entries; on Redis Cluster one a bucket (so all or none within
   * each bucket's organizations). Safe to resend: a second run writes the same data.
   */
  async logDeliveries(entries: readonly DeliveryLogEntry[]): Promise<void> {
    const writes = deliveryWrites(this.keys, entries, this.client.isCluster);
    await Promise.all(writes.map(({ key, args }) => withReconnect(this.client, () => this.scripts.logDeliveries([key], args))));
  }

  /** One read script: the total, and the page after the cursor (`<startedAt>:<id>`) or from the offset. */
  async deliveryLog(orgId: string, webhookId: string, query: DeliveryLogQuery): Promise<DeliveryLogPage> {
    const cursor = query.cursor === undefined ? null : parseDeliveryCursor(query.cursor);
    const limit = Math.max(0, Math.floor(query.limit));
    const from = cursor ? ["cursor", cursor.score, cursor.id] : ["offset", Math.max(0, Math.floor(query.offset ?? 0)), ""];
    const keys = [this.keys.deliveryLog(orgId, webhookId), this.keys.deliveries(orgId)];
    const reply = await withReconnect(this.client, () => this.scripts.deliveryLog(keys, [...from, limit]));
    return readDeliveryPage(orgId, reply as (string | number)[]);
  }

  async reserveIdempotencyKey(orgId: string, key: string, entry: IdempotencyEntry, now: number): Promise<IdempotencyEntry | null> {
    assertOrgId(orgId);
    const ttlMs = Math.max(1, Math.ceil(entry.expiresAt - now));
    const held = (await this.scripts.reserveIdempotency([this.keys.idempotency(orgId, key)], [entry.fingerprint, entry.expiresAt, now, ttlMs])) as
      | [string, string, string]
      | null;
    if (held === null) return null;
    return { fingerprint: held[0], expiresAt: Number(held[1]), response: held[2] === "" ? null : JSON.parse(held[2]) };
  }

  async completeIdempotencyKey(orgId: string, key: string, response: unknown, recordId?: string): Promise<void> {
    const created = recordId === undefined ? ["", ""] : [recordId, `${this.keys.org(orgId)}k:${recordId}`];
    await this.scripts.completeIdempotency([this.keys.idempotency(orgId, key)], [JSON.stringify(response ?? null), ...created]);
  }

  /**
   * One script a bucket, from the cursor's bucket on, each atomic (see `PURGE_SCRIPT`), until
   * `limit` index entries were visited. The cursor is `<bucket>:<score>:<member>` of the last one.
   */
  async purge(options: PurgeOptions): Promise<PurgeResult> {
    assertPurgeOptions(options);
    const cursor = options.cursor === undefined ? null : parsePurgeCursor(options.cursor);
    const totals = { records: 0, events: 0, deliveries: 0, aliases: 0, idempotency: 0, outbox: 0 };
    let visited = 0;
    for (let b = cursor?.bucket ?? 0; b < this.keys.buckets.length; b++) {
      const bucket = this.keys.buckets[b]!;
      const at = cursor !== null && b === cursor.bucket ? [cursor.score, cursor.member] : ["", ""];
      const room = options.limit - visited;
      const args = [bucket, options.kind, options.before, room, options.dryRun ? "1" : "0", ...at, ...options.statuses];
      const reply = (await this.scripts.purge([`${bucket}f:${options.kind}`], args)) as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        string,
        string,
      ];
      const [records, events, deliveries, aliases, idempotency, outbox, seen, score, member] = reply;
      totals.records += records;
      totals.events += events;
      totals.deliveries += deliveries;
      totals.aliases += aliases;
      totals.idempotency += idempotency;
      totals.outbox += outbox;
      visited += seen;
      if (seen === room) return { ...totals, nextCursor: `${b}:${score}:${member}` };
    }
    return { ...totals, nextCursor: null };
  }

  async releaseIdempotencyKey(orgId: string, key: string): Promise<void> {
    await this.client.del(this.keys.idempotency(orgId, key));
  }

  /**
   * A notifier over Redis pub/sub on the channel `<prefix>:notify`, for every engine on this
   * prefix; it subscribes on a duplicate of the client, which its `close()` quits.
   */
  createNotifier(): StoreNotifier {
    return createRedisNotifier({ client: this.client, channel: `${this.prefix}:notify` });
  }

  /** Quits the client when the store owns it (`openRedisStore`); a client you passed in stays open. */
  async close(): Promise<void> {
    this.claimedIn.clear();
    if (!this.closeClient || this.client.status === "end") return;
    // QUIT lets commands in flight finish; a client that never connected has none, and QUIT would connect it.
    if (this.client.status === "ready") await this.client.quit();
    else this.client.disconnect();
  }

  /**
   * Runs one transition script, resending it with the same write token if the connection drops.
   * Every value is serialized before the script is sent: one that cannot be throws here, and
   * nothing reaches Redis.
   */
  private transition(
    script: Scripts["insert"],
    write: RecordWrite,
    expectedVersion: number,
    limit?: { readonly key: string; readonly max: number },
  ): Promise<unknown> {
    const { record } = write;
    assertOrgId(record.orgId);
    const keys = this.keys;
    const bucket = keys.bucket(record.orgId);
    const aliases = write.aliases ?? [];
    const outbox = write.outbox ?? [];
    const args: (string | number)[] = [
      bucket,
      keys.org(record.orgId),
      this.tokens.next(),
      expectedVersion,
      record.id,
      record.orgId,
      record.kind,
      record.status,
      record.version,
      record.dueAt ?? "",
      JSON.stringify(record),
      terminalTtlMs(this.retention, record),
      remembersAliases(record.kind) ? "1" : "0",
      terminalSince(record),
      aliases.length,
      ...aliases,
      write.events.length,
    ];
    for (const event of write.events) args.push(JSON.stringify(event));
    args.push(outbox.length);
    for (const message of outbox) args.push(message.id, message.topic, message.availableAt, JSON.stringify(message));
    if (limit) args.push(limit.max);
    const scriptKeys = [
      keys.record(record.orgId, record.id),
      keys.events(record.orgId, record.id),
      keys.aliases(record.orgId),
      keys.list(record.orgId, record.kind),
      `${bucket}id`,
      `${bucket}due`,
      `${bucket}q`,
    ];
    if (limit) scriptKeys.push(limit.key);
    return withReconnect(this.client, () => script(scriptKeys, args));
  }

  /**
   * The buckets to ask about outbox messages, each with the ids it may hold: the bucket a message
   * was claimed from through this store (a message never changes bucket), every bucket for the rest.
   */
  private bucketsHolding(ids: readonly string[]): Map<string, string[]> {
    const unknown = ids.filter((id) => !this.claimedIn.has(id));
    const groups = new Map<string, string[]>(unknown.length === 0 ? [] : this.keys.buckets.map((bucket) => [bucket, [...unknown]]));
    for (const id of ids) {
      const bucket = this.claimedIn.get(id);
      if (bucket === undefined) continue;
      const group = groups.get(bucket);
      if (group) group.push(id);
      else groups.set(bucket, [id]);
    }
    return groups;
  }

  private rememberClaim(id: string, bucket: string): void {
    if (this.claimedIn.size >= 100_000) this.claimedIn.clear(); // messages claimed and never settled
    this.claimedIn.set(id, bucket);
  }
}

/** A purge cursor, `<bucket>:<score>:<member>`, back as its parts; anything else is none of this store's cursors. */
function parsePurgeCursor(cursor: string): { bucket: number; score: string; member: string } {
  const match = /^(\d+):(\d+):(.+)$/.exec(cursor);
  if (!match || Number(match[1]) >= BUCKETS) throw new InvalidInputError("cursor", "must be the nextCursor of a previous purge");
  return { bucket: Number(match[1]), score: match[2]!, member: match[3]! };
}
