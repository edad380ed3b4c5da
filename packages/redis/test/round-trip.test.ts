import { fixtures } from "@agent-sessions/core/testing";
import { RedisStore } from "@agent-sessions/redis";
import type { Redis } from "ioredis";
import { beforeAll, expect, it } from "vitest";
import { useFileRedis } from "./support/servers.js";

// A redis-server of this file's own, so no other test's commands reach its counters.
const redis = useFileRedis();
let client: Redis;
let admin: Redis;
beforeAll(() => {
  client = redis.connect();
  admin = redis.connect();
});

/** `INFO commandstats` as command → calls. */
async function commandCalls(): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const line of (await admin.info("commandstats")).split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls[match[1]!] = Number(match[2]);
  }
  return calls;
}

/**
 * Watches the server with MONITOR and answers, once `stop` is called, every command a client sent
 * (commands that scripts call are told apart by their source, "lua", and left out).
 */
async function watchClientCommands(): Promise<{ stop: () => Promise<{ source: string; name: string }[]> }> {
  const monitor = await redis.connect().monitor();
  const seen: { source: string; name: string }[] = [];
  let marked: () => void;
  const marker = new Promise<void>((resolve) => (marked = resolve));
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === "echo" && args[1] === "round-trip-end") marked();
    else if (source !== "lua") seen.push({ source, name: args[0]!.toLowerCase() });
  });
  return {
    async stop() {
      // MONITOR reports in execution order: once the marker shows, everything before it has.
      await admin.echo("round-trip-end");
      await marker;
      monitor.disconnect();
      return seen;
    },
  };
}

it.each([
  ["without retention", {}],
  ["with retention, which remembers the aliases", { retention: { terminalTtlSeconds: 60 } }],
])("sends exactly one EVALSHA per transition, and no other command, whatever the write holds (%s)", async (_label, options) => {
  const store = new RedisStore({ client, prefix: "round-trip", ...options });
  const org = fixtures.orgId();
  // The first call of each script on a connection is an EVAL that loads it; later ones are EVALSHA.
  const warm = await fixtures.seed(store, { orgId: org });
  expect(await store.compareAndSet(fixtures.next(warm, {}, ["warmed"]))).toBe(true);

  const watch = await watchClientCommands();
  await admin.config("RESETSTAT");
  const N = 40;
  const inserted = [];
  for (let i = 0; i < N; i++) {
    inserted.push(
      await fixtures.seed(
        store,
        { orgId: org, dueAt: fixtures.T0 + i, status: "created" },
        { aliases: [`alias-${i}`], outbox: [fixtures.outboxMessage(org)] },
      ),
    );
  }
  for (const record of inserted) {
    const write = fixtures.next(record, { status: "open", dueAt: null }, ["a", "b", "c"], [fixtures.outboxMessage(org)]);
    expect(await store.compareAndSet({ ...write, aliases: [`second-${record.id}`] })).toBe(true);
  }
  const calls = await commandCalls();
  const sent = await watch.stop();
  // Every command that reached the server from a client: the admin's RESETSTAT and INFO, and the
  // store's 2N transitions, each one EVALSHA.
  const fromStore = sent.filter((command) => command.name !== "config" && command.name !== "info");
  expect(fromStore.map((command) => command.name)).toEqual(Array.from({ length: 2 * N }, () => "evalsha"));
  expect(new Set(fromStore.map((command) => command.source)).size).toBe(1);
  // The server agrees: 2N EVALSHA and no EVAL (the scripts' own calls are counted there too).
  expect(calls.evalsha).toBe(2 * N);
  expect(calls.eval).toBeUndefined();
  // Each write's aliases (a workflow session may be purged) and its outbox message are remembered
  // for purge inside that same script.
  expect(calls.sadd ?? 0).toBe(4 * N);

  const page = await store.list(org, { kind: "workflow", status: "open", limit: 100 });
  expect(page.total).toBe(N);
  expect((await store.timeline(org, inserted[0]!.id)).map((event) => event.type)).toEqual(["session.created", "a", "b", "c"]);
});
