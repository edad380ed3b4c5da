import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { afterAll, beforeAll } from "vitest";

const run = promisify(execFile);

/** A redis-server this test run started, on a loopback port. */
export interface PrivateRedis {
  readonly host: "127.0.0.1";
  readonly port: number;
  stop(): Promise<void>;
}

/** A Redis Cluster of redis-server processes this test run started. */
export interface PrivateCluster {
  readonly nodes: { host: "127.0.0.1"; port: number }[];
  stop(): Promise<void>;
}

/** Whether nothing listens on `port` of the loopback interface. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error("no free loopback port for redis-server");
}

function startProcess(port: number, dir: string, cluster: boolean): ChildProcess {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir];
  if (cluster) args.push("--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`));
  const child = spawn("redis-server", args, { stdio: "ignore" });
  child.on("error", (error) => console.error(`redis-server on ${port} failed to start`, error));
  return child;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function answers(port: number, command: string[], expect: (reply: string) => boolean): Promise<boolean> {
  const probe = new Redis({ host: "127.0.0.1", port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on("error", () => {}); // refused while the server starts: the caller polls again
  try {
    await probe.connect();
    const reply = String(await probe.call(command[0]!, ...command.slice(1)));
    return expect(reply);
  } finally {
    probe.disconnect();
  }
}

async function stopAll(children: ChildProcess[], dir: string): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  await rm(dir, { recursive: true, force: true });
}

/** Starts one redis-server on a free port, with no persistence, in a temporary directory. */
export async function startRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), "agent-sessions-redis-"));
  const port = await freePort(new Set());
  const child = startProcess(port, dir, false);
  await waitUntil(() => answers(port, ["PING"], (reply) => reply === "PONG"), `redis-server on ${port}`);
  return { host: "127.0.0.1", port, stop: () => stopAll([child], dir) };
}

/**
 * Starts three cluster-enabled redis-servers, joins them into a 3-master cluster with
 * `redis-cli --cluster create`, and waits until every node says `cluster_state:ok`.
 */
export async function startCluster(masters = 3): Promise<PrivateCluster> {
  const dir = await mkdtemp(join(tmpdir(), "agent-sessions-cluster-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freePort(taken));
  const children = ports.map((port) => startProcess(port, dir, true));
  try {
    for (const port of ports) await waitUntil(() => answers(port, ["PING"], (reply) => reply === "PONG"), `redis-server on ${port}`);
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    for (const port of ports) {
      await waitUntil(() => answers(port, ["CLUSTER", "INFO"], (reply) => reply.includes("cluster_state:ok")), `cluster_state:ok on ${port}`);
    }
  } catch (error) {
    await stopAll(children, dir);
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: "127.0.0.1" as const, port })), stop: () => stopAll(children, dir) };
}

/** A private redis-server for one test file, and clients of it that are quit when the file ends. */
export interface FileRedis {
  readonly port: number;
  /** A new client of the file's server; call it in a test or a `beforeAll` registered after `useFileRedis`. */
  connect(options?: RedisOptions): Redis;
}

/**
 * Starts a redis-server of its own for the calling test file (so no other file's commands reach
 * its counters or its connections), and stops it, with every client made by `connect`, at the end.
 */
export function useFileRedis(): FileRedis {
  let server: PrivateRedis | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => (client.status === "ready" ? client.quit() : client.disconnect())));
    await server?.stop();
  });
  return {
    get port() {
      if (!server) throw new Error("the file's redis-server is not started yet");
      return server.port;
    },
    connect(options = {}) {
      const client = new Redis({ host: "127.0.0.1", port: this.port, ...options });
      clients.push(client);
      return client;
    },
  };
}

/** A private Redis Cluster for the calling test file or `describe` block, and a client of it. */
export interface FileCluster {
  /** The connected cluster client; read it in a test or a later `beforeAll`. */
  readonly client: Cluster;
}

/**
 * Starts a cluster of `masters` redis-servers for the calling file or `describe` block and connects
 * a client to it, both stopped at the end; every script run on it must keep to one slot.
 */
export function useFileCluster(masters = 3): FileCluster {
  let cluster: PrivateCluster | undefined;
  let client: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(masters);
    const connecting = new Cluster(cluster.nodes);
    client = connecting;
    await new Promise<void>((resolve, reject) => {
      connecting.once("ready", resolve);
      connecting.once("error", reject);
    });
  }, 60_000);
  afterAll(async () => {
    await client?.quit();
    await cluster?.stop();
  });
  return {
    get client() {
      if (!client) throw new Error("the file's Redis Cluster is not started yet");
      return client;
    },
  };
}
