/**
 * The common heartbeat, applied in place. Most heartbeats only move an open session's lastSeen (and
 * perhaps lastActivity) forward; applyEvent answers them with a new session, a new session list and
 * a new state, and each of the three outlives the young generation (the user's previous state lives
 * until its next event), so the scavenger copies them and the old generation fills with them. The
 * task owns its states (nothing else keeps one across a flush: views and encoded entries copy what
 * they need), so it may rewrite them. `advanceInPlace` does exactly what applyEvent would, or
 * nothing and answers 'not-soft' (the property test holds it to that).
 */
import { effectiveStatus, findSession, isOpen, tick, type HeartbeatReceived, type PresenceConfig, type Session, type UserState } from '../core';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * 'soft': only lastSeen/lastActivity/version moved (no save needed); 'status': the status moved
 * too (statusSince = now, a durable change); 'not-soft': nothing was touched, use applyEvent.
 */
export type InPlaceResult = 'soft' | 'status' | 'not-soft';

export function advanceInPlace(state: UserState, e: HeartbeatReceived, now: number, cfg: PresenceConfig): InPlaceResult {
  // The adaptive rule keeps an arrival history per session: a new one per heartbeat.
  if (cfg.adaptiveOffline?.enabled === true) return 'not-soft';
  const i = findSession(state.sessions, e.deviceId, e.sessionId);
  if (i < 0) return 'not-soft';
  const s = state.sessions[i] as Session;
  // Newer than the session's last heartbeat, through the same gateway on the same platform, into a
  // session that is open already: nothing but the instants change.
  if (s.lastSeen === null || e.observedAt <= s.lastSeen || !isOpen(s)) return 'not-soft';
  if (e.platform !== s.platform || s.gatewayId === undefined || (e.gatewayId ?? null) !== s.gatewayId) return 'not-soft';
  // applyEvent ticks first; a tick that changes anything (status, pruning) takes the full path.
  if (tick(state, now, cfg) !== state) return 'not-soft';
  const activity = e.observedAt - e.idleMs;
  const session = s as Mutable<Session>;
  session.lastSeen = e.observedAt;
  if (session.lastActivity === null || activity > session.lastActivity) session.lastActivity = activity;
  const user = state as Mutable<UserState>;
  if (user.lastSeen === null || e.observedAt > user.lastSeen) user.lastSeen = e.observedAt;
  if (user.lastActivity === null || activity > user.lastActivity) user.lastActivity = activity;
  user.version += 1;
  const status = effectiveStatus(state, now, cfg);
  if (status === state.status) return 'soft';
  user.status = status;
  user.statusSince = now;
  return 'status';
}
