// Runs every benchmark in its own `node --expose-gc` child process, so one benchmark's heap never
// weighs on the next one's figures, then prints a markdown table to paste into the README.
// Benchmarks print figures; a missed goal is reported, never an error.
import { fork } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const benchmarks = [
  { file: "pure.mjs" },
  { file: "engine-memory.mjs" },
  // V8's default heap limit (about a quarter of RAM, at most ~4 GB) holds the 1,000,000 sessions
  // on this machine, so no --max-old-space-size is passed; memory-rss.mjs prints the limit it got.
  { file: "memory-rss.mjs" },
  // Starts `agent-sessions serve` and a bare node:http server as processes of their own.
  { file: "http.mjs" },
  // PostgreSQL, MariaDB and SQLite: the store beside the raw driver, in a database made for the run.
  { file: "sql.mjs" },
  // The local Redis: the store beside a raw ioredis Lua compare-and-set, under a random key prefix.
  { file: "redis.mjs" },
  // Deadlines to webhook arrivals at a local receiver, on the memory store.
  { file: "webhooks.mjs" },
];

const processors = cpus();
console.log("# agent-sessions benchmarks");
console.log(`node ${process.version} (V8 ${process.versions.v8}), ${process.platform} ${process.arch}`);
console.log(`cpu: ${processors[0]?.model.trim() ?? "unknown"} × ${processors.length}`);
console.log(`memory: ${(totalmem() / 2 ** 30).toFixed(1)} GB`);
console.log(`date: ${new Date().toISOString()}`);
console.log("");

const rows = [];
let failed = false;
for (const benchmark of benchmarks) {
  const started = performance.now();
  const execArgv = ["--expose-gc", ...(benchmark.execArgv ?? [])];
  const outcome = await runChild(fileURLToPath(new URL(benchmark.file, import.meta.url)), execArgv);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (outcome.code === 0 && outcome.rows) {
    rows.push(...outcome.rows);
    console.log(`(${benchmark.file}: ${seconds} s, node ${execArgv.join(" ")})\n`);
  } else {
    failed = true;
    rows.push({ benchmark: benchmark.file, figure: `failed (exit ${outcome.code ?? outcome.signal})`, goal: "", met: false });
    console.log(`(${benchmark.file} failed after ${seconds} s: exit ${outcome.code ?? outcome.signal})\n`);
  }
}

console.log("| benchmark | figure | goal | met? |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.benchmark} | ${row.figure} | ${row.goal} | ${row.met ? "yes" : "no"} |`);
if (failed) process.exitCode = 1;

/** Runs one benchmark file; its output goes straight to ours, its rows come back over IPC. */
function runChild(file, execArgv) {
  return new Promise((resolve) => {
    let rows;
    const child = fork(file, [], { execArgv, stdio: ["inherit", "inherit", "inherit", "ipc"] });
    child.on("message", (message) => {
      rows = message.rows;
    });
    child.on("exit", (code, signal) => resolve({ code, signal, rows }));
  });
}
