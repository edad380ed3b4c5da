// Timing loops and reporting shared by the benchmark files. Each benchmark runs in its own child
// process started by run.mjs, and hands its table rows back over the IPC channel.

/** A number with thousands separators: 1234567 → "1,234,567". */
export function formatCount(value) {
  return Math.round(value).toLocaleString("en-US");
}

/** Mebibytes with one decimal. */
export function formatMb(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/** Collects garbage when node runs with --expose-gc, so one measurement does not pay for the last. */
export function collectGarbage() {
  if (typeof globalThis.gc === "function") {
    globalThis.gc();
    globalThis.gc();
  }
}

/**
 * Calls `step` (which performs `batch` operations) for `warmupMs`, then again for `durationMs`,
 * and returns the operations per second of the timed part. Time is read once per batch.
 */
export function measureSync(step, { batch = 10_000, warmupMs = 300, durationMs = 1_200 } = {}) {
  run(warmupMs);
  collectGarbage();
  return run(durationMs);

  function run(budgetMs) {
    let operations = 0;
    const started = performance.now();
    let elapsed = 0;
    do {
      step();
      operations += batch;
      elapsed = performance.now() - started;
    } while (elapsed < budgetMs);
    return { operations, seconds: elapsed / 1000, perSecond: operations / (elapsed / 1000) };
  }
}

/**
 * Runs `operation(index, lane)` with `concurrency` calls in flight (1: sequential awaits), first
 * for `warmupMs`, then for `durationMs` or until `maxOperations` calls, whichever comes first.
 * Lane `l` only ever receives indexes `≡ l (mod concurrency)`, so lanes can own disjoint records.
 */
export async function measureAsync(operation, { concurrency = 1, warmupMs = 200, durationMs = 800, maxOperations = Number.POSITIVE_INFINITY } = {}) {
  let next = 0;
  const warm = await run(warmupMs, maxOperations / 4);
  collectGarbage();
  const timed = await run(durationMs, maxOperations - warm.operations);
  return timed;

  async function run(budgetMs, limit) {
    const started = performance.now();
    const deadline = started + budgetMs;
    let operations = 0;
    let stopped = false;
    const lanes = [];
    for (let lane = 0; lane < concurrency; lane++) {
      lanes.push(
        (async () => {
          // Round `next` up to this lane's residue so each lane keeps to its own indexes.
          let index = next + ((lane - (next % concurrency) + concurrency) % concurrency);
          while (!stopped && operations < limit) {
            await operation(index, lane);
            operations++;
            index += concurrency;
            // Reading the clock on every call would weigh on the cheapest operations.
            if ((operations & 255) === 0 && performance.now() >= deadline) stopped = true;
          }
          return index;
        })(),
      );
    }
    const ends = await Promise.all(lanes);
    const seconds = (performance.now() - started) / 1000;
    next = Math.max(...ends);
    return { operations, seconds, perSecond: operations / seconds };
  }
}

/** Hands the benchmark's table rows to run.mjs, or prints them when the file runs on its own. */
export function report(rows) {
  if (typeof process.send === "function") process.send({ rows });
  else console.log(JSON.stringify(rows, null, 2));
}

/**
 * Measures a store beside its raw driver, raw then the store, in turn for `rounds` rounds, and
 * keeps the best run of each: a neighbour's burst on this shared machine lasts seconds, long
 * enough to lower both runs of one side when there were two (RedisStore at 64 in flight read
 * 0.48 to 1.10 of raw over three runs of best of two). Resolves `{ raw, store, ratio }` in
 * operations per second.
 */
export async function bestOfRounds(sides, concurrency, rounds = 5) {
  const best = { raw: 0, store: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const side of ["raw", "store"]) {
      const result = await measureAsync(sides[side], { concurrency });
      best[side] = Math.max(best[side], result.perSecond);
    }
  }
  return { ...best, ratio: best.store / best.raw };
}
