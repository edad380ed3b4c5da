import type { DueClaim, OutboxEntry, Store } from "../store.js";

/** What one `tick` did. */
export interface TickResult {
  /** Records whose deadline was claimed. */
  readonly claimed: number;
  /** Events written by expiries and timeouts. */
  readonly events: number;
  /** Webhook delivery attempts made. */
  readonly deliveries: number;
  /** Action executor runs made. */
  readonly actions: number;
  /** Terminal records removed by retention (0 without `retention`). */
  readonly purged: number;
}

/** Options of one round of work: `tick`, and each round of `start`. */
export interface TickOptions {
  /**
   * How many deadlines or outbox messages one claim takes at most, and how many outbox messages
   * (deliveries, actions) are in progress at once. Default: 100.
   */
  readonly batch?: number;
  /**
   * How long a claim is held before another instance may take it over: a crashed instance's
   * deadlines and messages pass to a live one within this long. The worker renews the leases of
   * the deliveries and actions it is still running every third of it (a heartbeat), so a slow
   * receiver or executor keeps its claim however long it takes; an event loop blocked for longer
   * than two thirds of it lets another instance start the same work (at least once). Default: 3000.
   */
  readonly leaseMs?: number;
}

/** The default `leaseMs`: a dead instance's work passes to a live one within 3 s. */
export const DEFAULT_LEASE_MS = 3000;

/**
 * Renews the leases of the outbox messages a round is still working on, every third of the
 * lease, in one store call; a lease another instance took over meanwhile is not renewed (the
 * store checks the holder), and its late settle is refused.
 */
class Heartbeat {
  private readonly held = new Set<string>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private renewing = false;

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly clock: () => number,
    private readonly failed: (error: unknown) => 0,
  ) {}

  hold(id: string): void {
    this.held.add(id);
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.beat(), Math.max(1, Math.floor(this.leaseMs / 3)));
    // Deno and Node: a heartbeat alone does not keep the process alive.
    (this.timer as { unref?: () => void }).unref?.();
  }

  release(id: string): void {
    this.held.delete(id);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private beat(): void {
    if (this.held.size === 0 || this.renewing) return;
    this.renewing = true;
    this.store
      .renewOutbox({ ids: [...this.held], owner: this.owner, now: this.clock(), leaseMs: this.leaseMs })
      .catch(this.failed)
      .finally(() => {
        this.renewing = false;
      });
  }
}

/** Options of `engine.start`. */
export interface WorkerOptions extends TickOptions {
  /** Milliseconds between rounds when there is nothing to do. Default: 1000. */
  readonly intervalMs?: number;
}

/** How the worker handles what it claims. */
export interface WorkerParts {
  readonly store: Store;
  readonly owner: string;
  readonly clock: () => number;
  /** Persists what time did to one claimed record; returns the events written. */
  readonly settle: (claim: DueClaim, now: number) => Promise<number>;
  /** Handlers of outbox topics, each given a claimed message it must settle. */
  readonly topics: Readonly<Record<string, (entry: OutboxEntry, now: number) => Promise<void>>>;
  /** Told of work that failed; its claim runs out and the work is retried elsewhere or later. */
  readonly report: (error: unknown) => void;
  /** Called as a round starts; the function it returns is told what the round did (telemetry). */
  readonly round?: () => (result: TickResult) => void;
  /** Removes one bounded batch of expired terminal records of each kind; returns how many. */
  readonly purge?: (now: number) => Promise<number>;
}

/**
 * The background worker of one engine: rounds that claim due deadlines and outbox messages with
 * leases and process them, every `intervalMs`, or at once when a local write enqueued work.
 */
export class Worker {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private nudged = false;

  constructor(private readonly parts: WorkerParts) {}

  /**
   * One round: settles every due deadline (each claimed by one instance, each write a
   * compare-and-set, so an expiry is recorded once however many instances tick), and sends every
   * available delivery and runs every available action. Due batches and outbox claims alternate,
   * so the webhooks of the first expiries leave while later ones are still being settled. Outbox
   * work runs in a window of at most `batch` messages claimed and not yet done, claimed again
   * once half of a full window is done, so a delivery that hangs holds up neither the rest of its
   * batch nor the batches after it. A receiver whose waiting messages outnumber the window can
   * still fill it: an endpoint gets only so many requests at once, and the rest of its messages
   * wait in the window. Resolves once all of it is done.
   */
  async tick(now: number, options: TickOptions = {}): Promise<TickResult> {
    const { store, owner } = this.parts;
    const roundDone = this.parts.round?.();
    const limit = options.batch ?? 100;
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    const handled = new Map<string, number>();
    // Renewed from the round's `now` at least: a clock behind it (a test's) never shortens a lease.
    const heartbeat = new Heartbeat(store, owner, leaseMs, () => Math.max(now, this.parts.clock()), this.failed);
    // What is due or available is judged at the round's `now`, but a lease runs from the moment of
    // its claim: a round that has been busy for longer than a lease must not hand out leases that
    // are over already, which another instance would take at once (and send the same message twice).
    const leaseFromNow = (): number => leaseMs + Math.max(0, this.parts.clock() - now);
    // Outbox work claimed and not yet done, and who waits for some of it to end (one waiter at a
    // time: a `Promise.race` over the window would add a reaction to every run at every wait).
    let running = 0;
    let ended: (() => void) | null = null;
    const endOne = (): void => {
      running--;
      ended?.();
    };
    const runningAtMost = async (count: number): Promise<void> => {
      while (running > count) await new Promise<void>((resolve) => (ended = resolve));
      ended = null;
    };
    let claimed = 0;
    let events = 0;
    let dueLeft = true;
    let outboxLeft = true;
    try {
      while (dueLeft || outboxLeft) {
        if (dueLeft) {
          // As many deadlines as the window has room for: settling runs no further ahead of sending
          // than a batch, so the first expiries' webhooks leave before the last expiries are written.
          const room = Math.max(1, limit - running);
          const claims = await store.claimDue({ now, limit: room, leaseMs: leaseFromNow(), owner });
          claimed += claims.length;
          const written = await Promise.all(claims.map((claim) => this.parts.settle(claim, now).catch(this.failed)));
          for (const count of written) events += count;
          dueLeft = claims.length === room;
        }
        outboxLeft = false;
        for (const [topic, handle] of Object.entries(this.parts.topics)) {
          const room = limit - running;
          if (room === 0) {
            outboxLeft = true; // claimed again once some of the window is done
            continue;
          }
          const entries = await store.claimOutbox({ now, limit: room, leaseMs: leaseFromNow(), owner, topic });
          running += entries.length;
          for (const entry of entries) {
            heartbeat.hold(entry.id);
            void handle(entry, now)
              .catch(this.failed)
              .then(() => {
                heartbeat.release(entry.id);
                endOne();
              });
          }
          handled.set(topic, (handled.get(topic) ?? 0) + entries.length);
          if (entries.length === room) outboxLeft = true;
        }
        // A full window is refilled once half of it is done: claims stay batches, not one by one.
        if (running === limit) {
          await runningAtMost(Math.floor(limit / 2));
          outboxLeft = true;
        }
      }
    } finally {
      // The work already started ends under its heartbeat, also when a claim failed half-way.
      await runningAtMost(0);
      heartbeat.stop();
    }
    // Retention last, one batch a kind: a backlog of old records drains over rounds, never holding one up.
    const purged = this.parts.purge ? await this.parts.purge(now).catch(this.failed) : 0;
    const result = { claimed, events, deliveries: handled.get("delivery") ?? 0, actions: handled.get("action") ?? 0, purged };
    roundDone?.(result);
    return result;
  }

  /** Starts the rounds; a second call while running changes nothing. */
  start(options: WorkerOptions = {}): void {
    if (this.running) return;
    this.running = true;
    const intervalMs = options.intervalMs ?? 1000;
    this.loop = (async () => {
      while (this.running) {
        this.nudged = false;
        try {
          await this.tick(this.parts.clock(), options);
        } catch (error) {
          this.parts.report(error); // the store failed to claim: try again next round
        }
        if (this.running && !this.nudged) await this.sleep(intervalMs);
      }
    })();
  }

  /** Stops claiming and resolves once the work in flight is done. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** Runs the next round now: a local write just enqueued work. */
  nudge(): void {
    if (!this.running) return;
    this.nudged = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      // Deno and Node: an idle worker alone does not keep the process alive.
      (timer as { unref?: () => void }).unref?.();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private readonly failed = (error: unknown): 0 => {
    this.parts.report(error);
    return 0;
  };
}
