/**
 * One pending deadline per key (away, offline, expiry, snapshot refresh), in a binary min-heap with
 * lazy deletion: rescheduling a key is O(log n) and never scans other keys, so a timer tick costs
 * only the keys that are actually due.
 */
export class DeadlineQueue {
  private readonly at = new Map<string, number>();
  private heap: Array<{ at: number; key: string }> = [];

  /** Sets (or clears, with null) the single deadline of `key`. */
  schedule(key: string, at: number | null): void {
    if (at === null) {
      this.at.delete(key);
      return;
    }
    if (this.at.get(key) === at) return;
    this.at.set(key, at);
    this.push({ at, key });
    // Stale heap entries are dropped lazily; compact when they dominate, to bound memory.
    if (this.heap.length > 2 * this.at.size + 1024) this.rebuild();
  }

  deadlineOf(key: string): number | null {
    return this.at.get(key) ?? null;
  }

  /** The earliest pending deadline, or null. */
  next(): number | null {
    this.dropStale();
    return this.heap[0]?.at ?? null;
  }

  /** Removes and returns the keys whose deadline is at or before `now`, earliest first. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) return due;
      this.pop();
      this.at.delete(top.key);
      due.push(top.key);
    }
  }

  get size(): number {
    return this.at.size;
  }

  clear(): void {
    this.at.clear();
    this.heap = [];
  }

  private dropStale(): void {
    for (let top = this.heap[0]; top && this.at.get(top.key) !== top.at; top = this.heap[0]) this.pop();
  }

  private rebuild(): void {
    this.heap = [];
    for (const [key, at] of this.at) this.push({ at, key });
  }

  private push(entry: { at: number; key: string }): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as { at: number; key: string };
      if (p.at <= entry.at) break;
      h[i] = p;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const lc = h[l] as { at: number; key: string };
      const rc = h[r];
      const c = rc && rc.at < lc.at ? r : l;
      const child = h[c] as { at: number; key: string };
      if (child.at >= last.at) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}
