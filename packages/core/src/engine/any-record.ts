import type { Static } from "@sinclair/typebox";
import { type KINDS, kindOf, type RecordKind } from "../kinds/index.js";
import type { SessionEvent } from "../schemas/event.js";
import type { Records } from "./records.js";

/**
 * A record of any kind, as of now, with its kind: what `engine.records.get` answers, so a caller
 * that takes ids of several kinds (`GET /v1/sessions/:id`) reads once and branches on `kind`.
 */
export type AnyRecord = {
  [K in RecordKind]: {
    readonly kind: K;
    /** The record's state, as its kind's operations return it. */
    readonly record: Static<(typeof KINDS)[K]["state"]>;
    /** The sequence number of the record's last stored event: `engine.watch` from it yields what comes next. */
    readonly seq: number;
  };
}[RecordKind];

/** Reads and settles records whatever their kind: by id alone, within one organization. */
export function anyRecordOperations(records: Records) {
  return {
    /** Any record of the organization by its id, with its kind; not found for an unknown id or another organization's. */
    async get(orgId: string, id: string): Promise<AnyRecord> {
      const stored = await records.loadAny(orgId, id);
      const { machine } = kindOf(stored.kind);
      const record = machine ? machine.settle(stored.data, records.now).state : stored.data;
      return { kind: stored.kind, record, seq: stored.eventCount } as AnyRecord;
    },

    /** A record's events in order, after `afterSeq` when given (any kind, one organization). */
    async timeline(orgId: string, id: string, query: { afterSeq?: number; limit?: number } = {}): Promise<SessionEvent[]> {
      await records.loadAny(orgId, id);
      return records.store.timeline(orgId, id, query);
    },

    /**
     * Persists what time alone did to one record by now (an expiry, a timeout) and returns how
     * many events that wrote: for a caller that waits on a deadline instead of a sweep.
     */
    async settle(orgId: string, id: string): Promise<number> {
      const { kind } = await records.loadAny(orgId, id);
      const { machine } = kindOf(kind);
      return machine ? records.settle(orgId, kind, id, machine, records.now) : 0;
    },
  };
}
