// One run of the fuzz: a fresh world, the prelude, then the generated steps, each request checked
// on its own (answer, path ids, leaks) and against the store (a refusal wrote nothing, another
// organization's id answers as an absent one). A failure throws with everything needed to see it.
import type { Store } from "@agent-sessions/core";
import { boundaryProblems, expectedRead, expectedSubmission, leakProblems, listOf, notFoundAnswers, pathProblems } from "./checks.js";
import type { Operation } from "./document.js";
import { Absent, PREFIXES } from "./path-ids.js";
import { describeSent, resolveCall, type Sent, withoutOtherReferences } from "./requests.js";
import { answerProblems, isHostedPage, type Observed, type Problem, type ResponseSchemas } from "./responses.js";
import { differences, onlyOpened, recordHeader, type Snapshot, snapshot } from "./snapshot.js";
import type { CallStep, Step } from "./steps.js";
import type { Survey } from "./survey.js";
import { type Clock, World } from "./world.js";

const TRACE_LINES = 25;

/** What the runs of one store share: the store, its clock, the document's operations, the counts. */
export interface RunContext {
  readonly name: string;
  readonly store: Store;
  readonly clock: Clock;
  readonly operations: readonly Operation[];
  readonly schemas: ResponseSchemas;
  readonly prelude: readonly CallStep[];
  readonly survey: Survey | null;
  /** Rules whose failures are counted in `stats.tolerated` instead of failing the run (see `known.ts`). */
  readonly tolerated: ReadonlySet<string>;
  readonly stats: {
    runs: number;
    requests: number;
    statuses: Record<string, number>;
    fiveHundreds: number;
    snapshots: number;
    tolerated: Record<string, number>;
    /** How often each check that needs a particular request had one to judge. */
    checks: Record<string, number>;
    /** Every `kind:status` a run's answers showed. */
    states: Set<string>;
  };
}

/** A failure of a run: its message is the report. */
export class FuzzFailure extends Error {}

/** Reads an answer: its text, or the first chunk of an event stream (then hangs up). */
async function observe(response: Response): Promise<Observed> {
  const contentType = response.headers.get("content-type") ?? "";
  let text: string;
  if (contentType.startsWith("text/event-stream") && response.body) {
    const reader = response.body.getReader();
    const first = await reader.read();
    await reader.cancel();
    text = first.value ? new TextDecoder().decode(first.value) : "";
  } else {
    text = await response.text();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType, text, json, retryAfter: response.headers.get("retry-after") };
}

export class FuzzRun {
  readonly #world: World;
  readonly #orgIds: string[];
  readonly #trace: string[] = [];
  /** The store as last photographed, while no write happened since; `null` once one may have. */
  #current: Snapshot | null = null;
  #last: Sent | null = null;

  constructor(readonly context: RunContext) {
    this.#world = new World(context.store, context.clock);
    this.#orgIds = [this.#world.orgs.a, this.#world.orgs.b];
  }

  /** Plays the prelude and the steps; throws a `FuzzFailure` at the first broken rule. */
  async play(steps: readonly Step[]): Promise<void> {
    try {
      for (const step of this.context.prelude) {
        const [sent, observed] = await this.#call(step);
        if (observed.status !== 201) this.#fail(sent, observed, [{ rule: "prelude refused", detail: `a valid create answered ${observed.status}` }]);
      }
      for (const step of steps) {
        if (step.t === "clock") await this.#tick(step.ms);
        else await this.#crossOrg(...(await this.#call(step)));
      }
      await this.#timelines();
      for (const pool of [this.#world.pools.a, this.#world.pools.b]) for (const state of pool.states) this.context.stats.states.add(state);
    } catch (error) {
      if (error instanceof FuzzFailure) throw error;
      // The checks broke on what the server answered or stored: still this run's failure.
      const detail = error instanceof Error ? (error.stack ?? error.message).split("\n").slice(0, 6).join("\n    ") : String(error);
      this.#fail(this.#last, null, [{ rule: "harness error", detail }]);
    }
  }

  async #call(step: CallStep): Promise<[Sent, Observed]> {
    const operation = this.context.operations[step.op % this.context.operations.length]!;
    const sent = resolveCall(step, operation, this.#world.pools, this.#world.keys);
    return [sent, await this.#exchange(sent)];
  }

  #fail(sent: Sent | null, observed: Observed | null, all: readonly Problem[]): void {
    const world = this.#world;
    const { stats, tolerated } = this.context;
    for (const problem of all) if (tolerated.has(problem.rule)) stats.tolerated[problem.rule] = (stats.tolerated[problem.rule] ?? 0) + 1;
    const problems = all.filter((problem) => !tolerated.has(problem.rule));
    if (problems.length === 0) return;
    const lines = [`[${problems.map((problem) => problem.rule).join("] [")}] on ${this.context.name}`];
    for (const problem of problems) lines.push(`  ${problem.rule}: ${problem.detail}`);
    if (sent) lines.push(`  request: ${describeSent(sent)}`);
    if (observed) lines.push(`  answer: ${observed.status} ${observed.contentType}: ${observed.text.slice(0, 600)}`);
    if (world.reported.length > 0) lines.push("  reported:", world.describeReported());
    lines.push(`  trace (last ${TRACE_LINES} of ${this.#trace.length}):`, ...this.#trace.slice(-TRACE_LINES).map((line) => `    ${line}`));
    if (this.context.survey) this.context.survey.note(this.context.name, sent, world, problems, lines.join("\n"));
    else throw new FuzzFailure(lines.join("\n"));
  }

  #count(check: string, times = 1): void {
    const { checks } = this.context.stats;
    checks[check] = (checks[check] ?? 0) + times;
  }

  async #snapshot(): Promise<Snapshot> {
    this.context.stats.snapshots++;
    return snapshot(this.context.store, this.#orgIds);
  }

  /** Sends one request and checks its answer, and for a refusal that it wrote nothing. */
  async #exchange(sent: Sent): Promise<Observed> {
    const { stats } = this.context;
    const world = this.#world;
    this.#last = sent;
    const expected = (await expectedSubmission(sent, world, this.context.store)) ?? expectedRead(sent, world);
    if (sent.org) world.pools[sent.org].sent.push(`${sent.url}\n${sent.body ?? ""}`);
    world.calls.length = 0;
    world.reported.length = 0;
    // The store as this request found it, photographed only if the request goes on to write.
    const photo: { before: Promise<Snapshot> | null } = { before: null };
    world.beforeWrite = () => (photo.before ??= this.#current ? Promise.resolve(this.#current) : this.#snapshot()).then(() => {});
    let response: Response;
    try {
      response = await world.router.fetch(sent.build());
    } catch (error) {
      this.#fail(sent, null, [{ rule: "router threw", detail: String(error) }]);
      return { status: 0, contentType: "", text: "", json: undefined, retryAfter: null };
    } finally {
      world.beforeWrite = async () => {};
    }
    const observed = await observe(response);
    stats.requests++;
    stats.statuses[observed.status] = (stats.statuses[observed.status] ?? 0) + 1;
    if (observed.status >= 500) stats.fiveHundreds++;
    this.#trace.push(`${sent.method} ${sent.url.slice(0, 160)} (org ${sent.step.actor}) → ${observed.status}`);

    const count = (check: string) => this.#count(check);
    // A rate-limited request was judged on its address alone: what its path or body would have answered is unknown.
    const limited = observed.status === 429;
    if (limited) count("rate-limited (429)");
    const problems = [
      ...answerProblems(sent, observed, this.context.schemas, count),
      ...(limited ? [] : pathProblems(sent, observed, world, count)),
      ...boundaryProblems(sent, observed),
      ...leakProblems(sent, observed, world),
    ];
    if (expected !== null) count(sent.method === "GET" ? "read that must succeed" : "valid hosted submission");
    if (world.reported.length > 0 && observed.status < 500)
      problems.push({ rule: "error reported", detail: "the server reported an error while answering below 500" });
    if (expected !== null && observed.status !== expected && !limited) {
      problems.push({
        rule: sent.method === "GET" ? "valid read refused" : "valid hosted submission refused",
        detail: `answered ${observed.status}, expected ${expected}`,
      });
    }
    if (photo.before !== null) {
      if (observed.status >= 400) {
        const earlier = await photo.before;
        count("refusal that reached a write");
        const after = await this.#snapshot();
        // Whoever posts a hosted form has it in hand: a refused post still opens a created session.
        const session = isHostedPage(sent) && sent.method === "POST" ? sent.path[0]?.value : null;
        const opened = session ? ([...earlier.keys()].find((key) => key.endsWith(`/${session}`)) ?? null) : null;
        const changed = differences(earlier, after).filter(
          (line) => !(opened && line.startsWith(`${opened}:`) && onlyOpened(earlier, after, opened)),
        );
        const rule = observed.status >= 500 ? "5xx wrote" : "4xx wrote";
        if (changed.length > 0)
          problems.push({ rule, detail: `answered ${observed.status} and changed ${changed.length}: ${changed.slice(0, 4).join("; ")}` });
        this.#current = after;
      } else {
        this.#current = null;
      }
    }
    if (observed.status < 300 && sent.org && observed.json !== undefined) world.pools[sent.org].harvest(observed.json, listOf(sent.url));
    if (observed.status === 200 && sent.org && sent.method === "DELETE" && sent.path[0]?.value) world.pools[sent.org].gone.add(sent.path[0].value);
    if (problems.length > 0) this.#fail(sent, observed, problems);
    return observed;
  }

  /** Another organization's id must answer as an id that does not exist, and 404 when nothing else is wrong. */
  async #crossOrg(sent: Sent, observed: Observed): Promise<void> {
    if (!sent.crossOrg || observed.status === 429) return;
    // An answer about the Idempotency-Key (reused with another request) says nothing about the id.
    if (String((observed.json as { message?: unknown } | undefined)?.message ?? "").startsWith("Idempotency-Key")) return;
    const other = this.#world.pools[sent.step.actor === "a" ? "b" : "a"];
    const twinPath = sent.step.path.map((source, i) => {
      const value = sent.path[i]!.value;
      if (value === null || !(other.known.has(value) || other.formOfSlug.has(value))) return source;
      return new Absent(/^([a-z]+)_/.exec(value)?.[1] ?? PREFIXES.form, i + 7);
    });
    const body = withoutOtherReferences(sent.step.body);
    const twin = resolveCall({ ...sent.step, path: twinPath, body, idempotencyKey: null }, sent.operation, this.#world.pools, this.#world.keys);
    const absent = await this.#exchange(twin);
    if (absent.status === 429) return;
    this.#count("another organization's id");
    const allowed = notFoundAnswers(sent);
    let detail: string | null = null;
    if (observed.status < 400) detail = `another organization's id answered ${observed.status}`;
    else if (absent.status !== observed.status)
      detail = `another organization's id answered ${observed.status}, an id that does not exist ${absent.status}`;
    // A path naming another organization's record is not found; a body naming one may first meet the path's own state.
    else if (allowed && twinPath.some((source, i) => source !== sent.step.path[i]) && !allowed.includes(observed.status)) {
      detail = `a request on another organization's id answered ${observed.status}, not 404`;
    }
    if (detail) this.#fail(sent, observed, [{ rule: "tenancy", detail }]);
  }

  /** Moves the clock and runs the worker once: expiries, timeouts, deliveries (recorded), actions. */
  async #tick(ms: number): Promise<void> {
    const world = this.#world;
    this.context.clock.now += ms;
    world.reported.length = 0;
    await world.engine.tick(this.context.clock.now);
    this.#current = null;
    this.#trace.push(`clock +${ms / 1000}s, tick`);
    this.#count("webhook delivery (recorded)", world.deliveries.length);
    const deliveries = world.deliveryProblems();
    const problems: Problem[] = [];
    if (world.reported.length > 0) problems.push({ rule: "worker error", detail: "the worker or a listener reported an error" });
    if (deliveries.length > 0) problems.push({ rule: "webhook delivery", detail: [...new Set(deliveries)].join("; ") });
    if (problems.length > 0) this.#fail(null, null, problems);
  }

  /** Every record's timeline is as long as its event count says. */
  async #timelines(): Promise<void> {
    const latest = this.#current ?? (await this.#snapshot());
    for (const [key, value] of latest) {
      if (key.endsWith(" total")) continue;
      const [orgId, id] = key.split("/") as [string, string];
      const { eventCount } = recordHeader(value);
      const events = await this.context.store.timeline(orgId, id);
      if (events.length !== eventCount)
        this.#fail(null, null, [{ rule: "timeline length", detail: `${id} has ${events.length} events, its eventCount is ${eventCount}` }]);
    }
  }
}
