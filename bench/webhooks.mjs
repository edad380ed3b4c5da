// Deadlines to webhook arrivals: 10,000 form sessions that expire at one moment, and one local
// node:http receiver on 127.0.0.1 in a process of its own. Measures the delay from the deadline to
// each session.expired webhook's first arrival (p50, p99), the events delivered per second from
// the deadline to the last arrival, and requests that arrived twice. Every delivery is signed,
// logged in the endpoint's delivery log and settled in the outbox, and every expiry is a state
// change, as in production; webhooks go out through the sender `serve` uses (`createWebhookSender`).
//
// Scenarios: the memory store (one instance, in this process); Redis and PostgreSQL with one and
// with two instances (worker processes of their own sharing the store); and BullMQ 6, the tool a
// user would pick instead: 10,000 delayed jobs due at the same moment, a worker process that signs
// each with HMAC-SHA256 (node:crypto) and POSTs it through a keep-alive node:http agent to the same
// receiver, with no state change and no delivery log. Our figures are printed as ratios to its.
// Each of these runs three rounds, interleaved, and is judged on its best (BENCH_WEBHOOK_ROUNDS).
// Every worker is warm when the deadline comes, as a long-running one is: before the measured
// burst it has delivered 500 events of a warm-up organization (BENCH_WEBHOOK_WARMUP per instance),
// which the receiver answers and does not count. A process that starts cold spends most of its
// first second compiling and connecting, which a burst on a fresh process would charge once per
// instance. BullMQ's worker warms up on as many jobs.
import { fork } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createWebhookSender } from "@agent-sessions/cli";
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { openRedisStore } from "@agent-sessions/redis";
import { openSqlStore } from "@agent-sessions/sql";
import { Worker as BullWorker, Queue } from "bullmq";
import { createPool } from "mysql2/promise";
import pg from "pg";
import { formatCount, report } from "./measure.mjs";

const SESSIONS = Number(process.env.BENCH_WEBHOOK_SESSIONS ?? 10_000);
/** Rounds of each throughput scenario; each is judged on its best (BENCH_WEBHOOK_ROUNDS). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 3));
const ORG = "org_bench";
/** Sessions (or BullMQ jobs) each worker delivers before the measured burst, to a URL the receiver does not count. */
const WARMUP = Number(process.env.BENCH_WEBHOOK_WARMUP ?? 500);
const WARMUP_ORG = "org_warmup";
/** How often an idle worker looks for due deadlines; the delay's floor is up to this much. */
const INTERVAL_MS = 100;
const BATCH = 200;
/** Time between the end of the setup and the deadline, so every worker is up and idle by then. */
const LEAD_MS = 2_000;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PG_URL = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_URL = process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
/** The crash scenario: deadlines falling due at once among three instances, one killed while it works. */
const CRASH = { sessions: 300, instances: 3, killAfterMs: 300, receiverDelayMs: 100, intervalMs: 1000 };
const SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

/**
 * The receiver: answers 204 at once and remembers each webhook id's first arrival and its count;
 * requests to a URL with `?warmup` only add to the warm-up count.
 */
function receiver() {
  const first = new Map();
  const warm = new Set();
  let requests = 0;
  let delayMs = 0;
  let cpuSince = process.cpuUsage();
  const server = createServer((incoming, answer) => {
    const id = incoming.headers["webhook-id"];
    incoming.resume();
    const warmup = incoming.url.includes("?warmup");
    incoming.on("end", () => {
      if (warmup) warm.add(id);
      else {
        requests++;
        if (!first.has(id)) first.set(id, Date.now());
      }
      if (delayMs === 0) answer.writeHead(204).end();
      else setTimeout(() => answer.writeHead(204).end(), delayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
  process.on("message", (message) => {
    if (typeof message === "object" && "delayMs" in message) {
      delayMs = message.delayMs;
      process.send({ delayed: delayMs });
    } else if (message === "count") process.send({ count: first.size });
    else if (message === "warm") process.send({ warm: warm.size });
    else if (message === "reset") {
      cpuSince = process.cpuUsage();
      first.clear();
      warm.clear();
      requests = 0;
    } else if (message === "report") {
      const cpu = process.cpuUsage(cpuSince);
      process.send({ arrivals: [...first.values()], requests, cpuMs: (cpu.user + cpu.system) / 1000 });
    }
  });
}

/** Forks this file in a role; resolves the child and its first message. */
async function spawn(args) {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each worker process there (`--cpu-prof`).
  const execArgv = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = fork(new URL(import.meta.url).pathname, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  const first = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`${args[0]} exited with ${code} before it was ready`)));
  });
  return { child, first };
}

/** Sends `message` to a child and resolves its first answer that has `key`, whole. */
const ask = (child, message, key) =>
  new Promise((resolve) => {
    const listener = (answer) => {
      if (key in answer) {
        child.off("message", listener);
        resolve(answer);
      }
    };
    child.on("message", listener);
    child.send(message);
  });

/** Waits until the receiver has `count` distinct arrivals (or warm-up arrivals: `key` "warm"), or gives up at `giveUpAt`. */
async function awaitArrivals(target, count, giveUpAt, key = "count") {
  while (Date.now() < giveUpAt) {
    if ((await ask(target, key, key))[key] >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (key === "warm") throw new Error(`the warm-up's ${count} events did not all arrive`);
}

/** p50, p99, last and events/s of one scenario's arrivals after `deadline`. */
async function collect(target, deadline) {
  const { arrivals, requests, cpuMs } = await ask(target, "report", "arrivals");
  console.log(`receiver CPU: ${Math.round((cpuMs * 1000) / arrivals.length)} µs/event`);
  target.send("reset");
  const delays = arrivals.map((at) => at - deadline).sort((a, b) => a - b);
  const quantile = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? Number.NaN;
  const last = delays.at(-1) ?? Number.NaN;
  return {
    delivered: arrivals.length,
    duplicates: requests - arrivals.length,
    p50: quantile(0.5),
    p99: quantile(0.99),
    last,
    perSecond: arrivals.length / (Math.max(last, 1) / 1000),
  };
}

/** An engine as `serve` makes it: webhooks through the node:http sender, private targets allowed for the local receiver. */
function benchEngine(store, clock, errors) {
  return createEngine({
    store,
    clock,
    webhooks: { allowPrivateAddresses: true },
    sendWebhook: createWebhookSender({ allowPrivateAddresses: true }),
    onWorkerError: (error) => errors.push(error),
  });
}

/** Creates the endpoint, the form and `count` sessions of `org`, each due a second after it was made. */
async function seed(store, url, count = SESSIONS, org = ORG) {
  const frozen = Date.now() - 1000; // so every session is due by the time the seeding ends
  const errors = [];
  const engine = benchEngine(store, () => frozen, errors);
  await engine.webhooks.create(org, { url, events: ["session.expired"] });
  await engine.forms.create(org, { name: "Bench", slug: "bench", fields: [{ name: "email", type: "email" }] });
  let next = 0;
  // A few creates in flight: a shared store is a network away.
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < count) await engine.formSessions.create(org, "bench", { expiresIn: 1 });
    }),
  );
  await engine.close();
}

/**
 * One worker instance over a shared store, in a process of its own: told "warm", it works until
 * told "pause" (the warm-up), then "start" begins the measured run, and "stop" ends it.
 */
async function instance({ store: spec, intervalMs = INTERVAL_MS }) {
  const store = await openStore(spec);
  const errors = [];
  const engine = benchEngine(store, Date.now, errors);
  let cpuAtStart;
  process.send({ ready: true });
  process.on("message", async (message) => {
    if (message === "warm") engine.start({ intervalMs, batch: BATCH });
    if (message === "pause") {
      await engine.stop();
      process.send({ paused: true });
    }
    if (message === "start") {
      cpuAtStart = process.cpuUsage();
      engine.start({ intervalMs, batch: BATCH });
    }
    if (message === "stop") {
      await engine.close();
      await store.close?.();
      const cpu = process.cpuUsage(cpuAtStart);
      process.send({ errors: errors.length, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
    }
  });
}

/**
 * A reading of the store server's CPU: Redis's seconds from INFO cpu, or PostgreSQL's seconds per
 * process from /proc (Linux); null where there is none. `serverCpuSince` tells the seconds between two.
 */
async function storeServerCpu(spec) {
  if (spec.kind === "postgres") return processCpu("postgres");
  if (spec.kind !== "redis") return null;
  const store = openRedisStore(REDIS_URL, { prefix: "cpu" });
  const info = await store.client.info("cpu");
  await store.close();
  const field = (name) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))?.[1] ?? 0);
  return field("used_cpu_sys") + field("used_cpu_user");
}

/**
 * The store server's CPU seconds between two `storeServerCpu` readings. PostgreSQL's is summed per
 * process: one that ended in between (a closed connection's) is left out rather than subtracted,
 * and one that started in between counts from its start; one that started and ended in between
 * is missed.
 */
function serverCpuSince(before, after) {
  if (typeof before === "number") return after - before;
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return seconds;
}

/** The machine's busy and total CPU seconds so far, over all its cores, from /proc/stat (Linux), or null. */
function machineCpu() {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0); // idle and iowait
    const total = fields.reduce((sum, value) => sum + value, 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return null;
  }
}

/** "1.6 of 2 cores busy" between two `machineCpu` readings, or "" off Linux. */
function coresBusy(before, after) {
  if (before === null || after === null || after.total === before.total) return "";
  const cores = availableParallelism();
  return `${((cores * (after.busy - before.busy)) / (after.total - before.total)).toFixed(2)} of ${cores} cores busy`;
}

/** The CPU seconds each live process named `name` used so far, by pid, from /proc, or null where there is none. */
function processCpu(name) {
  const seconds = new Map();
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^[0-9]+$/.test(pid)) continue;
      let stat = "";
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue; // it ended meanwhile
      }
      if (!stat.includes(`(${name})`)) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / 100); // utime and stime, in clock ticks (USER_HZ is 100 on Linux)
    }
  } catch {
    return null;
  }
  return seconds;
}

async function openStore(spec) {
  if (spec.kind === "redis") return openRedisStore(REDIS_URL, { prefix: spec.prefix });
  if (spec.kind === "mysql") return openSqlStore(`${MYSQL_URL}/${spec.database}`, { maxConnections: 10 });
  if (spec.kind === "sqlite") return openSqlStore(`sqlite:${spec.file}`);
  return openSqlStore(PG_URL, { schema: spec.schema, maxConnections: 10 });
}

/** One scenario over a shared store: seeded here, worked by `instances` processes. */
async function sharedScenario(target, url, spec, instances) {
  const store = await openStore(spec);
  if (spec.kind === "postgres") await store.migrate();
  const workers = await Promise.all(Array.from({ length: instances }, () => spawn(["--instance", JSON.stringify({ store: spec })])));
  // The warm-up: the instances deliver a warm-up organization's sessions, then pause while the measured ones are made.
  await seed(store, `${url}?warmup`, WARMUP * instances, WARMUP_ORG);
  for (const { child } of workers) child.send("warm");
  await awaitArrivals(target, WARMUP * instances, Date.now() + 60_000, "warm");
  await Promise.all(workers.map(({ child }) => ask(child, "pause", "paused")));
  await seed(store, url);
  await store.close?.();
  // Seeding a shared store takes longer than any lead a frozen clock could give, so the sessions
  // are due already and the deadline is the moment the idle workers are told to start.
  const serverCpu = await storeServerCpu(spec);
  const machine = machineCpu();
  const deadline = Date.now();
  for (const { child } of workers) child.send("start");
  await awaitArrivals(target, SESSIONS, deadline + 120_000);
  const machineAfter = machineCpu();
  const serverCpuAfter = await storeServerCpu(spec);
  if (serverCpu !== null) console.log(`store server CPU: ${Math.round((serverCpuSince(serverCpu, serverCpuAfter) * 1e6) / SESSIONS)} µs/event`);
  console.log(`machine: ${coresBusy(machine, machineAfter)}`);
  const stopped = await Promise.all(workers.map(({ child }) => ask(child, "stop", "errors")));
  console.log(`worker CPU: ${stopped.map((answer) => Math.round((answer.cpuMs * 1000) / SESSIONS)).join(", ")} µs/event`);
  return { ...(await collect(target, deadline)), errors: stopped.reduce((sum, answer) => sum + answer.errors, 0) };
}

/**
 * Three instances on one store, as `serve` runs them (a round a second when idle), share 300
 * deadlines due at once; a receiver that takes 100 ms to answer keeps each busy for a while, and
 * one is killed (SIGKILL) 300 ms after the deadline with deliveries claimed. Its claims pass to the
 * others when their 3 s lease runs out: p99 stays within a few seconds, where a 30 s lease put it
 * at 30 s.
 */
async function crashScenario(target, url, spec) {
  const store = await openStore(spec);
  if (spec.kind !== "redis") await store.migrate();
  await seed(store, url, CRASH.sessions);
  await store.close?.();
  await ask(target, { delayMs: CRASH.receiverDelayMs }, "delayed");
  const args = ["--instance", JSON.stringify({ store: spec, intervalMs: CRASH.intervalMs })];
  const workers = await Promise.all(Array.from({ length: CRASH.instances }, () => spawn(args)));
  const deadline = Date.now();
  for (const { child } of workers) child.send("start");
  await new Promise((resolve) => setTimeout(resolve, CRASH.killAfterMs));
  const [killed, ...survivors] = workers;
  killed.child.kill("SIGKILL");
  await awaitArrivals(target, CRASH.sessions, deadline + 60_000);
  const stopped = await Promise.all(survivors.map(({ child }) => ask(child, "stop", "errors")));
  await ask(target, { delayMs: 0 }, "delayed");
  const result = await collect(target, deadline);
  return { ...result, errors: stopped.reduce((sum, answer) => sum + answer.errors, 0), total: CRASH.sessions };
}

async function memoryScenario(target, url) {
  const store = new MemoryStore();
  let frozen = null;
  const errors = [];
  const engine = benchEngine(store, () => frozen ?? Date.now(), errors);
  // The warm-up, as the shared scenarios': sessions due at once, delivered before the measured ones are made.
  await seed(store, `${url}?warmup`, WARMUP, WARMUP_ORG);
  engine.start({ intervalMs: INTERVAL_MS, batch: BATCH });
  await awaitArrivals(target, WARMUP, Date.now() + 60_000, "warm");
  await engine.stop();
  frozen = Date.now();
  await engine.webhooks.create(ORG, { url, events: ["session.expired"] });
  await engine.forms.create(ORG, { name: "Bench", slug: "bench", fields: [{ name: "email", type: "email" }] });
  const deadline = frozen + LEAD_MS;
  for (let i = 0; i < SESSIONS; i++) await engine.formSessions.create(ORG, "bench", { expiresIn: LEAD_MS / 1000 });
  if (Date.now() >= deadline) throw new Error(`creating ${SESSIONS} sessions took longer than ${LEAD_MS} ms`);
  frozen = null;
  const machine = machineCpu();
  engine.start({ intervalMs: INTERVAL_MS, batch: BATCH });
  await awaitArrivals(target, SESSIONS, deadline + 120_000);
  console.log(`machine: ${coresBusy(machine, machineCpu())} (from the start, before the deadline, to the last arrival)`);
  await engine.close();
  return { ...(await collect(target, deadline)), errors: errors.length };
}

/** BullMQ: delayed jobs due at one moment, worked by one process that signs and POSTs. */
async function bullmqScenario(target, url) {
  const prefix = `bench-bull-${randomUUID().slice(0, 8)}`;
  const connection = { url: REDIS_URL };
  const queue = new Queue("webhooks", { connection, prefix });
  const worker = await spawn(["--bullmq-worker", JSON.stringify({ prefix, url })]);
  // The warm-up: as many jobs as one of our instances delivers before its burst, due at once.
  const warmup = Array.from({ length: WARMUP }, (_, i) => ({
    name: "session.expired",
    data: {
      id: `msg_${randomUUID()}`,
      warmup: true,
      type: "session.expired",
      timestamp: new Date().toISOString(),
      data: { id: `fs_w${i}`, status: "expired" },
    },
    opts: { removeOnComplete: true },
  }));
  await queue.addBulk(warmup);
  await awaitArrivals(target, WARMUP, Date.now() + 60_000, "warm");
  await ask(worker.child, "measure", "measuring");
  const deadline = Date.now() + 3_000;
  const jobs = [];
  for (let i = 0; i < SESSIONS; i++) {
    const id = `msg_${randomUUID()}`;
    jobs.push({
      name: "session.expired",
      data: { id, type: "session.expired", timestamp: new Date(deadline).toISOString(), data: { id: `fs_${i}`, status: "expired" } },
      opts: { delay: deadline - Date.now(), removeOnComplete: true },
    });
  }
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  if (Date.now() >= deadline) throw new Error(`adding ${SESSIONS} BullMQ jobs took longer than 3 s`);
  const serverCpu = await storeServerCpu({ kind: "redis" });
  const machine = machineCpu();
  await awaitArrivals(target, SESSIONS, deadline + 120_000);
  console.log(`machine: ${coresBusy(machine, machineCpu())} (from the jobs' adding to the last arrival)`);
  const serverCpuAfter = await storeServerCpu({ kind: "redis" });
  console.log(
    `store server CPU: ${Math.round((serverCpuSince(serverCpu, serverCpuAfter) * 1e6) / SESSIONS)} µs/event (its delayed jobs made due included)`,
  );
  const { cpuMs } = await ask(worker.child, "stop", "stopped");
  // From the warm-up's end: its idle polling while the jobs were added is counted too.
  console.log(`worker CPU: ${Math.round((cpuMs * 1000) / SESSIONS)} µs/event`);
  await queue.obliterate({ force: true });
  await queue.close();
  return { ...(await collect(target, deadline)), errors: 0 };
}

/** The BullMQ worker process: HMAC-SHA256 as Standard Webhooks asks, POSTed with a keep-alive agent. */
async function bullmqWorker({ prefix, url }) {
  const agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  const worker = new BullWorker(
    "webhooks",
    async (job) => {
      const { id, type, timestamp, data, warmup } = job.data;
      const body = JSON.stringify({ type, timestamp, data });
      const seconds = Math.floor(Date.now() / 1000);
      const signature = createHmac("sha256", key).update(`${id}.${seconds}.${body}`).digest("base64");
      await new Promise((resolve, reject) => {
        const outgoing = request(warmup ? `${url}?warmup` : url, {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "webhook-id": id,
            "webhook-timestamp": String(seconds),
            "webhook-signature": `v1,${signature}`,
          },
        });
        outgoing.on("error", reject);
        outgoing.on("response", (answer) => {
          answer.resume();
          answer.on("end", () => (answer.statusCode >= 200 && answer.statusCode < 300 ? resolve() : reject(new Error(`HTTP ${answer.statusCode}`))));
        });
        outgoing.end(body);
      });
    },
    { connection: { url: REDIS_URL }, prefix, concurrency: 100 },
  );
  await worker.waitUntilReady();
  let cpuAtStart = process.cpuUsage();
  process.send({ ready: true });
  process.on("message", async (message) => {
    if (message === "measure") {
      cpuAtStart = process.cpuUsage(); // the warm-up is done
      process.send({ measuring: true });
    }
    if (message === "stop") {
      await worker.close();
      const cpu = process.cpuUsage(cpuAtStart);
      process.send({ stopped: true, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
    }
  });
}

async function main() {
  const { child: target, first } = await spawn(["--receiver"]);
  const url = `http://127.0.0.1:${first.port}/hooks`;
  const results = [];
  // BENCH_WEBHOOK_ONLY=redis runs only the scenarios whose name matches (case-insensitive).
  const only = process.env.BENCH_WEBHOOK_ONLY ? new RegExp(process.env.BENCH_WEBHOOK_ONLY, "i") : null;
  /** One round of one scenario: its result, printed, or `{ failed: true }`. */
  const attempt = async (name, scenario, label = "") => {
    try {
      const result = await scenario();
      console.log(
        `webhooks, ${name}${label}: ${formatCount(result.delivered)} of ${formatCount(result.total ?? SESSIONS)} delivered; deadline → arrival p50 ${result.p50} ms, ` +
          `p99 ${result.p99} ms, last ${result.last} ms; ${formatCount(result.perSecond)} events/s; ${result.duplicates} delivered twice; ${result.errors} worker errors`,
      );
      return result;
    } catch (error) {
      console.log(`webhooks, ${name}${label}: failed (${error.message})`);
      return { failed: true };
    }
  };
  const run = async (name, scenario) => {
    if (only && !only.test(name)) return;
    results.push({ name, ...(await attempt(name, scenario)) });
  };
  /**
   * The throughput scenarios, ROUNDS times each and interleaved (round 1 of each, then round 2…),
   * as this shared machine's speed drifts by a third between minutes: each is judged on its best
   * round (its events/s, with that round's p50 and p99), and a message delivered twice in any
   * round counts against it.
   */
  const runRounds = async (scenarios) => {
    const picked = scenarios.filter(([name]) => !only || only.test(name));
    const rounds = new Map(picked.map(([name]) => [name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, scenario] of picked) rounds.get(name).push(await attempt(name, scenario, ROUNDS > 1 ? ` (round ${round} of ${ROUNDS})` : ""));
    }
    for (const [name, all] of rounds) {
      const done = all.filter((result) => !result.failed);
      if (done.length === 0) {
        results.push({ name, failed: true });
        continue;
      }
      const best = done.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
      const sum = (key) => done.reduce((total, result) => total + result[key], 0);
      results.push({ name, ...best, duplicates: sum("duplicates"), errors: sum("errors"), failedRounds: all.length - done.length });
    }
  };

  /** A key prefix of its own for each scenario round, removed at the end. */
  const redisSpecs = [];
  const freshRedis = () => {
    const spec = { kind: "redis", prefix: `bench-hooks-${randomUUID().slice(0, 8)}` };
    redisSpecs.push(spec);
    return spec;
  };
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 3000 });
  const schemas = [];
  const pgSchema = async () => {
    const schema = `bench_hooks_${randomUUID().slice(0, 8)}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    return { kind: "postgres", schema };
  };

  await runRounds([
    ["BullMQ 6, one worker process", () => bullmqScenario(target, url)],
    ["memory store, one instance", () => memoryScenario(target, url)],
    ["Redis, one instance", () => sharedScenario(target, url, freshRedis(), 1)],
    ["Redis, two instances", () => sharedScenario(target, url, freshRedis(), 2)],
    ["PostgreSQL, one instance", async () => sharedScenario(target, url, await pgSchema(), 1)],
    ["PostgreSQL, two instances", async () => sharedScenario(target, url, await pgSchema(), 2)],
  ]);
  const mysql = createPool({ uri: MYSQL_URL, connectionLimit: 1 });
  const databases = [];
  const mysqlDatabase = async () => {
    const database = `bench_hooks_${randomUUID().slice(0, 8)}`;
    await mysql.query(`CREATE DATABASE ${database}`);
    databases.push(database);
    return { kind: "mysql", database };
  };
  const files = [];
  const sqliteFile = () => {
    const file = join(tmpdir(), `bench-hooks-${randomUUID().slice(0, 8)}.db`);
    files.push(file);
    return { kind: "sqlite", file };
  };
  await run("Redis, three instances, one killed", () => crashScenario(target, url, freshRedis()));
  await run("PostgreSQL, three instances, one killed", async () => crashScenario(target, url, await pgSchema()));
  await run("MariaDB, three instances, one killed", async () => crashScenario(target, url, await mysqlDatabase()));
  await run("SQLite, three instances, one killed", () => crashScenario(target, url, sqliteFile()));
  for (const database of databases) await mysql.query(`DROP DATABASE ${database}`).catch(() => {});
  await mysql.end();
  for (const file of files) for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });

  // Clean up: the Redis prefixes and the PostgreSQL schemas of the run.
  for (const schema of schemas) await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
  await admin.end();
  const cleanup = openRedisStore(REDIS_URL, { prefix: "cleanup" });
  for (const spec of redisSpecs) {
    let cursor = "0";
    do {
      const [nextCursor, keys] = await cleanup.client.scan(cursor, "MATCH", `*${spec.prefix}*`, "COUNT", 1000);
      cursor = nextCursor;
      if (keys.length > 0) await cleanup.client.unlink(...keys);
    } while (cursor !== "0");
  }
  await cleanup.close();
  target.kill();

  const bull = results.find((result) => result.name.startsWith("BullMQ"));
  const ratio = (ours, theirs, higherIsBetter) => {
    if (!bull || bull.failed || !Number.isFinite(ours) || !Number.isFinite(theirs)) return "";
    const value = higherIsBetter ? ours / theirs : theirs / ours;
    return `, ${value.toFixed(2)}× BullMQ's`;
  };
  const rows = [];
  for (const result of results) {
    if (result.failed) {
      rows.push({ benchmark: `webhooks, ${result.name}`, figure: "failed", goal: "", met: false });
      continue;
    }
    const ours = !result.name.startsWith("BullMQ");
    if (result.name.endsWith("one killed")) {
      rows.push({
        benchmark: `webhooks, ${result.name}: deadline → arrival p50 / p99 (${formatCount(result.total)} due at once, one instance killed after ${CRASH.killAfterMs} ms)${result.duplicates ? `, ${result.duplicates} twice` : ""}`,
        figure: `${result.p50} / ${result.p99} ms`,
        goal: "p99 ≤ 6,000 ms, every event",
        met: result.p99 <= 6000 && result.delivered === result.total,
      });
      continue;
    }
    const single = result.name.endsWith("one instance");
    const rounds = ROUNDS > 1 ? `, best of ${ROUNDS} rounds${result.failedRounds ? ` (${result.failedRounds} failed)` : ""}` : "";
    // The goals of one instance are the memory store's and Redis's; PostgreSQL's is two beating one.
    const judged = single && !result.name.startsWith("PostgreSQL");
    rows.push({
      benchmark: `webhooks, ${result.name}: deadline → arrival p50 / p99 (${formatCount(SESSIONS)} due at once${rounds})`,
      figure: `${result.p50} / ${result.p99} ms${ours ? ratio(result.p99, bull?.p99, false) : ""}`,
      goal: ours && judged ? "p99 ≤ 2,000 ms" : "",
      met: !ours || !judged || result.p99 <= 2000,
    });
    const twoOf = results.find((other) => other.name === result.name.replace("two instances", "one instance"));
    rows.push({
      benchmark: `webhooks, ${result.name}: events delivered per second${rounds}${result.duplicates ? `, ${result.duplicates} twice` : ""}`,
      figure: `${formatCount(result.perSecond)} /s${ours ? ratio(result.perSecond, bull?.perSecond, true) : ""}`,
      goal: !ours || (single && !judged) ? "" : judged ? "≥ 5,000 /s" : "more than one instance, none twice",
      met:
        !result.failedRounds &&
        (!ours || (single ? !judged || result.perSecond >= 5000 : result.perSecond > (twoOf?.perSecond ?? 0) && result.duplicates === 0)),
    });
  }
  report(rows);
}

// Last, so every function and constant above is defined before a role runs.
const role = process.argv[2];
if (role === "--receiver") receiver();
else if (role === "--instance") await instance(JSON.parse(process.argv[3]));
else if (role === "--bullmq-worker") await bullmqWorker(JSON.parse(process.argv[3]));
else await main();
