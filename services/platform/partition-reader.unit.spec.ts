import { nextAfter } from './partition-reader';

const msgs = (...offsets: number[]) => offsets.map((o) => ({ offset: String(o) })) as never;

describe('nextAfter (the position after a fetched partition)', () => {
  it('moves past the last record returned, markers and filtered records included', () => {
    expect(nextAfter(5n, { messages: msgs(5, 6, 7), highWatermark: '20', lastStableOffset: '20' }, true)).toBe(8n);
    expect(nextAfter(5n, { messages: msgs(3, 4), highWatermark: '20', lastStableOffset: '20' }, true)).toBe(5n); // below the offset: no move back
  });
  it('stays put on an empty answer unless the partition was fetched alone (others may have filled the response)', () => {
    expect(nextAfter(5n, { messages: [], highWatermark: '9', lastStableOffset: '9' }, true)).toBe(5n);
    expect(nextAfter(5n, { messages: [], highWatermark: '9', lastStableOffset: '9' }, true, true)).toBe(9n);
  });
  it('never skips past the last stable offset with read_committed (an open transaction), nor past the high watermark', () => {
    expect(nextAfter(5n, { messages: [], highWatermark: '9', lastStableOffset: '7' }, true, true)).toBe(7n);
    expect(nextAfter(5n, { messages: [], highWatermark: '9', lastStableOffset: '7' }, false, true)).toBe(9n);
    expect(nextAfter(9n, { messages: [], highWatermark: '9', lastStableOffset: '9' }, true, true)).toBe(9n);
    expect(nextAfter(5n, { messages: [], highWatermark: '9', lastStableOffset: '-1' }, true, true)).toBe(9n);
  });
});
