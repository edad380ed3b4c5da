// Requests per second through `agent-sessions serve` (memory store) beside a bare node:http JSON
// handler measured in the same run: each server is its own process, so it has a core to itself
// while autocannon loads it from this one, over loopback, 64 connections. Two loads:
// - pipelining 1: one request in flight per connection, as API clients send them.
// - pipelining 10: ten in flight per connection, the load of the fastify benchmarks.
// A write that finds the load generator asleep pays to wake it, which on some virtual machines'
// hosts costs far more than on others (see `holdPollingIdle`). The bare handler writes each answer
// as soon as it is ready; serve writes the answers of one turn of its event loop together
// (`answerAtTurnEnd` in packages/cli), so the load generator wakes once for them. The "load
// sleeps" column says how often autocannon went to sleep a request (Linux: its voluntary context
// switches). The figures are taken with idle cores halting, as the machine runs them, then again
// with them held polling.
// Serve and bare take turns, five rounds of each, and each keeps its best round: a neighbour's
// burst on this shared machine lowers one round, not the figure. Each serve round is a fresh
// process, so every round measures the same thing: a store that the round itself fills (about
// 100,000 sessions), not one that the rounds and cases before it filled with a million, whose
// collections slowed later rounds (GET at pipelining 10: 0.44 of bare after the create cases,
// 0.60 alone). A figure is only as good as its
// load generator: when autocannon saturates its own core first (the "autocannon CPU" column near
// 100%), the bare handler's figure is autocannon's ceiling and the ratio reads high. Any non-2xx
// answer or connection error fails the benchmark: a fast 401 is not a figure.
//
// `BENCH_ONLY=<case name prefix>` narrows the cases, e.g. BENCH_ONLY="GET /api".
// `BENCH_HTTP_CPU_PROF=<dir>` runs the serve processes under --cpu-prof, writing a profile each there.
// `BENCH_HTTP_IDLE=halt` skips the rounds with idle cores held polling.
import { fork, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, constants, openSync, readFileSync, writeSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { formatCount, report } from "./measure.mjs";

const GOAL_RATIO = 0.5;
const CONNECTIONS = 64;
const ROUNDS = 5;
/** Rounds with idle cores held polling, shown beside the figure (see `holdPollingIdle`). */
const POLL_ROUNDS = 3;
const WARMUP_SECONDS = 1;
const DURATION_SECONDS = 3;
const ORG = "org_bench";
const API_KEY = "bench-key";
/** Load generator CPU (share of one core) from which its own limit, not the server's, is measured. */
const LOAD_CEILING = 0.85;
const CREATE_BODY = JSON.stringify({ name: "user-signup-flow", metadata: { source: "bench" } });

if (process.argv[2] === "bare-server") startBareServer();
else await main();

async function main() {
  const bare = await startBare();
  const errors = new Map();
  let serve = null;
  try {
    const auth = { authorization: `Bearer ${API_KEY}` };
    const json = { "content-type": "application/json" };
    // The bare handler answers the very body serve answers, so both put the same bytes on the wire.
    serve = await startServe(errors);
    const session = await seedSession(serve.url);
    bare.child.send({ body: await (await fetch(`${serve.url}/api/v1/sessions/${session.id}`, { headers: auth })).text() });
    await once(bare.child, "message");
    await stop(serve.child, "SIGINT");
    serve = null;

    const requests = [
      {
        name: "GET /api/v1/sessions/:id",
        serve: (url, id) => ({ url: `${url}/api/v1/sessions/${id}`, method: "GET", headers: auth }),
        bare: { url: `${bare.url}/session`, method: "GET" },
      },
      {
        name: "POST /api/v1/sessions (create)",
        serve: (url) => ({ url: `${url}/api/v1/sessions`, method: "POST", headers: { ...auth, ...json }, body: CREATE_BODY }),
        bare: { url: `${bare.url}/session`, method: "POST", headers: json, body: CREATE_BODY },
      },
    ].filter((entry) => !process.env.BENCH_ONLY || entry.name.startsWith(process.env.BENCH_ONLY));
    const cases = [1, 10].flatMap((pipelining) => requests.map((entry) => ({ ...entry, pipelining })));

    // Idle cores halting, as the machine runs them, then polling where it allows (see `holdPollingIdle`).
    const probe = holdPollingIdle();
    probe.release?.();
    const modes = probe.refused
      ? [{ idle: "halt", rounds: ROUNDS }]
      : [
          { idle: "halt", rounds: ROUNDS },
          { idle: "poll", rounds: POLL_ROUNDS },
        ];
    console.log(
      `HTTP over loopback: agent-sessions serve (memory store) vs a bare node:http JSON handler, each in its own process` +
        ` (autocannon, ${CONNECTIONS} connections; per load, rounds of ${WARMUP_SECONDS} s warm-up + ${DURATION_SECONDS} s timed, serve and bare in turn, a fresh serve each round, best round kept;` +
        ` idle cores halting as the machine runs them for ${ROUNDS} rounds${probe.refused ? ` (no rounds with them polling: ${probe.refused})` : `, then held polling for ${POLL_ROUNDS}`})`,
    );
    console.log(
      `  ${"case".padEnd(34)} ${"pipe".padStart(4)} ${"idle".padEnd(4)} ${"server".padEnd(6)} ${"req/s".padStart(9)} ${"p50".padStart(7)} ${"p99".padStart(7)} ${"response".padStart(11)} ${"autocannon CPU".padStart(14)} ${"load sleeps".padStart(11)}`,
    );
    const rows = [];
    let failures = 0;
    for (const entry of cases) {
      const results = [];
      for (const { idle, rounds } of modes) {
        const hold = idle === "poll" ? holdPollingIdle() : null;
        const best = {};
        try {
          for (let round = 0; round < rounds; round++) {
            for (const server of ["serve", "bare"]) {
              let request = entry.bare;
              if (server === "serve") {
                // A fresh serve each round (see the top of this file).
                serve = await startServe(errors);
                request = entry.serve(serve.url, (await seedSession(serve.url)).id);
              }
              const result = await load(request, entry.pipelining);
              if (serve) {
                await stop(serve.child, "SIGINT");
                serve = null;
              }
              if (result.failed) {
                failures++;
                console.log(
                  `  ${entry.name.padEnd(34)} ${String(entry.pipelining).padStart(4)} ${idle} ${server.padEnd(6)} FAILED: ${result.failed}`,
                );
              }
              if (!best[server] || result.perSecond > best[server].perSecond) best[server] = result;
            }
          }
        } finally {
          hold?.release?.();
        }
        for (const server of ["serve", "bare"]) {
          const result = best[server];
          console.log(
            `  ${entry.name.padEnd(34)} ${String(entry.pipelining).padStart(4)} ${idle} ${server.padEnd(6)} ${formatCount(result.perSecond).padStart(9)}` +
              ` ${formatMs(result.p50).padStart(7)} ${formatMs(result.p99).padStart(7)}` +
              ` ${formatCount(result.responseBytes).padStart(9)} B ${`${Math.round(result.loadCpu * 100)}%`.padStart(14)}` +
              ` ${(result.sleepsPerRequest === null ? "n/a" : `${result.sleepsPerRequest.toFixed(2)}/req`).padStart(11)}`,
          );
        }
        const ratio = best.serve.perSecond / best.bare.perSecond;
        console.log(`  ${"".padEnd(34)} ${"".padStart(4)} ${"".padEnd(4)} ratio  ${ratio.toFixed(2)} of bare (goal ≥ ${GOAL_RATIO})`);
        if (best.bare.loadCpu >= LOAD_CEILING) {
          console.log(
            `  ${"".padEnd(34)} ${"".padStart(4)} ${"".padEnd(4)}        autocannon near a full core on bare: the bare figure is its ceiling, the ratio reads high`,
          );
        }
        results.push({ idle, best, ratio });
      }
      // The goal is judged on the machine as it runs; the polling figure says how much of the gap is wake-ups.
      const [{ best, ratio }, polled] = results;
      rows.push({
        benchmark: `HTTP ${entry.name} through serve (memory store), ${CONNECTIONS} connections, pipelining ${entry.pipelining}`,
        figure:
          `${formatCount(best.serve.perSecond)} req/s (${ratio.toFixed(2)} of bare ${formatCount(best.bare.perSecond)}),` +
          ` p99 ${formatMs(best.serve.p99)} (bare ${formatMs(best.bare.p99)})` +
          (polled
            ? `; idle cores polling: ${polled.ratio.toFixed(2)} (${formatCount(polled.best.serve.perSecond)} vs ${formatCount(polled.best.bare.perSecond)})`
            : ""),
        goal: `≥ ${GOAL_RATIO} of bare node:http req/s`,
        met: ratio >= GOAL_RATIO,
      });
    }
    for (const [line, count] of errors) console.log(`  serve's stderr, ${formatCount(count)}×: ${line}`);
    if (failures > 0) {
      console.log(`  ${failures} measurement(s) had non-2xx answers or connection errors; no figures reported`);
      process.exitCode = 1;
    } else {
      report(rows);
    }
  } finally {
    await Promise.all([serve ? stop(serve.child, "SIGINT") : null, stop(bare.child, "SIGTERM")]);
  }
}

/**
 * Asks Linux to keep idle cores polling instead of halting while the returned hold is open (a PM
 * QoS request of 0 µs wake-up latency on /dev/cpu_dma_latency, as latency benchmarks such as
 * cyclictest make; it ends when the file is closed, at the latest when this process exits).
 *
 * A diagnostic, not the figure. The load generator's core halts between answers whenever the
 * server is slower than it, so a slower server that writes each answer as it is ready pays the
 * wake-up on nearly every answer, and the faster one on almost none. What a wake-up costs depends
 * on the host under the virtual machine: on the AMD EPYC host of an earlier session the interrupt
 * cost the writer about 15 µs inside its `writev` (perf: 18% of serve's samples in the wake-up at
 * 13,000 creates/s, 4.5% of bare's at 40,000) and serve's create ran at 0.35 of bare; on Intel
 * Xeon hosts since, 2% to 4% of serve's samples (perf), as neighbours allowed. Serve has written a
 * turn's answers together since (autocannon slept 0.88–0.91 times a create before, 0.02–0.04
 * after), which took its create from 0.47–0.56 of bare to 0.61–0.78 at pipelining 1, and from
 * 0.40–0.51 to 0.60–0.66 at pipelining 10, in runs taken in turn.
 * Polling makes the wake-up cheap, but a polling core also slows a busy neighbour (the bare
 * create handler loses up to a fifth), so neither figure is what a client on another machine
 * would see; the two bracket it.
 * Returns `{ release }`, or `{ refused }` with the reason it could not hold them;
 * `BENCH_HTTP_IDLE=halt` skips the polling rounds that way.
 */
function holdPollingIdle() {
  if (process.env.BENCH_HTTP_IDLE === "halt") return { refused: "BENCH_HTTP_IDLE=halt" };
  try {
    const fd = openSync("/dev/cpu_dma_latency", constants.O_WRONLY);
    writeSync(fd, new Uint8Array(new Int32Array([0]).buffer));
    return { release: () => closeSync(fd) };
  } catch (error) {
    return { refused: error.code ?? String(error) };
  }
}

/** One warm-up run, then the timed run; a failed request in either fails the measurement. */
async function load(request, pipelining) {
  const options = { ...request, connections: CONNECTIONS, pipelining };
  const warm = await autocannon({ ...options, duration: WARMUP_SECONDS });
  const cpuBefore = process.cpuUsage();
  const sleepsBefore = voluntarySleeps();
  const timed = await autocannon({ ...options, duration: DURATION_SECONDS });
  const cpu = process.cpuUsage(cpuBefore);
  const sleeps = sleepsBefore === null ? null : voluntarySleeps() - sleepsBefore;
  const problems = [warm, timed]
    .flatMap((result) => [
      result.non2xx > 0 ? `${result.non2xx} non-2xx (${Object.keys(result.statusCodeStats).join(", ")})` : "",
      result.errors > 0 ? `${result.errors} errors` : "",
      result.timeouts > 0 ? `${result.timeouts} timeouts` : "",
    ])
    .filter(Boolean);
  return {
    perSecond: timed.requests.total / timed.duration,
    p50: timed.latency.p50,
    p99: timed.latency.p99,
    responseBytes: timed.throughput.total / Math.max(1, timed.requests.total),
    // Near 100%, autocannon is the bottleneck and the figure is its ceiling, not the server's.
    loadCpu: (cpu.user + cpu.system) / 1e6 / timed.duration,
    // Near 1, nearly every answer found autocannon asleep and paid to wake it.
    sleepsPerRequest: sleeps === null ? null : sleeps / Math.max(1, timed.requests.total),
    failed: problems.join(", "),
  };
}

/**
 * How many times this process has gone to sleep waiting (its voluntary context switches, from
 * /proc); null where there is no /proc. Autocannon runs in this process, alone while it loads.
 */
function voluntarySleeps() {
  try {
    return Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync("/proc/self/status", "utf8"))[1]);
  } catch {
    return null;
  }
}

// autocannon keeps latencies in whole milliseconds, truncated: 0 means under one.
function formatMs(value) {
  return value < 1 ? "< 1 ms" : `${formatCount(value)} ms`;
}

/** Creates the session the GET case reads. */
async function seedSession(url) {
  const headers = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };
  const created = await fetch(`${url}/api/v1/sessions`, { method: "POST", headers, body: CREATE_BODY });
  if (created.status !== 201) throw new Error(`serve: POST /api/v1/sessions answered ${created.status}: ${await created.text()}`);
  return created.json();
}

/**
 * Starts `agent-sessions serve --port 0` and reads the URL it listens on from its banner; what
 * it reports on stderr is counted into `errors`. The per-key rate limit is raised far past what
 * one key sends here (its default, 1,000 a second, is for agents, not for a load generator), so
 * every request still pays for counting in it.
 */
async function startServe(errors) {
  const bin = fileURLToPath(new URL("../packages/cli/bin/agent-sessions.js", import.meta.url));
  const profile = process.env.BENCH_HTTP_CPU_PROF;
  const execArgv = profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [];
  const args = [
    ...execArgv,
    bin,
    "serve",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--store",
    "memory",
    "--api-key",
    `${ORG}:${API_KEY}`,
    "--rate-limit",
    "per-key=1000000/1",
    // Request lines would cost the server time and fill stderr, which is read here as the errors.
    "--log-level",
    "warn",
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  killOnExit(child);
  watchErrors(child, errors);
  let banner = "";
  child.stdout.setEncoding("utf8");
  const url = await new Promise((resolve, reject) => {
    const onData = (text) => {
      banner += text;
      const match = /listening on (http:\/\/\S+)/.exec(banner);
      if (match) {
        child.stdout.off("data", onData);
        child.stdout.resume(); // keep draining, e.g. the line it prints when stopped
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => {
      const stderr = [...errors.keys()].join("\n");
      reject(new Error(`agent-sessions serve exited (${code}) before listening (run \`pnpm build\` first?):\n${banner}${stderr}`));
    });
  });
  return { child, url };
}

/**
 * Collects what serve reports on stderr. A load generator that stops cuts connections with
 * requests in flight, which serve reports as internal errors ("aborted"); those are counted and
 * shown in one line instead of a stack trace each.
 */
function watchErrors(child, reports) {
  let pending = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) {
      // A report's first line, e.g. "agent-sessions: internal error Error: aborted"; not its stack.
      if (/^\s+at |^\s*[{}]|^\s+code: /.test(line) || line.trim() === "") continue;
      reports.set(line, (reports.get(line) ?? 0) + 1);
    }
  });
}

/** Starts this file again as the bare server; it reports its port over IPC. */
async function startBare() {
  const child = fork(fileURLToPath(import.meta.url), ["bare-server"], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  killOnExit(child);
  const [{ port }] = await once(child, "message");
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * The reference: node:http with nothing in between. GET serializes a fixed object; POST reads
 * the body, parses it and answers 201 with it serialized back.
 */
function startBareServer() {
  let session = {};
  const server = createServer((request, response) => {
    if (request.method === "GET") {
      send(response, 200, JSON.stringify(session));
      return;
    }
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      send(response, 201, JSON.stringify({ ...session, ...input }));
    });
  });
  process.on("message", (message) => {
    session = JSON.parse(message.body);
    process.send({ ready: true });
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));

  function send(response, status, body) {
    response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
    response.end(body);
  }
}

// A benchmark that throws must not leave a server holding a port.
function killOnExit(child) {
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  child.once("exit", () => process.off("exit", kill));
}

/** Stops a server with `signal` and waits for it, so a --cpu-prof profile gets written. */
async function stop(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
