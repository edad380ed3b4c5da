import { createEngine } from "@agent-sessions/core";
import { fixtures } from "@agent-sessions/core/testing";
import { RedisStore } from "@agent-sessions/redis";
import type { Redis } from "ioredis";
import { beforeAll, expect, it } from "vitest";
import { useFileRedis } from "./support/servers.js";

const redis = useFileRedis();
let admin: Redis;
beforeAll(() => {
  admin = redis.connect();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills every connection named `name`, from another connection; answers how many. */
async function killConnections(name: string): Promise<number> {
  const list = String(await admin.client("LIST"));
  const ids = [...list.matchAll(/^id=(\d+) .*\bname=(\S*)/gm)].filter((match) => match[2] === name).map((match) => match[1]!);
  for (const id of ids) await admin.client("KILL", "ID", id);
  return ids.length;
}

// Two ways a dropped command comes back: ioredis resends what it had in flight (its default), or,
// with resending off, ioredis drops it, `commandTimeout` fails it, and the store sends it again.
// Either way the write token makes a second run of an applied write answer "applied", so the
// engine never applies a command twice.
it.each([
  { resentBy: "ioredis", options: {} },
  { resentBy: "the store", options: { autoResendUnfulfilledCommands: false, commandTimeout: 300 } },
])("applies every transition exactly once when the connection is killed mid-flight (resent by $resentBy)", async ({ resentBy, options }) => {
  const name = `agent-sessions-fault-${resentBy.replace(/\W/g, "")}`;
  const client = redis.connect({ connectionName: name, ...options });
  let reconnects = 0;
  client.on("reconnecting", () => reconnects++);
  client.on("error", () => {}); // reported by the kills themselves; the store resends
  const store = new RedisStore({ client, prefix: "fault" });
  const engine = createEngine({ store });
  const org = fixtures.orgId();
  const LANES = 48;
  const STEPS = 30;
  const workflows = await Promise.all(Array.from({ length: LANES }, () => engine.workflows.create(org, { name: "fault" })));

  let running = true;
  let kills = 0;
  const killer = (async () => {
    await sleep(20);
    while (running) {
      kills += await killConnections(name);
      await sleep(30);
    }
  })();
  try {
    // One lane a workflow, each recording its steps in order while the connection keeps dying.
    await Promise.all(
      workflows.map(async (workflow) => {
        for (let n = 0; n < STEPS; n++) {
          await engine.workflows.recordStep(org, workflow.id, { action: "step", input: { n }, durationMs: 1 });
        }
      }),
    );
  } finally {
    running = false;
    await killer;
  }
  expect(kills).toBeGreaterThanOrEqual(2);
  expect(reconnects).toBeGreaterThanOrEqual(2);

  for (const workflow of workflows) {
    const record = (await store.get(org, workflow.id))!;
    const timeline = await store.timeline(org, workflow.id);
    const steps = await engine.workflows.replay(org, workflow.id);
    // Once each: no step twice, none missing, versions and event numbers without a gap.
    expect(steps.map((step) => (step.input as { n: number }).n)).toEqual(Array.from({ length: STEPS }, (_, n) => n));
    expect(record.version).toBe(1 + STEPS);
    expect(timeline.map((event) => event.seq)).toEqual(Array.from({ length: record.eventCount }, (_, i) => i + 1));
    expect(new Set(timeline.map((event) => event.id)).size).toBe(timeline.length);
  }
});
