import { InternPool } from './intern-pool';

/**
 * JavaScript cannot tell two equal strings apart, so these tests hold the pool to returning an
 * equal string and to its bound; the memory it saves is measured by test/bench/task-memory.ts
 * (sessions 651 -> 580 B per user when it came in).
 */
describe('InternPool', () => {
  it('returns a string equal to the one given, for a known and a new string alike', () => {
    const pool = new InternPool();
    const copy = () => Buffer.from('gw-eu-west-1a-7f9c').toString(); // a fresh heap string, as a decoder gives
    expect(pool.intern(copy())).toBe('gw-eu-west-1a-7f9c');
    expect(pool.intern(copy())).toBe('gw-eu-west-1a-7f9c');
    expect(pool.size).toBe(1);
  });

  it('keeps distinct strings apart', () => {
    const pool = new InternPool();
    expect(['gw-1', 'gw-2', 'gw-1', ''].map((s) => pool.intern(s))).toEqual(['gw-1', 'gw-2', 'gw-1', '']);
    expect(pool.size).toBe(3);
  });

  it('never holds more than its bound, and still returns an equal string past it', () => {
    const pool = new InternPool(4);
    for (let i = 0; i < 100; i++) {
      expect(pool.intern(`gw-${i}`)).toBe(`gw-${i}`);
      expect(pool.size).toBeLessThanOrEqual(4);
    }
  });
});
