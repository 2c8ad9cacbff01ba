/**
 * One pending deadline per item, in an indexed binary min-heap: each item carries its own position
 * in the heap (`slot`), so rescheduling moves it in place in O(log n), with no key map and no stale
 * entries. DeadlineQueue does the same for string keys; this one is for callers that already hold
 * an object per key (the processor's task entries), where a Map from key to deadline cost a hash
 * lookup per reschedule and ~60 bytes per key.
 */

/** What the heap needs of an item: where it sits (-1 while not queued). Only the heap writes it. */
export interface DeadlineSlot {
  slot: number;
}

export const NOT_QUEUED = -1;

export class DeadlineHeap<T extends DeadlineSlot> {
  // Two parallel arrays (instant, item): the instants stay unboxed doubles.
  private ats: number[] = [];
  private items: T[] = [];

  /** Sets (or clears, with null) the single deadline of `item`. */
  schedule(item: T, at: number | null): void {
    const i = item.slot;
    if (at === null) {
      if (i !== NOT_QUEUED) this.removeAt(i);
      return;
    }
    if (i === NOT_QUEUED) {
      this.ats.push(at);
      this.items.push(item);
      this.siftUp(this.ats.length - 1, at, item);
      return;
    }
    const was = this.ats[i] as number;
    if (at < was) this.siftUp(i, at, item);
    else if (at > was) this.siftDown(i, at, item);
  }

  deadlineOf(item: T): number | null {
    return item.slot === NOT_QUEUED ? null : (this.ats[item.slot] as number);
  }

  /** The earliest pending deadline, or null. */
  next(): number | null {
    return this.ats.length > 0 ? (this.ats[0] as number) : null;
  }

  /** Removes and returns the items whose deadline is at or before `now`, earliest first. */
  takeDue(now: number): T[] {
    const due: T[] = [];
    while (this.ats.length > 0 && (this.ats[0] as number) <= now) {
      due.push(this.items[0] as T);
      this.removeAt(0);
    }
    return due;
  }

  get size(): number {
    return this.ats.length;
  }

  clear(): void {
    for (const item of this.items) item.slot = NOT_QUEUED;
    this.ats = [];
    this.items = [];
  }

  private removeAt(i: number): void {
    const removed = this.items[i] as T;
    removed.slot = NOT_QUEUED;
    const lastAt = this.ats.pop() as number;
    const last = this.items.pop() as T;
    if (i === this.ats.length) return; // it was the last one
    // The last item takes the hole and moves whichever way its instant says.
    const parent = (i - 1) >> 1;
    if (i > 0 && (this.ats[parent] as number) > lastAt) this.siftUp(i, lastAt, last);
    else this.siftDown(i, lastAt, last);
  }

  /** Places (at, item) at slot i or above it. */
  private siftUp(i: number, at: number, item: T): void {
    const { ats, items } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pAt = ats[parent] as number;
      if (pAt <= at) break;
      const p = items[parent] as T;
      ats[i] = pAt;
      items[i] = p;
      p.slot = i;
      i = parent;
    }
    ats[i] = at;
    items[i] = item;
    item.slot = i;
  }

  /** Places (at, item) at slot i or below it. */
  private siftDown(i: number, at: number, item: T): void {
    const { ats, items } = this;
    const n = ats.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (ats[r] as number) < (ats[l] as number) ? r : l;
      const cAt = ats[c] as number;
      if (cAt >= at) break;
      const child = items[c] as T;
      ats[i] = cAt;
      items[i] = child;
      child.slot = i;
      i = c;
    }
    ats[i] = at;
    items[i] = item;
    item.slot = i;
  }
}
