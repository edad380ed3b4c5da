// The router mounted where people are: the shared smoke test against an Express 5 app, a Fastify 5
// app, a Next.js app (`next build`, then `next start`) and a Cloudflare Worker run by workerd, each
// serving agent-sessions under /agent-sessions through an adapter of @agent-sessions/router.
// The hosts are npm packages of the examples (express, fastify, next, workerd).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { firstBinary, packageDir, smokeAndLog, statusAfterFailedKeys } from "./example-servers.js";
import { freePort, type Started, start, stop, waitForHttp } from "./processes.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const examples = join(root, "examples");
const inCi = process.env.CI === "true";
// The test process's own node is the Node 20 of this machine and of CI.
const node20 = process.versions.node.startsWith("20.") ? process.execPath : null;

/** A file of an installed package of an example, or `null` when the package is not installed. */
function installed(example: string, name: string, file: string): string | null {
  const dir = packageDir(name, join(examples, example));
  return dir && existsSync(join(dir, file)) ? join(dir, file) : null;
}

function workerdBinary(): string | null {
  const workerd = packageDir("workerd", join(examples, "workers"));
  const platform = workerd && packageDir("@cloudflare/workerd-linux-64", workerd);
  return firstBinary([platform && join(platform, "bin", "workerd")]);
}

/** Next.js's native compiler for this machine, an optional dependency of next. */
function nextSwc(): string | null {
  const next = packageDir("next", join(examples, "next"));
  const swc = next && packageDir("@next/swc-linux-x64-gnu", next);
  return swc && firstBinary([join(swc, "next-swc.linux-x64-gnu.node")]);
}

interface Host {
  readonly name: string;
  readonly example: string;
  /** What must be installed for the host to run; a `null` names what is missing. */
  readonly needs: Readonly<Record<string, string | null>>;
  /** Run once before the server starts, in the example's folder (with the server's program). */
  readonly build?: (needs: Readonly<Record<string, string>>) => { command: string; args: string[] };
  readonly serve: (needs: Readonly<Record<string, string>>, port: number) => { command: string; args: string[] };
  /** Checks the app's own routes beside the router, given the app's origin. */
  readonly appCheck?: (origin: string) => Promise<void>;
  /** The host hands the router each client's address, so failed keys meet the per-address limit. */
  readonly addressLimits?: boolean;
  readonly timeoutMs: number;
}

const hosts: Host[] = [
  {
    name: "Express 5 app.use on Node 20",
    example: "express",
    needs: { node: node20, express: installed("express", "express", "package.json") },
    serve: ({ node }) => ({ command: node!, args: ["server.mjs"] }),
    addressLimits: true,
    timeoutMs: 30_000,
  },
  {
    name: "Fastify 5 plugin on Node 20",
    example: "fastify",
    needs: { node: node20, fastify: installed("fastify", "fastify", "package.json") },
    serve: ({ node }) => ({ command: node!, args: ["server.mjs"] }),
    // The plugin's scope leaves bodies unread; the app's own routes keep Fastify's JSON parser.
    appCheck: async (origin) => {
      const echoed = await fetch(`${origin}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
      expect(await echoed.json()).toEqual({ youSent: { a: 1 } });
    },
    addressLimits: true,
    timeoutMs: 30_000,
  },
  {
    name: "Next.js App Router catch-all (next build, next start) on Node 20",
    example: "next",
    needs: { node: node20, next: installed("next", "next", "dist/bin/next"), "next's compiler": nextSwc() },
    build: ({ node, next }) => ({ command: node!, args: [next!, "build"] }),
    serve: ({ node, next }, port) => ({ command: node!, args: [next!, "start", "--port", String(port), "--hostname", "127.0.0.1"] }),
    timeoutMs: 300_000, // next build takes a minute or two on a small machine
  },
  {
    name: "Cloudflare Worker module on workerd",
    example: "workers",
    needs: { node: node20, esbuild: installed("workers", "esbuild", "package.json"), workerd: workerdBinary() },
    build: ({ node }) => ({ command: node!, args: ["build.mjs"] }),
    serve: ({ workerd }, port) => ({ command: workerd!, args: ["serve", "config.capnp", "--socket-addr", `http=127.0.0.1:${port}`] }),
    timeoutMs: 60_000,
  },
];

// Everything the hosts' processes inherit: no telemetry, no update checks, the keys of the test.
const quiet = { NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" };
const timings: string[] = [];

afterAll(() => {
  if (timings.length > 0) console.log(`host smoke timings:\n${timings.map((line) => `  ${line}`).join("\n")}`);
});

/** Runs a build step to its end; fails with its output when it exits other than 0. */
async function runBuild(host: Host, command: { command: string; args: string[] }): Promise<number> {
  const began = Date.now();
  const build = start(command.command, command.args, { cwd: join(examples, host.example), env: quiet });
  const code = await build.exited;
  const { stdout, stderr } = build.output();
  expect(code, `${host.name}: build failed\n${stdout}\n${stderr}`).toBe(0);
  return Date.now() - began;
}

describe("the router mounted in Express, Fastify, Next.js and a Worker passes the smoke test", () => {
  it("finds the built packages the examples import", () => {
    for (const name of ["core", "memory", "router"]) {
      expect(existsSync(join(root, "packages", name, "dist", "index.js")), `packages/${name}/dist: run \`pnpm build\` first`).toBe(true);
    }
    for (const adapter of ["node", "fastify", "next", "workers"]) {
      expect(existsSync(join(root, "packages", "router", "dist", `${adapter}.js`)), `packages/router/dist/${adapter}.js: run \`pnpm build\``).toBe(
        true,
      );
    }
  });

  for (const host of hosts) {
    const missing = Object.entries(host.needs)
      .filter(([, path]) => path === null)
      .map(([name]) => name);
    if (missing.length > 0 && !inCi) {
      console.warn(`\n!!! SKIPPING "${host.name}": ${missing.join(", ")} not installed. Run \`pnpm install\`; in CI this fails. !!!\n`);
    }

    it.skipIf(missing.length > 0 && !inCi)(
      host.name,
      async () => {
        if (missing.length > 0) throw new Error(`${host.name}: ${missing.join(", ")} not installed; \`pnpm install\` should have installed it`);
        const needs = host.needs as Readonly<Record<string, string>>;
        const buildMs = host.build ? await runBuild(host, host.build(needs)) : 0;

        const port = await freePort();
        const key = `smoke-${Math.random().toString(16).slice(2)}`;
        const base = `http://127.0.0.1:${port}/agent-sessions`;
        const began = Date.now();
        const { command, args } = host.serve(needs, port);
        const server: Started = start(command, args, {
          cwd: join(examples, host.example),
          env: { ...quiet, PORT: String(port), AGENT_SESSIONS_API_KEYS: `smoke:${key}` },
        });
        try {
          await waitForHttp(server, `${base}/api/v1/sessions`);
          const startMs = Date.now() - began;
          const { result, ms: smokeMs } = await smokeAndLog(host.name, base, key);
          expect(result.hostedPage).toBe(200);

          // Outside the base path the router answers nothing of its own; the host decides.
          expect((await fetch(`http://127.0.0.1:${port}/v1/forms`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
          await host.appCheck?.(`http://127.0.0.1:${port}`);
          if (host.addressLimits) expect(await statusAfterFailedKeys(base)).toBe(429);
          const stopped = await stop(server, "SIGTERM");
          timings.push(`${host.name.padEnd(66)} build ${buildMs} ms, start ${startMs} ms, smoke ${smokeMs} ms, stop ${stopped.ms} ms`);
        } finally {
          await stop(server, "SIGKILL");
        }
      },
      host.timeoutMs,
    );
  }
});
