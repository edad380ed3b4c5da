/**
 * A min-heap of items by the moment they become claimable: their due time, or the end of the
 * lease someone holds on them. Entries go stale instead of being removed; an item's generation
 * (read by `generationOf`) tells a current entry from a stale one, so every change is a push and a
 * claim pops what is ready.
 */
export class LeaseQueue<T> {
  private keys: number[] = [];
  private items: T[] = [];
  private generations: number[] = [];

  constructor(private readonly generationOf: (item: T) => number) {}

  get size(): number {
    return this.keys.length;
  }

  /** Queues `item` to become claimable at `at`, under its current generation. */
  push(item: T, at: number): void {
    this.keys.push(at);
    this.items.push(item);
    this.generations.push(this.generationOf(item));
    this.up(this.keys.length - 1);
  }

  /** Up to `limit` current items claimable at `now`, in the order they became claimable; they stay queued. */
  peek(now: number, limit: number): T[] {
    const ready: Array<[T, number]> = [];
    while (ready.length < limit && this.keys.length > 0 && this.keys[0]! <= now) {
      const at = this.keys[0]!;
      const item = this.items[0]!;
      const generation = this.generations[0]!;
      this.popTop();
      if (generation === this.generationOf(item)) ready.push([item, at]);
    }
    for (const [item, at] of ready) this.push(item, at);
    return ready.map(([item]) => item);
  }

  /** Drops every stale entry: for a queue whose stale entries no claim pops. */
  compact(): void {
    const keys: number[] = [];
    const items: T[] = [];
    const generations: number[] = [];
    this.keys.forEach((at, index) => {
      const item = this.items[index]!;
      if (this.generations[index] !== this.generationOf(item)) return;
      keys.push(at);
      items.push(item);
      generations.push(this.generations[index]!);
    });
    this.keys = keys;
    this.items = items;
    this.generations = generations;
    for (let index = (keys.length >> 1) - 1; index >= 0; index--) this.down(index);
  }

  /**
   * Pops up to `limit` current items claimable at `now`, in the order they became claimable.
   * `accept` may still refuse one (it returns false), which then stays where it is.
   */
  take(now: number, limit: number, accept: (item: T) => boolean): T[] {
    const taken: T[] = [];
    const refused: Array<[T, number]> = [];
    while (taken.length < limit && this.keys.length > 0 && this.keys[0]! <= now) {
      const at = this.keys[0]!;
      const item = this.items[0]!;
      const generation = this.generations[0]!;
      this.popTop();
      if (generation !== this.generationOf(item)) continue; // stale: the item changed since this entry
      if (accept(item)) taken.push(item);
      else refused.push([item, at]);
    }
    for (const [item, at] of refused) this.push(item, at);
    return taken;
  }

  private popTop(): void {
    const lastKey = this.keys.pop()!;
    const lastItem = this.items.pop()!;
    const lastGeneration = this.generations.pop()!;
    if (this.keys.length === 0) return;
    this.keys[0] = lastKey;
    this.items[0] = lastItem;
    this.generations[0] = lastGeneration;
    this.down(0);
  }

  private up(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.keys[parent]! <= this.keys[index]!) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private down(index: number): void {
    const length = this.keys.length;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < length && this.keys[left]! < this.keys[smallest]!) smallest = left;
      if (right < length && this.keys[right]! < this.keys[smallest]!) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
    [this.generations[a], this.generations[b]] = [this.generations[b]!, this.generations[a]!];
  }
}
