import fc from 'fast-check';
import { CommandLimiter, takeToken, type Bucket } from './rate-limit';

const limit = { perSecond: 2, burst: 3 };

describe('takeToken', () => {
  it.each<[string, Bucket | undefined, number, boolean, number, number]>([
    // name, bucket, now, allowed, tokens left, retryAfterMs
    ['a new user starts with a full burst', undefined, 0, true, 2, 0],
    ['an empty bucket refuses, saying when', { tokens: 0, at: 0 }, 0, false, 0, 500],
    ['half a token refilled is not enough', { tokens: 0, at: 0 }, 250, false, 0.5, 250],
    ['one token refills in 1/perSecond', { tokens: 0, at: 0 }, 500, true, 0, 0],
    ['refill stops at the burst', { tokens: 1, at: 0 }, 60_000, true, 2, 0],
  ])('%s', (_name, bucket, now, allowed, tokens, retryAfterMs) => {
    const r = takeToken(bucket, now, limit);
    expect(r.allowed).toBe(allowed);
    expect(r.bucket.tokens).toBeCloseTo(tokens);
    expect(r.retryAfterMs).toBe(retryAfterMs);
  });

  it('property: over any span, at most burst + perSecond × seconds commands are allowed', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }), (gaps) => {
      let bucket: Bucket | undefined;
      let now = 0;
      let allowed = 0;
      for (const g of gaps) {
        now += g;
        const r = takeToken(bucket, now, limit);
        bucket = r.bucket;
        if (r.allowed) allowed++;
      }
      expect(allowed).toBeLessThanOrEqual(limit.burst + Math.floor((now * limit.perSecond) / 1000));
    }));
  });
});

describe('CommandLimiter', () => {
  it('limits each user on its own and forgets users whose bucket is full again', () => {
    const l = new CommandLimiter(limit);
    expect([l.take('ana', 0), l.take('ana', 0), l.take('ana', 0), l.take('ana', 0)]).toEqual([0, 0, 0, 500]);
    expect(l.take('bob', 0)).toBe(0);
    l.sweep(1_000);
    expect(l.size).toBe(2);
    l.sweep(1_500); // 3 tokens at 2/s: full 1.5 s after the last take
    expect(l.size).toBe(0);
  });
});
