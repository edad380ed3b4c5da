import { InvalidInputError } from "@agent-sessions/core";

/**
 * How many hash-tagged buckets a store spreads over. Every key of an organization lives in one
 * bucket (chosen by a hash of the organization id), so one script sees a record, its events, its
 * organization's lists and aliases, and its bucket's due and outbox queues in a single slot.
 * Claims and `getUnscoped` visit all buckets. Changing this number orphans existing data.
 */
export const BUCKETS = 16;

/** The bucket of an organization: FNV-1a of its id, modulo `BUCKETS`. */
export function bucketOf(orgId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < orgId.length; i++) hash = Math.imul(hash ^ orgId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

/**
 * Key names. `{prefix:07}` is the hash tag of bucket 7, so Redis Cluster puts all of a bucket's
 * keys in one slot:
 *
 * ```
 * {P:07}:o:<org>:r:<id>          hash   a record: v version, s status, k kind, d dueAt, j JSON, w recent write tokens
 * {P:07}:o:<org>:e:<id>          list   its events, as JSON, in seq order
 * {P:07}:o:<org>:a               hash   alias → record id
 * {P:07}:o:<org>:l:<kind>        zset   ids of one kind (all scores 0: ordered by id)
 * {P:07}:o:<org>:l:<kind>:<st>   zset   ids of one kind and status
 * {P:07}:o:<org>:d:<kind>        zset   ids of one kind with a deadline → dueAt (for listDue)
 * {P:07}:o:<org>:g:<kind>        zset   terminal ids → when retention removes them (only with retention)
 * {P:07}:o:<org>:t:<kind>        set    statuses that retention has seen (only with retention)
 * {P:07}:o:<org>:n:<id>          set    the aliases a record wrote, for purge and retention to remove (kinds with terminal statuses)
 * {P:07}:o:<org>:b:<id>          set    the record's outbox messages not settled yet, for purge to remove
 * {P:07}:o:<org>:k:<id>          set    the idempotency keys completed with the record's id, for purge to remove
 * {P:07}:o:<org>:i:<key>         hash   an idempotency record, with a TTL (d: the record its request created)
 * {P:07}:o:<org>:x               hash   delivery log entry id → JSON {"webhookId","startedAt","data"}, data last
 * {P:07}:o:<org>:h:<webhook>     zset   an endpoint's delivery log: entry ids → startedAt (ties ordered by id)
 * {P:07}:id                      hash   record id → organization, for getUnscoped
 * {P:07}:f:<kind>                zset   "<org>:<id>" → updatedAt of terminal records with no deadline, for purge
 * {P:07}:due                     zset   "<org>:<id>" → dueAt, or the end of its lease
 * {P:07}:q  and  {P:07}:q:<topic> zset  outbox ids → availableAt, or the end of their lease
 * {P:07}:m:<id>                  hash   an outbox message: m JSON, p topic, a claims so far, e error, o lease owner (absent or '' for none), t availableAt, b its record's b set
 * ```
 */
export class KeySpace {
  /** `{prefix:07}:` for each bucket. */
  readonly buckets: readonly string[];
  private readonly orgBases = new Map<string, string>();

  constructor(readonly prefix: string) {
    this.buckets = Array.from({ length: BUCKETS }, (_, b) => `{${prefix}:${String(b).padStart(2, "0")}}:`);
  }

  /** The SCAN pattern that matches every key of this prefix. */
  get pattern(): string {
    return `\\{${this.prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`;
  }

  /** `{P:07}:` of the organization's bucket. */
  bucket(orgId: string): string {
    return this.buckets[bucketOf(orgId)]!;
  }

  /** `{P:07}:o:<org>:`, the start of every key of one organization. */
  org(orgId: string): string {
    let base = this.orgBases.get(orgId);
    if (base === undefined) {
      base = `${this.bucket(orgId)}o:${orgId}:`;
      // A store serves a bounded set of tenants in practice; the cap keeps a pathological one bounded too.
      if (this.orgBases.size >= 10_000) this.orgBases.clear();
      this.orgBases.set(orgId, base);
    }
    return base;
  }

  record(orgId: string, id: string): string {
    return `${this.org(orgId)}r:${id}`;
  }

  events(orgId: string, id: string): string {
    return `${this.org(orgId)}e:${id}`;
  }

  aliases(orgId: string): string {
    return `${this.org(orgId)}a`;
  }

  list(orgId: string, kind: string, status?: string): string {
    return status === undefined ? `${this.org(orgId)}l:${kind}` : `${this.org(orgId)}l:${kind}:${status}`;
  }

  deadlines(orgId: string, kind: string): string {
    return `${this.org(orgId)}d:${kind}`;
  }

  idempotency(orgId: string, key: string): string {
    return `${this.org(orgId)}i:${key}`;
  }

  /** The organization's delivery log entries, by id. */
  deliveries(orgId: string): string {
    return `${this.org(orgId)}x`;
  }

  /** One endpoint's delivery log order: entry ids scored by `startedAt`. */
  deliveryLog(orgId: string, webhookId: string): string {
    return `${this.org(orgId)}h:${webhookId}`;
  }
}

/**
 * Refuses an organization id that would make key names ambiguous: `:` separates key parts and
 * the due queue's members (`<org>:<id>`), so it may not appear in one.
 */
export function assertOrgId(orgId: string): void {
  if (typeof orgId !== "string" || orgId.length === 0 || orgId.includes(":")) {
    throw new InvalidInputError("orgId", `must be a non-empty string without ':' for the Redis store (got ${JSON.stringify(orgId)})`);
  }
}
