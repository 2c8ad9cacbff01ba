import { SETTLE_MIN_CATCH_UP_MS, SETTLE_MIN_GROWTH_BYTES, SETTLE_MIN_INTERVAL_MS, SettleCollection, shouldCollect, type SettleState } from './settle-collection';
import { createLogger } from '../platform/log';

const MiB = 1024 * 1024;
const base: SettleState = { enabled: true, owed: true, busy: false, heapTotalBytes: 560 * MiB, liveAfterLastBytes: 0, sinceLastMs: Infinity };

describe('shouldCollect', () => {
  it.each<[string, Partial<SettleState>, boolean]>([
    ['a catch-up of a large heap, first time', {}, true],
    ['turned off', { enabled: false }, false],
    ['nothing owed (no restore, no long catch-up since the last)', { owed: false }, false],
    ['another task still restoring or catching up', { busy: true }, false],
    ['a thread that restored nothing (heap of 34 MiB)', { heapTotalBytes: 34 * MiB }, false],
    ['just above the growth floor', { heapTotalBytes: SETTLE_MIN_GROWTH_BYTES + 1 }, true],
    ['too soon after the last collection', { liveAfterLastBytes: 100 * MiB, sinceLastMs: SETTLE_MIN_INTERVAL_MS - 1 }, false],
    ['long enough after, and the heap grew past 1.5x what was live', { liveAfterLastBytes: 300 * MiB, sinceLastMs: SETTLE_MIN_INTERVAL_MS }, true],
    ['long enough after, but the heap barely grew', { heapTotalBytes: 500 * MiB, liveAfterLastBytes: 300 * MiB, sinceLastMs: SETTLE_MIN_INTERVAL_MS }, false],
  ])('%s', (_name, patch, expected) => {
    expect(shouldCollect({ ...base, ...patch })).toBe(expected);
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

  it('turned off, it never collects', () => {
    const { collector } = setup({ enabled: false });
    expect(collector.restored(0, false)).toBe(false);
    expect(collector.collections).toBe(0);
  });
});
