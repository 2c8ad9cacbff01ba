/**
 * One full, compacting garbage collection of a stream thread's heap when its tasks settle: every
 * task restored and none catching up. A catch-up holds each user decoded until the checkpoint that
 * ends it packs the user (task.ts, compact entries), so those states outlive the young generation
 * and end as old-generation garbage spread over every page; a restore leaves its fetch buffers.
 * Once the thread goes quiet nothing allocates, V8 starts no major collection, and the garbage
 * stays resident: 2.7-3.1 KB per user 12 s after a catch-up of 500,000 users, for about 0.7 KB
 * actually held. A plain full collection frees the objects but leaves the pages (heap total
 * 557 -> 544 MiB in one thread); a compacting one moves the survivors together and hands the
 * rest back (563 -> 207 MiB), in 250-600 ms, once per catch-up.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../platform/log';

/**
 * V8's full collection without starting node with --expose-gc: the flag holds for contexts made
 * while it is set. V8's flags are the process's, shared by every stream thread, so the flag is left
 * set: a thread that turned it off again could do so between another thread's setting it and making
 * its context, which then had no `gc` (it crashed a stream thread's consumer once, make bench
 * 2026-12-08). Contexts made later get a `gc` global; nothing here makes any.
 */
function fullCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') throw new Error('V8 did not expose gc to a new context (--expose-gc)');
  return gc as () => void;
}

/**
 * Compacts every fragmented page, not the few V8 picks by default; for this one collection. Two
 * threads collecting at once may each turn the flag off under the other: that collection then
 * compacts only what V8 picks, which is all it costs.
 */
function compactingCollection(gc: () => void): void {
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/**
 * Heap growth since the last collection worth a collection of its own: below it V8's own
 * collections suffice, and a thread that restored nothing (a heap of about 34 MiB) is left alone.
 */
export const SETTLE_MIN_GROWTH_BYTES = 64 * 1024 * 1024;
/** Fewest milliseconds between two collections: a task that flaps in and out of catching up under load must not pause its thread each time. */
export const SETTLE_MIN_INTERVAL_MS = 30_000;
/**
 * A catch-up shorter than this owes no collection: a live partition that falls 20,000 records
 * behind for a moment holds little garbage, and a pause then would only add to its lag. A restore
 * always owes one.
 */
export const SETTLE_MIN_CATCH_UP_MS = 10_000;

export interface SettleState {
  readonly enabled: boolean;
  /** A restore, or a catch-up of at least SETTLE_MIN_CATCH_UP_MS, ended since the last collection. */
  readonly owed: boolean;
  /** Some task is still restoring or catching up, or the checkpoint that ends a catch-up still runs. */
  readonly busy: boolean;
  /** Heap the isolate holds now (V8 heap total). */
  readonly heapTotalBytes: number;
  /** Heap used right after the last collection; 0 before the first. */
  readonly liveAfterLastBytes: number;
  /** Since the last collection; Infinity before the first. */
  readonly sinceLastMs: number;
}

/**
 * What to do with what is owed: collect (settled, long enough since the last collection, and the
 * heap grew well past what was live then), wait (something still runs), or forgive. A debt that
 * finds too little garbage, or comes too soon after the last collection, is dropped rather than
 * kept: kept, it would fall due at the next moment a live task catches up, which is when a pause
 * hurts (a restore of nothing at start would otherwise pause a loaded thread later).
 */
export function settleVerdict(s: SettleState): 'collect' | 'wait' | 'forgive' | 'nothing' {
  if (!s.enabled || !s.owed) return 'nothing';
  if (s.busy) return 'wait';
  if (s.sinceLastMs < SETTLE_MIN_INTERVAL_MS) return 'forgive';
  return s.heapTotalBytes > 1.5 * s.liveAfterLastBytes + SETTLE_MIN_GROWTH_BYTES ? 'collect' : 'forgive';
}

export interface HeapProbe {
  /** Heap total (committed pages) now. */
  totalBytes(): number;
  /** One compacting full collection; returns the heap (used, total) and external bytes before and after. */
  collect(): { readonly before: NodeJS.MemoryUsage; readonly after: NodeJS.MemoryUsage };
}

/** This isolate's heap, collected by V8. */
export function v8Heap(): HeapProbe {
  let gc: (() => void) | null = null;
  return {
    totalBytes: () => getHeapStatistics().total_heap_size,
    collect: () => {
      gc ??= fullCollection();
      const before = process.memoryUsage();
      compactingCollection(gc);
      return { before, after: process.memoryUsage() };
    },
  };
}

export interface SettleCollectionOptions {
  readonly enabled: boolean;
  /** Some task of this thread is restoring or catching up: its garbage is still being made. */
  readonly busy: () => boolean;
  readonly log: Logger;
  readonly clock?: () => number;
  /** The isolate's heap and its collection; tests pass their own. */
  readonly heap?: HeapProbe;
}

export class SettleCollection {
  private readonly heap: HeapProbe;
  private readonly clock: () => number;
  /** When each catching-up task began catching up. */
  private readonly catchUpSince = new Map<number, number>();
  /** Tasks whose catch-up ended and whose last writes of it (the emit and the checkpoint that packs its users) still run. */
  private readonly endingTasks = new Set<number>();
  private owed = false;
  private liveAfterLast = 0;
  private lastAt = -Infinity;
  private count = 0;

  constructor(private readonly o: SettleCollectionOptions) {
    this.clock = o.clock ?? Date.now;
    this.heap = o.heap ?? v8Heap();
  }

  /** Collections run so far. */
  get collections(): number {
    return this.count;
  }

  /** A task began catching up (after its restore, or a live task that fell behind). */
  began(partition: number): void {
    if (!this.catchUpSince.has(partition)) this.catchUpSince.set(partition, this.clock());
  }

  /** A task's catch-up ended; its emit and checkpoint follow, and only then is its garbage garbage. */
  ending(partition: number): void {
    this.endingTasks.add(partition);
  }

  /** A task's catch-up and its writes ended: collect if it was long enough and the last thing running. Returns whether it collected. */
  ended(partition: number): boolean {
    this.endingTasks.delete(partition);
    const since = this.catchUpSince.get(partition);
    this.catchUpSince.delete(partition);
    if (since !== undefined && this.clock() - since >= SETTLE_MIN_CATCH_UP_MS) this.owed = true;
    return this.collectIfSettled();
  }

  /** A task's restore ended, its replay (catchingUp) about to begin: collect if it was the last thing running. */
  restored(partition: number, catchingUp: boolean): boolean {
    this.catchUpSince.delete(partition); // of an earlier assignment of the task
    if (catchingUp) this.began(partition);
    this.owed = true;
    return this.collectIfSettled();
  }

  private collectIfSettled(): boolean {
    const now = this.clock();
    const verdict = settleVerdict({
      enabled: this.o.enabled, owed: this.owed, busy: this.endingTasks.size > 0 || this.o.busy(), heapTotalBytes: this.heap.totalBytes(),
      liveAfterLastBytes: this.liveAfterLast, sinceLastMs: now - this.lastAt,
    });
    if (verdict === 'forgive') this.owed = false;
    if (verdict !== 'collect') return false;
    let heaps: ReturnType<HeapProbe['collect']> | null = null;
    try {
      heaps = this.heap.collect();
    } catch (e) {
      // An economy, never a reason to stop the batch that called it: not retried until next owed.
      this.o.log.warn({ err: String(e) }, 'tasks settled but the heap collection failed; the garbage stays until V8 collects it');
    }
    this.owed = false;
    this.lastAt = this.clock();
    if (heaps === null) return false;
    const { before, after } = heaps;
    this.liveAfterLast = after.heapUsed;
    this.count++;
    this.o.log.info({
      ms: this.lastAt - now, heapUsedMiB: [mib(before.heapUsed), mib(after.heapUsed)], heapTotalMiB: [mib(before.heapTotal), mib(after.heapTotal)],
      externalMiB: [mib(before.external), mib(after.external)],
    }, 'tasks settled: compacted the heap the restore or catch-up left');
    return true;
  }
}

function mib(bytes: number): number {
  return Math.round(bytes / 1048576);
}
