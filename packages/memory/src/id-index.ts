import { LeaseQueue } from "./lease-queue.js";

/** Ids of one organization's records of one kind, ascending, with their counts by status and their deadlines. */
export class IdIndex<T> {
  readonly ids: string[] = [];
  readonly byStatus = new Map<string, number>();
  /** The records with a deadline, by it; an entry is current while its record's `dueGeneration` is. */
  readonly deadlines: LeaseQueue<T>;

  constructor(dueGeneration: (item: T) => number) {
    this.deadlines = new LeaseQueue(dueGeneration);
  }

  add(id: string): void {
    const ids = this.ids;
    const length = ids.length;
    if (length === 0 || ids[length - 1]! < id) {
      ids.push(id);
      return;
    }
    // Ids are time-ordered, so one that is not the newest lands among the last millisecond's,
    // whose order is random: gallop back from the end (1, 2, 4… ids) to a newer id's position,
    // then search between the two. An id from long ago costs a search of the whole index, and
    // moving every id after it.
    let above = length - 1; // ids[above] > id
    let step = 1;
    let below = above - step; // ids[below] < id once the gallop stops, or before the first id
    while (below >= 0 && ids[below]! > id) {
      above = below;
      step *= 2;
      below = above - step;
    }
    const position = this.firstAtOrAfter(id, Math.max(below, -1) + 1, above);
    // Moved up by hand: the ids after it are few, and in a profile of 300,000 creates `splice`
    // took eight times as long as the whole search.
    ids.push(id);
    for (let i = length; i > position; i--) ids[i] = ids[i - 1]!;
    ids[position] = id;
  }

  /** The position of the first id `>= id`, searched between `low` and `high`. */
  firstAtOrAfter(id: string, low = 0, high = this.ids.length): number {
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ids[mid]! < id) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Records of this index with `status`, or all of them. */
  count(status: string | undefined): number {
    return status === undefined ? this.ids.length : (this.byStatus.get(status) ?? 0);
  }

  /** Moves one record between statuses: `from` null for a new record. */
  recount(from: string | null, to: string): void {
    if (from === to) return;
    if (from !== null) this.byStatus.set(from, this.byStatus.get(from)! - 1);
    this.byStatus.set(to, (this.byStatus.get(to) ?? 0) + 1);
  }
}
