// `agent-sessions purge` and `serve --retain` on the real binary, over an SQLite file whose old
// records were written in process by an engine whose clock stood 40 days back.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEngine } from "@agent-sessions/core";
import { openSqlStore } from "@agent-sessions/sql";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { run, serve } from "./binary.js";

const DAY = 86_400_000;
const ORG = "org_retention";
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A migrated SQLite file in a fresh directory holding two workflows completed 40 days ago (one
 * with an inbox, whose id is an alias), a thread closed 40 days ago, a workflow completed now and
 * one still active; returns the directory and the ids.
 */
async function oldRecords() {
  const cwd = mkdtempSync(join(tmpdir(), "agent-sessions-retention-"));
  dirs.push(cwd);
  const store = await openSqlStore(`sqlite:${join(cwd, "app.db")}`);
  await store.migrate();
  const clock = { now: Date.now() - 40 * DAY };
  const engine = createEngine({ store, clock: () => clock.now });
  const old = [];
  for (const name of ["a", "b"]) {
    const workflow = await engine.workflows.create(ORG, { name });
    if (name === "a") await engine.workflows.createInbox(ORG, workflow.id, { ttlSeconds: 60 });
    await engine.workflows.complete(ORG, workflow.id);
    old.push(workflow.id);
  }
  const thread = await engine.threads.create(ORG);
  await engine.threads.close(ORG, thread.id);
  old.push(thread.id);
  clock.now = Date.now();
  const recent = await engine.workflows.create(ORG, { name: "recent" });
  await engine.workflows.complete(ORG, recent.id);
  const live = await engine.workflows.create(ORG, { name: "live" });
  await store.close();
  return { cwd, old, kept: [recent.id, live.id] };
}

/** Which of `ids` the SQLite file still holds. */
async function present(cwd: string, ids: readonly string[]): Promise<string[]> {
  const store = await openSqlStore(`sqlite:${join(cwd, "app.db")}`);
  try {
    const found = await Promise.all(ids.map((id) => store.get(ORG, id)));
    return ids.filter((_, index) => found[index] !== null);
  } finally {
    await store.close();
  }
}

describe("agent-sessions purge", () => {
  it("counts on --dry-run, then removes records terminal for longer than --older-than and says how many of each went", async () => {
    const { cwd, old, kept } = await oldRecords();
    const store = ["--store", "sqlite:./app.db"];
    const dry = await run(["purge", "--older-than", "30d", "--dry-run", ...store], {}, { cwd });
    expect(dry).toMatchObject({ code: 0, stderr: "" });
    const lines = dry.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^agent-sessions purge: sqlite:\.\/app\.db: records terminal for longer than 30d \(last written before \S+Z\) \(dry run: nothing removed\)$/,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}would remove records +3$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}would remove aliases +1$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}would remove delivery log entries +0$/));
    expect(lines.some((line) => /^ {2}workflow: 2 records, \d+ events, 1 aliases, 0 idempotency entries, 0 outbox messages$/.test(line))).toBe(true);
    expect(lines.some((line) => /^ {2}thread: 1 records, /.test(line))).toBe(true);
    expect(await present(cwd, [...old, ...kept])).toEqual([...old, ...kept]);

    const done = await run(["purge", "--older-than", "30d", "--json", ...store], {}, { cwd });
    expect(done).toMatchObject({ code: 0, stderr: "" });
    const report = JSON.parse(done.stdout) as { dryRun: boolean; removed: Record<string, number>; byKind: Record<string, unknown> };
    expect(report.dryRun).toBe(false);
    expect(report.removed).toMatchObject({ records: 3, aliases: 1, idempotency: 0, outbox: 0, deliveries: 0 });
    expect(Object.keys(report.byKind).sort()).toEqual(["thread", "workflow"]);
    expect(await present(cwd, [...old, ...kept])).toEqual(kept);

    const again = await run(["purge", "--older-than", "30d", ...store], {}, { cwd });
    expect(again.stdout).toMatch(/^ {2}removed records +0$/m);
  });

  it("names a missing or unreadable --older-than in one line, exit code 2", async () => {
    const io = () => {
      const out = { stdout: "", stderr: "" };
      return {
        out,
        io: {
          env: { AGENT_SESSIONS_STORE: "memory" },
          out: (text: string) => void (out.stdout += text),
          err: (text: string) => void (out.stderr += text),
        },
      };
    };
    const missing = io();
    expect(await main(["purge"], missing.io)).toBe(2);
    expect(missing.out.stderr).toBe("agent-sessions purge: --older-than is required, e.g. --older-than 30d (see 'agent-sessions purge --help')\n");
    const unreadable = io();
    expect(await main(["purge", "--older-than", "a month"], unreadable.io)).toBe(2);
    expect(unreadable.out.stderr).toMatch(
      /^agent-sessions purge: --older-than: must be a duration such as "30d", "12h", "90m" or "45s", got "a month" \(see/,
    );
    const help = io();
    expect(await main(["purge", "--help"], help.io)).toBe(0);
    expect(help.out.stdout).toMatch(/^Usage: agent-sessions purge --older-than <duration> \[--dry-run\]/);
    const memory = io();
    expect(await main(["purge", "--older-than", "1d"], memory.io)).toBe(0);
    expect(memory.out.stdout).toMatch(/^ {2}removed records +0$/m);
  });
});

describe("serve --retain", () => {
  it("removes records terminal for longer than --retain in the worker, and says so in the banner", async () => {
    const { cwd, old, kept } = await oldRecords();
    const served = await serve(["--port", "0", "--api-key", "org:k", "--store", "sqlite:./app.db", "--retain", "30d"], {}, { cwd });
    expect(served.banner).toContain("Retention: records terminal for longer than 30d are removed");
    const deadline = Date.now() + 10_000;
    while ((await present(cwd, old)).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await present(cwd, [...old, ...kept])).toEqual(kept);
  });

  it("refuses a --retain or AGENT_SESSIONS_RETAIN it cannot read, exit code 2", async () => {
    const flag = await run(["serve", "--port", "0", "--retain", "forever"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^agent-sessions serve: --retain: must be a duration such as "30d"/);
    const env = await run(["serve", "--port", "0"], { AGENT_SESSIONS_RETAIN: "3 days" });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^agent-sessions serve: AGENT_SESSIONS_RETAIN: must be a duration/);
  });
});
