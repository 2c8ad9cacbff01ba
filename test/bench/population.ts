/**
 * A deterministic population of users and devices, and the heartbeats they send. Pure: the same
 * arguments always give the same heartbeat, so a run can be reproduced.
 *
 * Shape: every user has 2–4 devices (one session each); ids have realistic lengths (they are the
 * bulk of the processor's per-user state); the idle mix is what a chat product sees: ~80 % of users
 * are active (each heartbeat reports 0–60 s idle), ~17 % have been idle for minutes (some of them
 * Away) and ~3 % for hours. An idle user's idle time grows with the clock, as it does live.
 */
import type { Platform, PresenceHeartbeat } from '../../services/contract/avro-types';

const PLATFORMS: readonly Platform[] = ['web', 'desktop', 'ios', 'android'];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A 32-bit integer mix (murmur3's finaliser): cheap, well spread, deterministic. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex = (n: number) => n.toString(16).padStart(8, '0');

export class Population {
  constructor(
    readonly users: number,
    /** Distinguishes populations of one run (pre-fill, live load, probes) so their ids never meet. */
    private readonly label: string,
  ) {}

  /** Every user id of this population starts with it (consumers filter on it before decoding). */
  get userIdPrefix(): string {
    return `${this.label}-user-`;
  }

  userId(u: number): string {
    return `${this.userIdPrefix}${u}`;
  }

  devicesOf(u: number): number {
    return 2 + (mix32(u ^ 0x5bd1e995) % 3);
  }

  /** Idle time a session reports: active users 0–60 s (new each beat); idle users a fixed start plus elapsed time. */
  idleMs(u: number, d: number, beat: number, elapsedMs: number): number {
    const cls = mix32(u ^ 0x27d4eb2f) % 100;
    if (cls < 80) return mix32(u * 131 + d * 17 + beat) % MINUTE;
    if (cls < 97) return MINUTE + (mix32(u) % (29 * MINUTE)) + elapsedMs;
    return HOUR + (mix32(u) % (4 * HOUR)) + elapsedMs;
  }

  /** The beat-th heartbeat of user u's device d. */
  heartbeatOf(u: number, d: number, beat: number, observedAt: number, elapsedMs: number): PresenceHeartbeat {
    const deviceHash = mix32(u * 8 + d);
    return {
      kind: 'heartbeat',
      userId: this.userId(u),
      deviceId: `dev-${hex(deviceHash)}${hex(mix32(deviceHash))}`,
      sessionId: `ses-${hex(mix32(deviceHash ^ 0x9e3779b9))}`,
      platform: PLATFORMS[d % PLATFORMS.length] ?? 'other',
      observedAt,
      idleMs: this.idleMs(u, d, beat, elapsedMs),
      gatewayId: `gw-${d % 8}`,
    };
  }

  /**
   * The i-th record of a backlog that cycles over all users, one device per user per round, the
   * way live traffic interleaves: consecutive records are different users, devices take turns.
   */
  backlogHeartbeat(i: number, observedAt: number): PresenceHeartbeat {
    const u = i % this.users;
    const round = Math.floor(i / this.users);
    return this.heartbeatOf(u, (round + u) % this.devicesOf(u), round, observedAt, 0);
  }

  /** Every (user, device) session, in user order: a live load beats each one once per interval. */
  sessions(): Array<readonly [number, number]> {
    const out: Array<readonly [number, number]> = [];
    for (let u = 0; u < this.users; u++) for (let d = 0; d < this.devicesOf(u); d++) out.push([u, d]);
    return out;
  }

  /** Users needed for about `sessions` sessions (3 devices on average). */
  static usersFor(sessions: number): number {
    return Math.max(1, Math.round(sessions / 3));
  }
}
