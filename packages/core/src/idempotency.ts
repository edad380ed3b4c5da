import type { IdempotencyEntry, IdempotencyStore } from "./store.js";

/**
 * `Idempotency-Key`s in this process's memory: the router's default when the engine's store does
 * not declare `capabilities.idempotency`, and the memory store's own. Several instances behind one
 * load balancer do not share it: a retry that reaches another instance runs again, so give them a
 * store with the capability (SQL, Redis).
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** Entries in the order they were stored, which is nearly the order they expire in. */
  private readonly entries = new Map<string, IdempotencyEntry>();
  /** The record each completed entry's request created, by entry: what `forgetRecords` matches. */
  private readonly creations = new Map<string, string>();

  /** How many keys are held, expired ones not reclaimed yet included. */
  get size(): number {
    return this.entries.size;
  }

  async reserveIdempotencyKey(orgId: string, key: string, entry: IdempotencyEntry, now: number): Promise<IdempotencyEntry | null> {
    this.reclaim(now);
    const name = entryKey(orgId, key);
    const existing = this.entries.get(name);
    if (existing && existing.expiresAt > now) return structuredClone(existing);
    this.entries.delete(name); // re-inserted last, so the map stays in storing order
    this.creations.delete(name);
    this.entries.set(name, structuredClone(entry));
    return null;
  }

  async completeIdempotencyKey(orgId: string, key: string, response: unknown, recordId?: string): Promise<void> {
    const name = entryKey(orgId, key);
    const existing = this.entries.get(name);
    if (!existing) return;
    this.entries.set(name, { ...existing, response: structuredClone(response) });
    if (recordId !== undefined) this.creations.set(name, recordId);
  }

  async releaseIdempotencyKey(orgId: string, key: string): Promise<void> {
    this.entries.delete(entryKey(orgId, key));
    this.creations.delete(entryKey(orgId, key));
  }

  /**
   * The entries whose request created one of `ids` in the organization: removed, or only counted
   * when `dryRun`. Returns how many; for a store's `purge`.
   */
  forgetRecords(orgId: string, ids: ReadonlySet<string>, dryRun = false): number {
    const prefix = entryKey(orgId, "");
    let forgotten = 0;
    for (const [name, recordId] of this.creations) {
      if (!ids.has(recordId) || !name.startsWith(prefix)) continue;
      forgotten++;
      if (dryRun) continue;
      this.creations.delete(name);
      this.entries.delete(name);
    }
    return forgotten;
  }

  /** Drops a few expired entries from the oldest end: a bounded step per call keeps memory bounded under load. */
  private reclaim(now: number): void {
    let checked = 0;
    for (const [name, entry] of this.entries) {
      if (checked++ >= 8 || entry.expiresAt > now) return;
      this.entries.delete(name);
      this.creations.delete(name);
    }
  }
}

function entryKey(orgId: string, key: string): string {
  return [orgId, key].join("\u0000");
}
