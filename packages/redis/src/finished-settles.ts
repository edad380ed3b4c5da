/** One finished message waiting for the next group. */
interface Finish {
  readonly bucket: string;
  readonly id: string;
  readonly owner: string;
  resolve(settled: boolean): void;
  reject(error: unknown): void;
}

/** The most messages one script finishes: Redis serves no one else while a script runs. */
const GROUP = 100;

/**
 * Finishes outbox messages with group commit: the settles asked for while one group is being
 * written go together in the next, one script per bucket and owner, instead of a script (and,
 * arriving each in its own turn of the event loop, a socket write) each. A worker finishing a
 * stream of deliveries spends one call on many of them; a lone settle leaves at once.
 */
export class FinishedSettles {
  private pending: Finish[] = [];
  private writing = false;

  constructor(private readonly finish: (bucket: string, owner: string, ids: readonly string[]) => Promise<unknown>) {}

  /** Finishes message `id` of `bucket` if `owner` holds it: true, or false for anyone else. */
  settle(bucket: string, id: string, owner: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ bucket, id, owner, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const groups = new Map<string, Finish[]>();
        for (const finish of this.pending.splice(0)) {
          const key = `${finish.bucket}\n${finish.owner}`;
          let group = groups.get(key);
          if (!group) groups.set(key, (group = []));
          group.push(finish);
        }
        const writes: Promise<void>[] = [];
        for (const group of groups.values()) {
          for (let from = 0; from < group.length; from += GROUP) writes.push(this.write(group.slice(from, from + GROUP)));
        }
        await Promise.all(writes);
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(group: readonly Finish[]): Promise<void> {
    const { bucket, owner } = group[0]!;
    try {
      const answers = (await this.finish(
        bucket,
        owner,
        group.map((finish) => finish.id),
      )) as number[];
      for (const [index, finish] of group.entries()) finish.resolve(answers[index] === 1);
    } catch (error) {
      for (const finish of group) finish.reject(error);
    }
  }
}
