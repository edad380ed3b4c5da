/** One item waiting for the next group, and who waits for its answer. */
interface Waiting<T, R> {
  readonly item: T;
  resolve(answer: R): void;
  reject(error: unknown): void;
}

/** How `GroupCommit` splits what waits into writes. */
export interface GroupCommitOptions<T> {
  /** Items of different keys never share a write (a bucket, an owner). Default: one key. */
  readonly key?: (item: T) => string;
  /** The most items one write takes. Default: no limit. */
  readonly size?: number;
}

/**
 * Group commit for a store's small writes: the first item goes at once, and the items added while
 * a group is being written go together in the next one, whose writes (one per key and `size`
 * items) run side by side. A burst of writes costs a few round trips and commits, not one each,
 * and a lone write waits for nothing. `write` answers each item of its group, in order; when it
 * fails, every item of that write fails with its error.
 */
export class GroupCommit<T, R = void> {
  private pending: Waiting<T, R>[] = [];
  private writing = false;
  private readonly key: (item: T) => string;
  private readonly size: number;

  constructor(
    private readonly write: (items: readonly T[]) => Promise<readonly R[]>,
    options: GroupCommitOptions<T> = {},
  ) {
    this.key = options.key ?? (() => "");
    this.size = options.size ?? Number.POSITIVE_INFINITY;
  }

  /** Writes `item` with the next group; resolves with its answer once that group is written. */
  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const groups = new Map<string, Waiting<T, R>[]>();
        for (const waiting of this.pending.splice(0)) {
          const key = this.key(waiting.item);
          let group = groups.get(key);
          if (!group) groups.set(key, (group = []));
          group.push(waiting);
        }
        const writes: Promise<void>[] = [];
        for (const group of groups.values()) {
          for (let from = 0; from < group.length; from += this.size) writes.push(this.run(group.slice(from, from + this.size)));
        }
        await Promise.all(writes);
      }
    } finally {
      this.writing = false;
    }
  }

  private async run(group: readonly Waiting<T, R>[]): Promise<void> {
    try {
      const answers = await this.write(group.map((waiting) => waiting.item));
      for (const [index, waiting] of group.entries()) waiting.resolve(answers[index]!);
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
    }
  }
}
