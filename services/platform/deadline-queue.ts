/**
 * One pending deadline per key (away, offline, expiry, snapshot refresh), in a binary min-heap with
 * lazy deletion: rescheduling a key is O(log n) and never scans other keys, so a timer tick costs
 * only the keys that are actually due.
 */
export class DeadlineQueue {
  private readonly at = new Map<string, number>();
  // The heap as two parallel arrays (instant, key): an object per entry was ~40 B and one more
  // object per key for the garbage collector to mark, at one or two entries per user.
  private ats: number[] = [];
  private keys: string[] = [];

  /** `slack`: stale heap entries tolerated beyond twice the live ones before compacting. */
  constructor(private readonly slack = 1024) {}

  /** Sets (or clears, with null) the single deadline of `key`. */
  schedule(key: string, at: number | null): void {
    if (at === null) {
      this.at.delete(key);
      return;
    }
    if (this.at.get(key) === at) return;
    this.at.set(key, at);
    this.push(at, key);
    // Stale heap entries are dropped lazily; compact when they dominate, to bound memory.
    if (this.ats.length > 2 * this.at.size + this.slack) this.rebuild();
  }

  deadlineOf(key: string): number | null {
    return this.at.get(key) ?? null;
  }

  /** The earliest pending deadline, or null. */
  next(): number | null {
    this.dropStale();
    return this.ats.length > 0 ? (this.ats[0] as number) : null;
  }

  /** Removes and returns the keys whose deadline is at or before `now`, earliest first. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (;;) {
      this.dropStale();
      if (this.ats.length === 0 || (this.ats[0] as number) > now) return due;
      const key = this.keys[0] as string;
      this.pop();
      this.at.delete(key);
      due.push(key);
    }
  }

  get size(): number {
    return this.at.size;
  }

  clear(): void {
    this.at.clear();
    this.ats = [];
    this.keys = [];
  }

  private dropStale(): void {
    while (this.ats.length > 0 && this.at.get(this.keys[0] as string) !== this.ats[0]) this.pop();
  }

  /** The live entries only, heapified in place (O(n)). */
  private rebuild(): void {
    this.ats = [...this.at.values()];
    this.keys = [...this.at.keys()];
    for (let i = (this.ats.length >> 1) - 1; i >= 0; i--) this.siftDown(i, this.ats[i] as number, this.keys[i] as string);
  }

  private push(at: number, key: string): void {
    const { ats, keys } = this;
    let i = ats.length;
    ats.push(at);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pAt = ats[parent] as number;
      if (pAt <= at) break;
      ats[i] = pAt;
      keys[i] = keys[parent] as string;
      i = parent;
    }
    ats[i] = at;
    keys[i] = key;
  }

  private pop(): void {
    const lastAt = this.ats.pop() as number;
    const lastKey = this.keys.pop() as string;
    if (this.ats.length > 0) this.siftDown(0, lastAt, lastKey);
  }

  /** Places (at, key) at or below slot i. */
  private siftDown(i: number, at: number, key: string): void {
    const { ats, keys } = this;
    const n = ats.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (ats[r] as number) < (ats[l] as number) ? r : l;
      const cAt = ats[c] as number;
      if (cAt >= at) break;
      ats[i] = cAt;
      keys[i] = keys[c] as string;
      i = c;
    }
    ats[i] = at;
    keys[i] = key;
  }
}
