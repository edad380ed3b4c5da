/**
 * Runs at most `limit` tasks at a time per key; the others wait in order. Keys with nothing
 * running or waiting are forgotten, so the map holds only keys in use.
 */
export class KeyedLimiter {
  private readonly lanes = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      this.lanes.set(key, lane);
    }
    if (lane.running >= this.limit) await new Promise<void>((resolve) => lane.waiting.push(resolve));
    else lane.running++;
    try {
      return await task();
    } finally {
      const next = lane.waiting.shift();
      if (next)
        next(); // the slot passes straight to the next task
      else if (--lane.running === 0) this.lanes.delete(key);
    }
  }
}
