import type { PresenceConfig } from './config';
import type { EffectiveStatus, OverrideStatus } from './events';

const OVERRIDE_EFFECT: Readonly<Record<OverrideStatus, EffectiveStatus | null>> = {
  Available: null,
  Busy: 'Busy',
  DoNotDisturb: 'DoNotDisturb',
  AppearOffline: 'Offline',
};

/** The status an override imposes at `now`, or null (none, Available, or expired: now ≥ expiresAt). */
export function overrideEffect(
  override: { readonly status: OverrideStatus; readonly expiresAt: number | null } | null,
  now: number,
): EffectiveStatus | null {
  if (override === null || (override.expiresAt !== null && now >= override.expiresAt)) return null;
  return OVERRIDE_EFFECT[override.status];
}

/**
 * The documented precedence, in order: an active manual override (AppearOffline → Offline,
 * DoNotDisturb, Busy) wins whatever the activities; a user without a live session is Offline (an
 * activity describes a present user, it never turns an Offline one Busy); then the strongest activity
 * in force (Presenting, Focusing → DoNotDisturb; In a call, In a meeting → Busy; activity.ts);
 * else the presence status (Away or Online). An Available override is no override: activities fold.
 */
export function foldStatus(manual: EffectiveStatus | null, presence: EffectiveStatus, activity: EffectiveStatus | null): EffectiveStatus {
  if (manual !== null) return manual;
  return presence === 'Offline' || activity === null ? presence : activity;
}

/**
 * The presence part of the rules, shared by the state and by readers of a snapshot so the two can
 * never disagree: Offline from `offlineAt` (null: no live session), Away from `awayAt` (null: no
 * activity ever), else Online. The state passes its sessions' deadlines (user.ts, sessionLiveUntil). Readers of a snapshot pass its leases, extended by
 * leaseGraceMs and held by the partition watermark (see user.ts, effectiveStatusOfView).
 */
export function presenceStatusAt(offlineAt: number | null, awayAt: number | null, now: number): EffectiveStatus {
  if (offlineAt === null || offlineAt <= now) return 'Offline';
  if (awayAt === null || awayAt <= now) return 'Away';
  return 'Online';
}

/**
 * With no events, a status is piecewise constant in time and can only change at `candidates`.
 * Returns the latest candidate ≤ now at which it changed, or null when none did.
 */
export function lastChangeAt(
  statusAt: (t: number) => EffectiveStatus,
  candidates: readonly (number | null)[],
  now: number,
): number | null {
  let best: number | null = null;
  for (const c of candidates) {
    if (c !== null && c <= now && (best === null || c > best) && statusAt(c - 1) !== statusAt(c)) best = c;
  }
  return best;
}

/** The earliest of `current` and `t`, considering `t` only when it is after `now`. */
export function earliestAfter(current: number | null, t: number, now: number): number | null {
  return t > now && (current === null || t < current) ? t : current;
}
