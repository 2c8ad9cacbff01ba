import { SETTLE_MIN_CATCH_UP_MS, SETTLE_MIN_GROWTH_BYTES, SETTLE_MIN_INTERVAL_MS, SettleCollection, settleVerdict, type SettleState } from './settle-collection';
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

describe('SettleCollection', () => {
  const log = createLogger('settle-collection-test', 'silent');
  const setup = (o: { enabled?: boolean } = {}) => {
    const state = { busy: false, now: 1_000_000 };
    const collector = new SettleCollection({ enabled: o.enabled ?? true, busy: () => state.busy, log, clock: () => state.now, heapTotalBytes: () => 560 * MiB });
    return { state, collector };
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
    const { state, collector } = setup();
    expect(collector.restored(0, false)).toBe(true); // a restore always owes one
    state.now += SETTLE_MIN_INTERVAL_MS;
    collector.began(0);
    state.now += SETTLE_MIN_CATCH_UP_MS - 1;
    collector.ending(0);
    expect(collector.ended(0)).toBe(false);
    collector.began(0);
    state.now += SETTLE_MIN_CATCH_UP_MS;
    collector.began(0); // still the same catch-up: its start stays
    collector.ending(0);
    expect(collector.ended(0)).toBe(true); // this jest heap's live bytes are far below 560 MiB / 1.5
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
    const state = { now: 1_000_000, heap: 34 * MiB };
    const collector = new SettleCollection({ enabled: true, busy: () => false, log, clock: () => state.now, heapTotalBytes: () => state.heap });
    expect(collector.restored(0, false)).toBe(false); // an empty restore at start
    state.now += 10 * SETTLE_MIN_INTERVAL_MS;
    state.heap = 900 * MiB; // live load since
    collector.began(0);
    state.now += SETTLE_MIN_CATCH_UP_MS - 1;
    collector.ending(0);
    expect(collector.ended(0)).toBe(false);
    expect(collector.collections).toBe(0);
  });

  it('turned off, it never collects', () => {
    const { collector } = setup({ enabled: false });
    expect(collector.restored(0, false)).toBe(false);
    expect(collector.collections).toBe(0);
  });
});
