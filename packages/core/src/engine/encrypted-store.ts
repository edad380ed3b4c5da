import type { Codec } from "../encryption.js";
import type { SessionEvent } from "../schemas/event.js";
import type { IdempotencyEntry, OutboxMessage, RecordWrite, Store, StoredRecord } from "../store.js";

/**
 * Where each stored value lives, bound to its ciphertext: a value copied to another record, event,
 * message or key does not decrypt there.
 */
const where = {
  record: (record: Pick<StoredRecord, "orgId" | "id">) => `record:${record.orgId}:${record.id}`,
  event: (event: Pick<SessionEvent, "orgId" | "recordId" | "seq">) => `event:${event.orgId}:${event.recordId}:${event.seq}`,
  outbox: (message: Pick<OutboxMessage, "orgId" | "id">) => `outbox:${message.orgId}:${message.id}`,
  idempotency: (orgId: string, key: string) => `idempotency:${orgId}:${key}`,
};

/** One direction of a codec: `encode` or `decode`. */
type Transform = (value: unknown, context: string) => Promise<unknown>;

/** A record with its `data` passed through `transform`. */
const recordThrough = (transform: Transform) => async (record: StoredRecord) => ({
  ...record,
  data: await transform(record.data, where.record(record)),
});

/** An event with its `payload` passed through `transform`. */
const eventThrough =
  (transform: Transform) =>
  async (event: SessionEvent): Promise<SessionEvent> => ({
    ...event,
    payload: (await transform(event.payload, where.event(event))) as SessionEvent["payload"],
  });

/** An outbox message (or a claimed entry) with its `payload` passed through `transform`. */
const messageThrough =
  (transform: Transform) =>
  async <M extends OutboxMessage>(message: M): Promise<M> => ({
    ...message,
    payload: (await transform(message.payload, where.outbox(message))) as M["payload"],
  });

/** `open(value)`, or `null` for `null`: a read that found nothing. */
const orNull = async <T>(open: (value: T) => Promise<T>, value: T | null): Promise<T | null> => (value === null ? null : open(value));

/**
 * `store` with every value that holds what people and agents wrote encrypted by `codec` on its
 * way in and decrypted on its way out: a record's `data` (its whole state: prefill and submitted
 * values, messages, context variables, actions, metadata), each event's `payload`, each outbox
 * message's `payload` and each idempotency response. What the store reads stays clear: the
 * record's header (id, organization, kind, status, version, times, `dueAt`), event ids, types and
 * times, aliases, topics and leases, and the delivery log, which holds no such value (ids, event
 * types, attempt numbers, status codes, the error of an attempt, durations, the instance). The
 * methods that carry none of those values, and any a store adds beyond the contract, are the
 * store's own, unchanged.
 */
export function encryptStore(store: Store, codec: Codec): Store {
  const encode: Transform = (value, context) => codec.encode(value, context);
  const decode: Transform = (value, context) => codec.decode(value, context);
  const sealRecord = recordThrough(encode);
  const openRecord = recordThrough(decode);
  const sealEvent = eventThrough(encode);
  const openEvent = eventThrough(decode);
  const sealMessage = messageThrough(encode);
  const openEntry = messageThrough(decode);
  /** A write with its record, events and outbox messages encrypted, all at once. */
  async function seal<W extends RecordWrite>(write: W): Promise<W> {
    const [record, events, outbox] = await Promise.all([
      sealRecord(write.record),
      Promise.all(write.events.map(sealEvent)),
      write.outbox === undefined ? undefined : Promise.all(write.outbox.map(sealMessage)),
    ]);
    return { ...write, record, events, ...(outbox === undefined ? {} : { outbox }) };
  }
  // A response is `null` while its request runs: nothing to hide, and stores tell it apart.
  const sealResponse = (orgId: string, key: string, response: unknown) =>
    response === null ? Promise.resolve(null) : codec.encode(response, where.idempotency(orgId, key));
  const openResponse = async (orgId: string, key: string, entry: IdempotencyEntry | null): Promise<IdempotencyEntry | null> =>
    entry && entry.response !== null ? { ...entry, response: await codec.decode(entry.response, where.idempotency(orgId, key)) } : entry;

  const own: Partial<Store> = {
    insert: async (write) => store.insert(await seal(write)),
    insertWithinLimit: async (write, limit) => store.insertWithinLimit(await seal(write), limit),
    compareAndSet: async (write) => store.compareAndSet(await seal(write)),
    get: async (orgId, id) => orNull(openRecord, await store.get(orgId, id)),
    list: async (orgId, query) => {
      const page = await store.list(orgId, query);
      return { ...page, records: await Promise.all(page.records.map(openRecord)) };
    },
    timeline: async (orgId, id, options) => Promise.all((await store.timeline(orgId, id, options)).map(openEvent)),
    claimOutbox: async (options) => Promise.all((await store.claimOutbox(options)).map(openEntry)),
    // A claim may carry its record (see `DueClaim.record`): opened like any read.
    claimDue: async (options) =>
      Promise.all(
        (await store.claimDue(options)).map(async (claim) => (claim.record ? { ...claim, record: await openRecord(claim.record) } : claim)),
      ),
  };
  if (typeof store.getUnscoped === "function") {
    own.getUnscoped = async (id) => orNull(openRecord, await store.getUnscoped!(id));
  }
  if (typeof store.reserveIdempotencyKey === "function" && typeof store.completeIdempotencyKey === "function") {
    own.reserveIdempotencyKey = async (orgId, key, entry, now) =>
      openResponse(
        orgId,
        key,
        await store.reserveIdempotencyKey!(orgId, key, { ...entry, response: await sealResponse(orgId, key, entry.response) }, now),
      );
    own.completeIdempotencyKey = async (orgId, key, response, recordId) =>
      store.completeIdempotencyKey!(orgId, key, await sealResponse(orgId, key, response), recordId);
  }
  // A proxy rather than a copy of the store's methods: one a store has beyond this contract (or
  // gains later) keeps working, called on the store itself.
  return new Proxy(store, {
    get(target, property) {
      if (Object.hasOwn(own, property)) return own[property as keyof Store];
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
