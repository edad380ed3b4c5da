import { InvalidInputError } from "@agent-sessions/core";
import { fixtures } from "@agent-sessions/core/testing";
import { RedisStore } from "@agent-sessions/redis";
import { expect, it } from "vitest";
import { dumpKeys, randomPrefix } from "./support/redis.js";
import { useFileRedis } from "./support/servers.js";

const redis = useFileRedis();
const { T0, orgId } = fixtures;

/** A store on a prefix of its own, and an entry maker for one endpoint of one organization. */
function logStore() {
  const client = redis.connect();
  const store = new RedisStore({ client, prefix: randomPrefix("log") });
  const org = orgId();
  const entry = (id: string, startedAt: number, webhookId = "wh_1") => ({ orgId: org, webhookId, id, startedAt, data: { id } });
  return { client, store, org, entry };
}

it("continues after a cursor whose entry is gone from where that entry would be", async () => {
  const { store, org, entry } = logStore();
  const written = [entry("b", T0), entry("d", T0 + 1), entry("a", T0 + 1), entry("c", T0 + 1), entry("e", T0 + 2)];
  await store.logDeliveries(written);
  // Log order: e, d, c, a, b. A cursor of an entry "bb" at T0 + 1 (no such entry) sits between c and a.
  const page = await store.deliveryLog(org, "wh_1", { limit: 10, cursor: `${T0 + 1}:bb` });
  expect(page.entries.map((logged) => logged.id)).toEqual(["a", "b"]);
  expect(page.total).toBe(5);
  // A cursor naming an entry by the wrong start is placed by its start too.
  expect((await store.deliveryLog(org, "wh_1", { limit: 10, cursor: `${T0 + 2}:a` })).entries.map((logged) => logged.id)).toEqual([
    "d",
    "c",
    "a",
    "b",
  ]);
  expect((await store.deliveryLog(org, "wh_1", { limit: 2, cursor: `${T0 + 2}:e` })).nextCursor).toBe(`${T0 + 1}:c`);
});

it("writes nothing when one entry of a batch cannot be stored, and refuses naming its field", async () => {
  const { client, store, org, entry } = logStore();
  const bad = { ...entry("y", T0), data: { n: 1n } };
  await expect(store.logDeliveries([entry("x", T0), bad])).rejects.toThrow();
  await expect(store.logDeliveries([entry("x", T0), { ...entry("z", Number.NaN) }])).rejects.toMatchObject({ field: "entries[1].startedAt" });
  await expect(store.logDeliveries([{ ...entry("x", T0), orgId: "a:b" }])).rejects.toBeInstanceOf(InvalidInputError);
  expect(await dumpKeys(client, store.keyPattern)).toEqual(new Map());
  expect((await store.deliveryLog(org, "wh_1", { limit: 10 })).total).toBe(0);
});

it("writes the entries of several organizations in one call, each into its own log", async () => {
  const { store, org, entry } = logStore();
  const other = orgId();
  await store.logDeliveries([entry("x", T0), { ...entry("x", T0 + 5), orgId: other, data: { theirs: true } }]);
  expect((await store.deliveryLog(org, "wh_1", { limit: 10 })).entries).toEqual([entry("x", T0)]);
  expect((await store.deliveryLog(other, "wh_1", { limit: 10 })).entries).toEqual([{ ...entry("x", T0 + 5), orgId: other, data: { theirs: true } }]);
});
