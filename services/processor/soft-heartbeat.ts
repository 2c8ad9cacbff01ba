/**
 * The common heartbeat, applied in place. Most heartbeats only move an open session's lastSeen (and
 * perhaps lastActivity) forward; applyEvent answers them with a new session, a new session list and
 * a new state, and each of the three outlives the young generation (the user's previous state lives
 * until its next event), so the scavenger copies them and the old generation fills with them. The
 * task owns its states (nothing else keeps one across a flush: views and encoded entries copy what
 * they need), so it may rewrite them. `advanceInPlace` does exactly what applyEvent would, or
 * nothing and answers 'not-soft' (the property test holds it to that). A heartbeat that opens a
 * new session is applied in place too (a new session list, the same state object).
 */
import { effectiveStatus, findSession, isOpen, sessionOpenedBy, sessionsWith, tick, type HeartbeatReceived, type PresenceConfig, type Session, type UserState } from '../core';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * 'soft': only lastSeen/lastActivity/version moved (no save needed); 'status': the status moved
 * too (statusSince = now, a durable change); 'opened': the heartbeat opened a new session (a new,
 * exactly sized session list in the same state object; durable); 'not-soft': nothing was touched,
 * use applyEvent.
 */
export type InPlaceResult = 'soft' | 'status' | 'opened' | 'not-soft';

export function advanceInPlace(state: UserState, e: HeartbeatReceived, now: number, cfg: PresenceConfig): InPlaceResult {
  // The adaptive rule keeps an arrival history per session: a new one per heartbeat.
  if (cfg.adaptiveOffline?.enabled === true) return 'not-soft';
  const i = findSession(state.sessions, e.deviceId, e.sessionId);
  if (i < 0) return openInPlace(state, e, -i - 1, now, cfg);
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
  return advanceUser(state as Mutable<UserState>, e.observedAt, activity, now, cfg) ? 'status' : 'soft';
}

/**
 * A heartbeat of a session the state does not have (the backlog's common case: a device's first),
 * while the list has room (no eviction) and no tick is due: the session is inserted where
 * applyEvent puts it (the core's sessionOpenedBy and sessionsWith), and the state
 * object is kept (applyEvent's copy of it outlived the young generation like the soft path's).
 */
function openInPlace(state: UserState, e: HeartbeatReceived, at: number, now: number, cfg: PresenceConfig): InPlaceResult {
  if (state.sessions.length >= cfg.maxSessionsPerUser) return 'not-soft';
  if (tick(state, now, cfg) !== state) return 'not-soft';
  const session = sessionOpenedBy(e);
  const user = state as Mutable<UserState>;
  user.sessions = sessionsWith(state.sessions, at, session);
  advanceUser(user, e.observedAt, e.observedAt - e.idleMs, now, cfg);
  return 'opened';
}

/** The user's own instants, version and status after a heartbeat; true when the status moved. */
function advanceUser(user: Mutable<UserState>, observedAt: number, activity: number, now: number, cfg: PresenceConfig): boolean {
  if (user.lastSeen === null || observedAt > user.lastSeen) user.lastSeen = observedAt;
  if (user.lastActivity === null || activity > user.lastActivity) user.lastActivity = activity;
  user.version += 1;
  const status = effectiveStatus(user, now, cfg);
  if (status === user.status) return false;
  user.status = status;
  user.statusSince = now;
  return true;
}
