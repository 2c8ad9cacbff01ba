import { SETTLE_MIN_CATCH_UP_MS, SETTLE_MIN_GROWTH_BYTES, SETTLE_MIN_INTERVAL_MS, SettleCollection, settleVerdict, v8Heap, type HeapProbe, type SettleState } from './settle-collection';
import { createLogger } from '../platform/log';

const MiB = 1024 * 1024;
const base: SettleState = { enabled: true, owed: true, busy: false, heapTotalBytes: 560 * MiB, liveAfterLastBytes: 0, sinceLastMs: Infinity };

describe('settleVerdict', () => {
  it.each<[string, Partial<SettleState>, ReturnType<typeof settleVerdict>]>([
    ['a catch-up of a large heap, first time', {}, 'collect'],
    ['turned off', { enabled: false }, 'nothing'],
    ['nothing owed (no restore, no long catch-up since the last)', { owed: false }, 'nothing'],
    ['another task still restoring or catching up', { busy: true }, 'wait'],
    ['a thread that restored nothing (heap of 34 MiB): forgiven, not kept for later', { heapTotalBytes: 34 * MiB }, 'forgive'],
    ['just above the growth floor', { heapTotalBytes: SETTLE_MIN_GROWTH_BYTES + 1 }, 'collect'],
    ['too soon after the last collection: forgiven', { liveAfterLastBytes: 100 * MiB, sinceLastMs: SETTLE_MIN_INTERVAL_MS - 1 }, 'forgive'],
    ['long enough after, and the heap grew past 1.5x what was live', { liveAfterLastBytes: 300 * MiB, sinceLastMs: SETTLE_MIN_INTERVAL_MS }, 'collect'],
    ['long enough after, but the heap barely grew: forgiven', { heapTotalBytes: 500 * MiB, liveAfterLastBytes: 300 * MiB, sinceLastMs: SETTLE_MIN_INTERVAL_MS }, 'forgive'],
  ])('%s', (_name, patch, expected) => {
    expect(settleVerdict({ ...base, ...patch })).toBe(expected);
  });
});

/** A heap of `total` bytes that a collection brings down to `live` used. */
function fakeHeap(state: { total: number; live: number }): HeapProbe {
  const usage = (heapUsed: number, heapTotal: number) => ({ rss: 0, heapTotal, heapUsed, external: 0, arrayBuffers: 0 });
  return {
    totalBytes: () => state.total,
    collect: () => {
      const before = usage(state.total, state.total);
      state.total = state.live;
      return { before, after: usage(state.live, state.live) };
    },
  };
}

describe('SettleCollection', () => {
  const log = createLogger('settle-collection-test', 'silent');
  const setup = (o: { enabled?: boolean } = {}) => {
    const state = { busy: false, now: 1_000_000 };
    const heap = { total: 560 * MiB, live: 200 * MiB };
    const collector = new SettleCollection({ enabled: o.enabled ?? true, busy: () => state.busy, log, clock: () => state.now, heap: fakeHeap(heap) });
    return { state, heap, collector };
  };

  it('after a long catch-up, collects once: when the last task whose catch-up ended is through its writes and none is busy', () => {
    const { state, collector } = setup();
    state.busy = true; // tasks 1 and 2 replay: catching up
    expect(collector.restored(1, true)).toBe(false);
    expect(collector.restored(2, true)).toBe(false);
    expect(collector.restored(3, false)).toBe(false);
    state.now += SETTLE_MIN_CATCH_UP_MS;
    collector.ending(1);
    collector.ending(2);
    state.busy = false;
    expect(collector.ended(1)).toBe(false); // task 2 still writes
    expect(collector.ended(2)).toBe(true);
    expect(collector.collections).toBe(1);
  });

  it('a short catch-up of a live task owes nothing; a long one owes a collection, not sooner than the minimum interval', () => {
    const { state, heap, collector } = setup();
    expect(collector.restored(0, false)).toBe(true); // a restore always owes one
    heap.total = 560 * MiB; // garbage again: above 1.5 x 200 + 64 MiB
    state.now += SETTLE_MIN_INTERVAL_MS;
    collector.began(0);
    state.now += SETTLE_MIN_CATCH_UP_MS - 1;
    collector.ending(0);
    expect(collector.ended(0)).toBe(false);
    collector.began(0);
    state.now += SETTLE_MIN_CATCH_UP_MS;
    collector.began(0); // still the same catch-up: its start stays
    collector.ending(0);
    expect(collector.ended(0)).toBe(true);
    collector.restored(0, false);
    expect(collector.collections).toBe(2); // owed, but within the minimum interval
  });

  it('a catch-up begun under an earlier assignment of the task does not count for the next', () => {
    const { state, collector } = setup();
    collector.began(4); // revoked while catching up: never ended
    state.now += SETTLE_MIN_INTERVAL_MS + SETTLE_MIN_CATCH_UP_MS;
    state.busy = true;
    collector.restored(4, false); // assigned again, restored, caught up: a restore owes one, busy elsewhere
    state.busy = false;
    collector.began(4);
    state.now += 1;
    collector.ending(4);
    expect(collector.ended(4)).toBe(true); // owed by the restore, not by the stale start
    expect(collector.collections).toBe(1);
  });

  it('a restore that left too little to collect is forgiven: a short catch-up later under load does not collect for it', () => {
    const state = { now: 1_000_000 };
    const heap = { total: 34 * MiB, live: 20 * MiB };
    const collector = new SettleCollection({ enabled: true, busy: () => false, log, clock: () => state.now, heap: fakeHeap(heap) });
    expect(collector.restored(0, false)).toBe(false); // an empty restore at start
    state.now += 10 * SETTLE_MIN_INTERVAL_MS;
    heap.total = 900 * MiB; // live load since
    collector.began(0);
    state.now += SETTLE_MIN_CATCH_UP_MS - 1;
    collector.ending(0);
    expect(collector.ended(0)).toBe(false);
    expect(collector.collections).toBe(0);
  });

  it('the real collection (reached without --expose-gc) frees garbage this isolate just dropped', () => {
    let garbage: object[] | null = Array.from({ length: 300_000 }, (_, i) => ({ userId: `u${i}`, sessions: [{ deviceId: `d${i}`, lastSeen: i }] }));
    expect(garbage).toHaveLength(300_000);
    garbage = null;
    const { before, after } = v8Heap().collect();
    expect(before.heapUsed - after.heapUsed).toBeGreaterThan(20 * MiB);
  });

  it('a collection that throws stops nothing: the batch that settled goes on, a warning is logged, and it is not retried until owed again', () => {
    const warnings: string[] = [];
    const warnLog = { ...log, warn: (o: { err: string }) => void warnings.push(o.err) } as unknown as typeof log;
    const state = { now: 1_000_000 };
    let attempts = 0;
    const heap = { totalBytes: () => 560 * MiB, collect: () => { attempts++; throw new Error('gc is not defined'); } };
    const collector = new SettleCollection({ enabled: true, busy: () => false, log: warnLog, clock: () => state.now, heap });
    expect(collector.restored(0, false)).toBe(false);
    expect(attempts).toBe(1);
    expect(warnings).toEqual(['Error: gc is not defined']);
    expect(collector.restored(1, false)).toBe(false); // owed again, but within the minimum interval
    expect(attempts).toBe(1);
    state.now += SETTLE_MIN_INTERVAL_MS;
    expect(collector.restored(2, false)).toBe(false);
    expect(attempts).toBe(2);
    expect(collector.collections).toBe(0);
  });

  it('turned off, it never collects', () => {
    const { collector } = setup({ enabled: false });
    expect(collector.restored(0, false)).toBe(false);
    expect(collector.collections).toBe(0);
  });
});
