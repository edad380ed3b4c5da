import type { RedisClient } from "./commands.js";

/** How one kind of claim reaches its buckets. */
export interface BucketClaim<T> {
  /** The queue to look at in a bucket, given its base `{P:07}:`. */
  readonly queue: (bucket: string) => string;
  /** Leases up to `count` members of one bucket's queue, atomically (one script). */
  readonly take: (bucket: string, count: number) => Promise<T[]>;
  /** The order claims are handed out in: earliest first. */
  readonly time: (claim: T) => number;
}

/** Rounds before a claimer that keeps losing races returns what it has. */
const MAX_ROUNDS = 16;

/**
 * Leases up to `limit` members across all buckets, earliest first. Each round first looks at every
 * bucket at once (one read a bucket, sent together), picks the earliest `limit` candidates, then
 * asks only the buckets holding them to lease that many, each in one script, so no bucket hands out
 * more than its share and no member is leased twice. Candidates lost to a concurrent claimer have
 * moved past `now`, so the next round sees what is left.
 */
export async function claimAcrossBuckets<T>(
  client: RedisClient,
  buckets: readonly string[],
  now: number,
  limit: number,
  claim: BucketClaim<T>,
): Promise<T[]> {
  const claimed: T[] = [];
  for (let round = 0; round < MAX_ROUNDS && claimed.length < limit; round++) {
    const wanted = limit - claimed.length;
    const peeks = await Promise.all(
      buckets.map((bucket) => client.zrangebyscore(claim.queue(bucket), "-inf", now, "WITHSCORES", "LIMIT", 0, wanted)),
    );
    const candidates: { bucket: number; score: number }[] = [];
    peeks.forEach((flat, bucket) => {
      for (let i = 1; i < flat.length; i += 2) candidates.push({ bucket, score: Number(flat[i]) });
    });
    if (candidates.length === 0) break;
    candidates.sort((a, b) => a.score - b.score);
    const counts = new Map<number, number>();
    for (const candidate of candidates.slice(0, wanted)) counts.set(candidate.bucket, (counts.get(candidate.bucket) ?? 0) + 1);
    const taken = await Promise.all([...counts].map(([bucket, count]) => claim.take(buckets[bucket]!, count)));
    for (const part of taken) claimed.push(...part);
  }
  return claimed.sort((a, b) => claim.time(a) - claim.time(b));
}
