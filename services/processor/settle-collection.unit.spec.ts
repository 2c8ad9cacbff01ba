import { SETTLE_MIN_GROWTH_BYTES, SETTLE_MIN_INTERVAL_MS, SettleCollection, shouldCollect, type SettleState } from './settle-collection';
import { createLogger } from '../platform/log';

const MiB = 1024 * 1024;
const base: SettleState = { enabled: true, busy: false, heapTotalBytes: 560 * MiB, liveAfterLastBytes: 0, sinceLastMs: Infinity };

describe('shouldCollect', () => {
  it.each<[string, Partial<SettleState>, boolean]>([
    ['a catch-up of a large heap, first time', {}, true],
    ['turned off', { enabled: false }, false],
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

  it('collects once, when the last task whose catch-up ended is through its writes and none is busy', () => {
    let busy = false;
    let now = 1_000_000;
    const collector = new SettleCollection({ enabled: true, busy: () => busy, log, clock: () => now, heapTotalBytes: () => 560 * MiB });
    collector.ending(1);
    collector.ending(2);
    expect(collector.ended(1)).toBe(false); // task 2 still writes
    busy = true;
    expect(collector.ended(2)).toBe(false); // another task still catching up
    busy = false;
    expect(collector.ended(2)).toBe(true);
    expect(collector.collections).toBe(1);
    now += SETTLE_MIN_INTERVAL_MS - 1;
    expect(collector.ended(3)).toBe(false); // within the minimum interval
    now += 1;
    expect(collector.ended(3)).toBe(true); // this jest heap's live bytes are far below 560 MiB / 1.5
    expect(collector.collections).toBe(2);
  });

  it('turned off, it never collects', () => {
    const collector = new SettleCollection({ enabled: false, busy: () => false, log, heapTotalBytes: () => 560 * MiB });
    expect(collector.ended(0)).toBe(false);
    expect(collector.collections).toBe(0);
  });
});
