/**
 * A token bucket per user for the commands that are not heartbeats (overrides, visibility, room
 * joins and leaves): heartbeats are already bounded by coalescing, but a client looping on joins or
 * status changes would otherwise be published one record each. Pure bucket arithmetic, plus a
 * small map of buckets that forgets users whose bucket has refilled.
 */

export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

export interface RateLimit {
  /** Sustained commands per second. */
  readonly perSecond: number;
  /** Commands allowed at once after a quiet spell. */
  readonly burst: number;
}

/** Takes one token at `now` if there is one; a new user starts with a full bucket. */
export function takeToken(bucket: Bucket | undefined, now: number, limit: RateLimit): { bucket: Bucket; allowed: boolean; retryAfterMs: number } {
  const refilled = bucket === undefined ? limit.burst : Math.min(limit.burst, bucket.tokens + ((now - bucket.at) * limit.perSecond) / 1000);
  if (refilled >= 1) return { bucket: { tokens: refilled - 1, at: now }, allowed: true, retryAfterMs: 0 };
  return { bucket: { tokens: refilled, at: now }, allowed: false, retryAfterMs: Math.ceil(((1 - refilled) * 1000) / limit.perSecond) };
}

export class CommandLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limit: RateLimit) {}

  /** 0 when `userId` may send a command now, else how long until it may. */
  take(userId: string, now: number): number {
    const r = takeToken(this.buckets.get(userId), now, this.limit);
    this.buckets.set(userId, r.bucket);
    return r.retryAfterMs;
  }

  /** Forgets buckets that are full again (same as a new user's). */
  sweep(now: number): void {
    const fullAfterMs = (this.limit.burst * 1000) / this.limit.perSecond;
    for (const [userId, b] of this.buckets) if (now - b.at >= fullAfterMs) this.buckets.delete(userId);
  }

  get size(): number {
    return this.buckets.size;
  }
}
