import type { PresenceConfig } from './config';
import type {
  Audit,
  EffectiveStatus,
  HeartbeatReceived,
  LastSeenPrivacy,
  LastSeenPrivacySet,
  OverrideSet,
  OverrideStatus,
  Platform,
  SessionDisconnected,
  UserEvent,
  Visibility,
  VisibilitySet,
} from './events';
import { unreachable } from './events';
import { adaptiveOfflineDeadline, arrivalEstimate, EMPTY_ARRIVALS, recordArrival, type ArrivalHistory } from './arrival';
import { earliestAfter, foldStatus, lastChangeAt, overrideEffect, presenceStatusAt } from './status';
import {
  ACTIVITY_EFFECT,
  activitiesInForce,
  activityEffect,
  activityExpiries,
  mergeActivity,
  sameActivities,
  type ActivityRegister,
  type ActivitySet,
  type ActivityView,
} from './activity';
import { visibleTo, type Viewer } from './contacts';

/** One connection of one device, keyed by (deviceId, sessionId). */
export interface Session {
  readonly deviceId: string;
  readonly sessionId: string;
  /** Platform of the latest heartbeat (or of the latest disconnect while no heartbeat was seen). */
  readonly platform: Platform;
  /** MAX observedAt of its heartbeats; null while only a disconnect was seen. */
  readonly lastSeen: number | null;
  /** MAX (observedAt − idleMs) of its heartbeats. */
  readonly lastActivity: number | null;
  /** MAX observedAt of its clean disconnects; null = never disconnected. */
  readonly endedAt: number | null;
  /**
   * Gateway of its latest heartbeat (ties on observedAt: the greatest id, null lowest); null when
   * unknown. Optional only for states written before it existed: the core always sets it.
   */
  readonly gatewayId?: string | null;
  /**
   * The newest distinct heartbeat instants (arrival.ts, recordArrival), kept only while the adaptive
   * offline rule is enabled (cfg.adaptiveOffline); absent = none recorded.
   */
  readonly arrivals?: ArrivalHistory;
}

/**
 * The override register: last writer wins by (setAt, eventId). Like the other registers it keeps
 * the audit (actor, reason) of the write that won, present only when that write carried it.
 */
export interface OverrideRegister extends Audit {
  readonly status: OverrideStatus;
  readonly customText: string | null;
  readonly expiresAt: number | null;
  readonly setAt: number;
  readonly eventId: string;
}

/** The visibility register: last writer wins by (setAt, eventId). */
export interface VisibilityRegister extends Audit {
  readonly visibility: Visibility;
  readonly setAt: number;
  readonly eventId: string;
}

/** The last-seen privacy register: last writer wins by (setAt, eventId). */
export interface LastSeenPrivacyRegister extends Audit {
  readonly lastSeenPrivacy: LastSeenPrivacy;
  readonly setAt: number;
  readonly eventId: string;
}

/**
 * Everything the processor keeps for one user. Plain JSON-friendly values (no Map/Set).
 * `sessions` is sorted by (deviceId, sessionId), so equal merges give equal states.
 */
export interface UserState {
  readonly userId: string;
  readonly sessions: readonly Session[];
  /** MAX observedAt over all heartbeats ever applied (survives pruning). */
  readonly lastSeen: number | null;
  /** MAX (observedAt − idleMs) over all heartbeats ever applied. */
  readonly lastActivity: number | null;
  readonly override: OverrideRegister | null;
  readonly visibility: VisibilityRegister | null;
  readonly lastSeenPrivacy: LastSeenPrivacyRegister | null;
  /**
   * The activity registers, one per source that ever wrote one, sorted by source (activity.ts).
   * Absent = none (states written before activities existed, and users without any).
   */
  readonly activities?: readonly ActivityRegister[];
  /** Status last recorded by tick/applyEvent, and since when (order-sensitive, see README). */
  readonly status: EffectiveStatus;
  readonly statusSince: number | null;
  /** Incremented on every state change; lets consumers drop duplicates. Order-sensitive. */
  readonly version: number;
}

/** The state of a user never seen: Offline, no sessions, no registers, version 0. */
export function initialUserState(userId: string): UserState {
  return {
    userId,
    sessions: [],
    lastSeen: null,
    lastActivity: null,
    override: null,
    visibility: null,
    lastSeenPrivacy: null,
    status: 'Offline',
    statusSince: null,
    version: 0,
  };
}

/** The fields of a UserState a change may replace (undefined: kept). */
export type UserStatePatch = { readonly [K in Exclude<keyof UserState, 'userId'>]?: UserState[K] };

/**
 * `state` with the fields of `patch` replaced. Every state the core derives is built here, as one
 * literal in initialUserState's key order (activities last, when there are any), which is also the
 * order the store decodes states in. A spread (`{ ...state, version }`) keeps in the object only the
 * fields it names and moves the others to a second array: one object more per user, and a second
 * hidden class beside the restored states' for every access to tell apart.
 */
export function withUserFields(state: UserState, patch: UserStatePatch): UserState {
  const sessions = patch.sessions ?? state.sessions;
  const lastSeen = patch.lastSeen === undefined ? state.lastSeen : patch.lastSeen;
  const lastActivity = patch.lastActivity === undefined ? state.lastActivity : patch.lastActivity;
  const override = patch.override === undefined ? state.override : patch.override;
  const visibility = patch.visibility === undefined ? state.visibility : patch.visibility;
  const lastSeenPrivacy = patch.lastSeenPrivacy === undefined ? state.lastSeenPrivacy : patch.lastSeenPrivacy;
  const status = patch.status ?? state.status;
  const statusSince = patch.statusSince === undefined ? state.statusSince : patch.statusSince;
  const version = patch.version ?? state.version;
  const activities = patch.activities ?? state.activities;
  if (activities === undefined) return { userId: state.userId, sessions, lastSeen, lastActivity, override, visibility, lastSeenPrivacy, status, statusSince, version };
  return { userId: state.userId, sessions, lastSeen, lastActivity, override, visibility, lastSeenPrivacy, status, statusSince, version, activities };
}

/** The fields of a Session a change may replace (undefined: kept). */
export type SessionPatch = { readonly [K in Exclude<keyof Session, 'deviceId' | 'sessionId'>]?: Session[K] };

/** `s` with the fields of `patch` replaced, as one literal in sessionOpenedBy's key order (see withUserFields). */
export function withSessionFields(s: Session, patch: SessionPatch): Session {
  const platform = patch.platform ?? s.platform;
  const lastSeen = patch.lastSeen === undefined ? s.lastSeen : patch.lastSeen;
  const lastActivity = patch.lastActivity === undefined ? s.lastActivity : patch.lastActivity;
  const endedAt = patch.endedAt === undefined ? s.endedAt : patch.endedAt;
  const gatewayId = patch.gatewayId === undefined ? (s.gatewayId ?? null) : patch.gatewayId;
  const arrivals = patch.arrivals ?? s.arrivals;
  if (arrivals === undefined) return { deviceId: s.deviceId, sessionId: s.sessionId, platform, lastSeen, lastActivity, endedAt, gatewayId };
  return { deviceId: s.deviceId, sessionId: s.sessionId, platform, lastSeen, lastActivity, endedAt, gatewayId, arrivals };
}

// ---------------------------------------------------------------------------------------------
// Sessions

/** A session is open when it heart-beat after its last clean disconnect (time-independent). */
export function isOpen(s: Session): boolean {
  return s.lastSeen !== null && (s.endedAt === null || s.lastSeen > s.endedAt);
}

/** The adaptive offline rule when it is on, else null (the fixed offlineAfterMs). */
function adaptiveRule(cfg: PresenceConfig) {
  const a = cfg.adaptiveOffline;
  return a !== undefined && a.enabled ? a : null;
}

/**
 * When an open session goes offline without a newer heartbeat: offlineAfterMs after its last one,
 * or, with the adaptive rule on, the deadline its arrival history gives (arrival.ts; never later
 * than lastSeen + maxOfflineAfterMs, never earlier than lastSeen + minOfflineAfterMs).
 */
export function sessionLiveUntil(s: Session, cfg: PresenceConfig): number {
  const seen = s.lastSeen as number;
  const a = adaptiveRule(cfg);
  if (a === null) return seen + cfg.offlineAfterMs;
  return adaptiveOfflineDeadline(arrivalEstimate(s.arrivals ?? EMPTY_ARRIVALS, a.maxOfflineAfterMs), seen, a);
}

/** Live at `now`: open and within its offline deadline (sessionLiveUntil). */
export function isLive(s: Session, now: number, cfg: PresenceConfig): boolean {
  return isOpen(s) && sessionLiveUntil(s, cfg) > now;
}

/**
 * The session is active at `now`: its own last activity (MAX observedAt − idleMs of its heartbeats)
 * is less than awayAfterMs old, the user's Away threshold applied to one session. So the flag turns
 * idle once, at lastActivity + awayAfterMs (a timer: nextDeadline), and active again only on a
 * heartbeat reporting fresh activity; a user whose merged activity is that old has no active session.
 */
export function sessionActive(s: Session, now: number, cfg: PresenceConfig): boolean {
  return s.lastActivity !== null && s.lastActivity + cfg.awayAfterMs > now;
}

/** MAX sessionLiveUntil over open sessions: the user has a live session at t iff this > t. */
function openLiveUntil(sessions: readonly Session[], cfg: PresenceConfig): number | null {
  let m: number | null = null;
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i] as Session;
    if (isOpen(s)) m = max(m, sessionLiveUntil(s, cfg));
  }
  return m;
}

/** The instant from which a session can no longer be live without a newer event. */
function deadSince(s: Session, cfg: PresenceConfig): number {
  return isOpen(s) ? sessionLiveUntil(s, cfg) : (s.endedAt as number);
}

function compareKey(a: Session, deviceId: string, sessionId: string): number {
  if (a.deviceId !== deviceId) return a.deviceId < deviceId ? -1 : 1;
  if (a.sessionId !== sessionId) return a.sessionId < sessionId ? -1 : 1;
  return 0;
}

/** Index of the session, or −(insertion point + 1) when absent. */
export function findSession(sessions: readonly Session[], deviceId: string, sessionId: string): number {
  let lo = 0;
  let hi = sessions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKey(sessions[mid] as Session, deviceId, sessionId);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -(lo + 1);
}

/** Negative when `a` should be evicted before `b`: ended first, then least recently seen, then key. */
function evictionOrder(a: Session, b: Session): number {
  const ao = isOpen(a);
  if (ao !== isOpen(b)) return ao ? 1 : -1;
  const ar = Math.max(a.lastSeen ?? -1, a.endedAt ?? -1);
  const br = Math.max(b.lastSeen ?? -1, b.endedAt ?? -1);
  if (ar !== br) return ar - br;
  return compareKey(a, b.deviceId, b.sessionId);
}

/**
 * `sessions` with `s` at index `at`, in a new list of exactly the right size: splice into a copy
 * leaves room for ~17 more, 8 bytes a slot, kept for the user's lifetime.
 */
export function sessionsWith(sessions: readonly Session[], at: number, s: Session): Session[] {
  return sessions.slice(0, at).concat([s], sessions.slice(at));
}

/** The session a heartbeat opens (no arrival history: see withArrival). */
export function sessionOpenedBy(e: HeartbeatReceived): Session {
  return {
    deviceId: e.deviceId,
    sessionId: e.sessionId,
    platform: e.platform,
    lastSeen: e.observedAt,
    lastActivity: e.observedAt - e.idleMs,
    endedAt: null,
    gatewayId: e.gatewayId ?? null,
  };
}

function insertSession(sessions: readonly Session[], at: number, s: Session, cfg: PresenceConfig): readonly Session[] {
  const next = sessionsWith(sessions, at, s);
  while (next.length > cfg.maxSessionsPerUser) {
    let victim = 0;
    for (let i = 1; i < next.length; i++) {
      if (evictionOrder(next[i] as Session, next[victim] as Session) < 0) victim = i;
    }
    next.splice(victim, 1);
  }
  // The newcomer itself was the one evicted: nothing changed.
  return next.length === sessions.length && !next.includes(s) ? sessions : next;
}

function replaceAt<T>(xs: readonly T[], i: number, x: T): readonly T[] {
  const next = xs.slice();
  next[i] = x;
  return next;
}

function max(a: number | null, b: number): number {
  return a === null || b > a ? b : a;
}

// ---------------------------------------------------------------------------------------------
// evolve: the merge. Every field is a MAX or an LWW register, so order and duplicates don't matter
// (except version, and eviction beyond maxSessionsPerUser). Returns `state` itself when nothing changed.

/** Applies one (hygienic) event. Does not touch status/statusSince: see applyEvent. */
export function evolve(state: UserState, event: UserEvent, cfg: PresenceConfig): UserState {
  switch (event.type) {
    case 'heartbeat':
      return onHeartbeat(state, event, cfg);
    case 'disconnect':
      return onDisconnect(state, event, cfg);
    case 'override':
      return onOverride(state, event);
    case 'visibility':
      return onVisibility(state, event);
    case 'lastSeenPrivacy':
      return onLastSeenPrivacy(state, event);
    case 'activity':
      return onActivity(state, event);
    default: {
      const exhaustive: never = event;
      return unreachable(exhaustive);
    }
  }
}

function onHeartbeat(state: UserState, e: HeartbeatReceived, cfg: PresenceConfig): UserState {
  const activity = e.observedAt - e.idleMs;
  const i = findSession(state.sessions, e.deviceId, e.sessionId);
  let sessions = state.sessions;
  if (i >= 0) {
    const s = state.sessions[i] as Session;
    const newer = s.lastSeen === null || e.observedAt > s.lastSeen;
    // An equal value keeps the session's own string: the event's copy would live on in the new session.
    const platform = e.platform !== s.platform && (newer || (e.observedAt === s.lastSeen && e.platform > s.platform)) ? e.platform : s.platform;
    const was = s.gatewayId ?? null;
    const gw = e.gatewayId ?? null;
    const gatewayId = gw !== was && (newer || (e.observedAt === s.lastSeen && compareNullable(gw, was) > 0)) ? gw : was;
    const lastSeen = max(s.lastSeen, e.observedAt);
    const lastActivity = max(s.lastActivity, activity);
    const arrivals = withArrival(s.arrivals, e.observedAt, cfg);
    if (lastSeen !== s.lastSeen || lastActivity !== s.lastActivity || platform !== s.platform || gatewayId !== was || arrivals !== s.arrivals) {
      sessions = replaceAt(sessions, i, withSessionFields(s, { platform, lastSeen, lastActivity, gatewayId, arrivals }));
    }
  } else {
    const s = sessionOpenedBy(e);
    const arrivals = withArrival(undefined, e.observedAt, cfg);
    sessions = insertSession(sessions, -i - 1, arrivals === undefined ? s : withSessionFields(s, { arrivals }), cfg);
  }
  const lastSeen = max(state.lastSeen, e.observedAt);
  const lastActivity = max(state.lastActivity, activity);
  if (sessions === state.sessions && lastSeen === state.lastSeen && lastActivity === state.lastActivity) return state;
  return withUserFields(state, { sessions, lastSeen, lastActivity, version: state.version + 1 });
}

/** The session's arrival history with one more heartbeat, only while the adaptive rule is on (else unchanged). */
function withArrival(history: ArrivalHistory | undefined, observedAt: number, cfg: PresenceConfig): ArrivalHistory | undefined {
  const a = adaptiveRule(cfg);
  return a === null ? history : recordArrival(history ?? EMPTY_ARRIVALS, observedAt, a.historySize);
}

function onDisconnect(state: UserState, e: SessionDisconnected, cfg: PresenceConfig): UserState {
  const i = findSession(state.sessions, e.deviceId, e.sessionId);
  if (i < 0) {
    const s: Session = {
      deviceId: e.deviceId,
      sessionId: e.sessionId,
      platform: e.platform,
      lastSeen: null,
      lastActivity: null,
      endedAt: e.observedAt,
      gatewayId: null,
    };
    const sessions = insertSession(state.sessions, -i - 1, s, cfg);
    return sessions === state.sessions ? state : withUserFields(state, { sessions, version: state.version + 1 });
  }
  const s = state.sessions[i] as Session;
  const endedAt = max(s.endedAt, e.observedAt);
  // Until a heartbeat is seen, the platform follows the latest disconnect (ties: greatest name).
  const platform =
    s.lastSeen === null &&
    (e.observedAt > (s.endedAt as number) || (e.observedAt === s.endedAt && e.platform > s.platform))
      ? e.platform
      : s.platform;
  if (endedAt === s.endedAt && platform === s.platform) return state;
  return withUserFields(state, { sessions: replaceAt(state.sessions, i, withSessionFields(s, { endedAt, platform })), version: state.version + 1 });
}

/** Total order of LWW writes: (setAt, eventId), then content, so even a reused eventId converges. */
function compareWrites(a: { setAt: number; eventId: string }, b: { setAt: number; eventId: string }): number {
  if (a.setAt !== b.setAt) return a.setAt - b.setAt;
  if (a.eventId !== b.eventId) return a.eventId < b.eventId ? -1 : 1;
  return 0;
}

function compareNullable<T extends string | number>(a: T | null, b: T | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/**
 * The audit as the last content tie-breaker (absent lowest): two writes that share (setAt, eventId)
 * and value but not their audit still converge to the same register whatever the order.
 */
function compareAudit(a: Audit, b: Audit): number {
  return (
    compareNullable(a.actor?.kind ?? null, b.actor?.kind ?? null) ||
    compareNullable(a.actor?.id ?? null, b.actor?.id ?? null) ||
    compareNullable(a.reason ?? null, b.reason ?? null)
  );
}

/** The audit of a write, only the parts it carries (so an event without one leaves none in the register). */
function auditOf(e: Audit): Audit {
  return { ...(e.actor === undefined ? {} : { actor: e.actor }), ...(e.reason === undefined ? {} : { reason: e.reason }) };
}

function onOverride(state: UserState, e: OverrideSet): UserState {
  const cur = state.override;
  if (cur !== null) {
    const c =
      compareWrites(e, cur) ||
      compareNullable(e.status, cur.status) ||
      compareNullable(e.customText, cur.customText) ||
      compareNullable(e.expiresAt, cur.expiresAt) ||
      compareAudit(e, cur);
    if (c <= 0) return state;
  }
  const override: OverrideRegister = {
    status: e.status,
    customText: e.customText,
    expiresAt: e.expiresAt,
    setAt: e.setAt,
    eventId: e.eventId,
    ...auditOf(e),
  };
  return withUserFields(state, { override, version: state.version + 1 });
}

function onLastSeenPrivacy(state: UserState, e: LastSeenPrivacySet): UserState {
  const cur = state.lastSeenPrivacy;
  if (cur !== null && (compareWrites(e, cur) || compareNullable(e.lastSeenPrivacy, cur.lastSeenPrivacy) || compareAudit(e, cur)) <= 0) return state;
  const lastSeenPrivacy: LastSeenPrivacyRegister = { lastSeenPrivacy: e.lastSeenPrivacy, setAt: e.setAt, eventId: e.eventId, ...auditOf(e) };
  return withUserFields(state, { lastSeenPrivacy, version: state.version + 1 });
}

function onActivity(state: UserState, e: ActivitySet): UserState {
  const cur = state.activities ?? [];
  const activities = mergeActivity(cur, e);
  return activities === cur ? state : withUserFields(state, { activities, version: state.version + 1 });
}

/** The user's last-seen privacy setting (exact when never set). */
export function lastSeenPrivacyOf(state: UserState): LastSeenPrivacy {
  return state.lastSeenPrivacy === null ? 'exact' : state.lastSeenPrivacy.lastSeenPrivacy;
}

function onVisibility(state: UserState, e: VisibilitySet): UserState {
  const cur = state.visibility;
  if (cur !== null && (compareWrites(e, cur) || compareNullable(e.visibility, cur.visibility) || compareAudit(e, cur)) <= 0) return state;
  const visibility: VisibilityRegister = { visibility: e.visibility, setAt: e.setAt, eventId: e.eventId, ...auditOf(e) };
  return withUserFields(state, { visibility, version: state.version + 1 });
}

// ---------------------------------------------------------------------------------------------
// The status rules

/**
 * The effective status at `now` (foldStatus): an active override (AppearOffline → Offline,
 * DoNotDisturb, Busy) wins; otherwise Offline without a live session (never heard from, all cleanly
 * disconnected or all silent for offlineAfterMs); then the strongest activity in force (Presenting,
 * Focusing → DoNotDisturb; In a call, In a meeting → Busy); else Away when the merged last activity
 * is awayAfterMs old, else Online.
 */
export function effectiveStatus(state: UserState, now: number, cfg: PresenceConfig): EffectiveStatus {
  return foldStatus(
    overrideEffect(state.override, now),
    presenceStatusAt(openLiveUntil(state.sessions, cfg), state.lastActivity === null ? null : state.lastActivity + cfg.awayAfterMs, now),
    activityEffect(state.activities, now),
  );
}

/** Instants at which the status of `state` may change without new events. */
function statusCandidates(state: UserState, cfg: PresenceConfig): (number | null)[] {
  return [
    state.override === null ? null : state.override.expiresAt,
    openLiveUntil(state.sessions, cfg),
    state.lastActivity === null ? null : state.lastActivity + cfg.awayAfterMs,
    ...activityExpiries(state.activities),
  ];
}

/**
 * The earliest instant after `now` at which effectiveStatus or the view would change without a new
 * event (override expiry, a session expiring or turning idle, the user turning Away), or at which tick would prune a
 * dead session; null when nothing is pending. The processor sets its timer at
 * min(nextDeadline, nextSnapshotCheck).
 */
export function nextDeadline(state: UserState, now: number, cfg: PresenceConfig): number | null {
  let d: number | null = null;
  if (state.override !== null && state.override.expiresAt !== null) d = earliestAfter(d, state.override.expiresAt, now);
  // An activity running out changes the view (its list) and maybe the folded status.
  if (state.activities !== undefined) for (const t of activityExpiries(state.activities)) d = earliestAfter(d, t, now);
  let open: number | null = null;
  for (let i = 0; i < state.sessions.length; i++) {
    const s = state.sessions[i] as Session;
    const dead = deadSince(s, cfg);
    if (isOpen(s)) {
      d = earliestAfter(d, dead, now);
      open = max(open, dead);
      // The session's active flag turns idle (a reader-visible change) if it is still live then.
      const idleAt = (s.lastActivity as number) + cfg.awayAfterMs;
      if (idleAt < dead) d = earliestAfter(d, idleAt, now);
    }
    d = earliestAfter(d, dead + cfg.sessionRetentionMs, now);
  }
  if (open !== null && state.lastActivity !== null && state.lastActivity + cfg.awayAfterMs < open) {
    d = earliestAfter(d, state.lastActivity + cfg.awayAfterMs, now);
  }
  return d;
}

/**
 * Time-driven housekeeping at `now` (no event): records a status change with statusSince = the exact
 * instant it happened (not `now`, so a late timer or a rebuild on stream time records the same
 * instant), and prunes sessions dead for sessionRetentionMs. Returns `state` itself when unchanged.
 */
export function tick(state: UserState, now: number, cfg: PresenceConfig): UserState {
  const status = effectiveStatus(state, now, cfg);
  let statusSince = state.statusSince;
  if (status !== state.status) {
    statusSince = lastChangeAt((t) => effectiveStatus(state, t, cfg), statusCandidates(state, cfg), now) ?? now;
  }
  let sessions: readonly Session[] = state.sessions;
  for (let i = 0; i < state.sessions.length; i++) {
    const s = state.sessions[i] as Session;
    if (deadSince(s, cfg) + cfg.sessionRetentionMs <= now) {
      sessions = sessions.filter((x) => deadSince(x, cfg) + cfg.sessionRetentionMs > now);
      break;
    }
  }
  if (status === state.status && sessions === state.sessions) return state;
  return withUserFields(state, { status, statusSince, sessions, version: state.version + 1 });
}

/**
 * What the processor calls per event: tick up to `now` (recording clock-driven changes at their
 * instant), merge the event, then record an event-driven status change with statusSince = now.
 */
export function applyEvent(state: UserState, event: UserEvent, now: number, cfg: PresenceConfig): UserState {
  return applyToTicked(tick(state, now, cfg), event, now, cfg);
}

/**
 * applyEvent's second half, for a state already ticked to `now`: merges the event and records an
 * ensuing status change with statusSince = now. So a status that differs from `ticked`'s was moved
 * by the event, and one that differs from the state before the tick only, by the clock (the
 * processor tells its changes' cause apart this way).
 */
export function applyToTicked(ticked: UserState, event: UserEvent, now: number, cfg: PresenceConfig): UserState {
  const evolved = evolve(ticked, event, cfg);
  if (evolved === ticked) return ticked;
  const status = effectiveStatus(evolved, now, cfg);
  return status === evolved.status ? evolved : withUserFields(evolved, { status, statusSince: now });
}

// ---------------------------------------------------------------------------------------------
// Gateway leases

/** The session's latest heartbeat came through `gatewayId` no later than `at`, and it is still open. */
function endedByLease(s: Session, gatewayId: string, at: number): boolean {
  return isOpen(s) && (s.gatewayId ?? null) === gatewayId && (s.lastSeen as number) <= at;
}

/**
 * The gateway `gatewayId` is gone: its lease ran out at `leaseExpiredAt` (renewedAt + leaseMs) with
 * no renewal. Ends, as a clean disconnect at leaseExpiredAt (taken as `now` when later), every open
 * session whose latest heartbeat came through that gateway no later than that instant; a session
 * that heart-beat after it (reconnected elsewhere, or the gateway came back) or whose latest
 * heartbeat came through another gateway is untouched. Like applyEvent it ticks to `now` first and
 * records an ensuing status change with statusSince = now. Replay-safe: the ended sessions are no
 * longer open, so applying it again returns the state itself. Returns `state` itself when no session
 * matches.
 *
 * Not commutative with heartbeats through another gateway observed before leaseExpiredAt but
 * applied after this: such a session stays ended until its next heartbeat (observed later).
 */
export function endGatewaySessions(state: UserState, gatewayId: string, leaseExpiredAt: number, now: number, cfg: PresenceConfig): UserState {
  const at = Math.min(leaseExpiredAt, now);
  if (!state.sessions.some((s) => endedByLease(s, gatewayId, at))) return state;
  let next = tick(state, now, cfg);
  for (const s of next.sessions) {
    if (!endedByLease(s, gatewayId, at)) continue;
    next = evolve(next, { type: 'disconnect', userId: state.userId, deviceId: s.deviceId, sessionId: s.sessionId, platform: s.platform, observedAt: at }, cfg);
  }
  const status = effectiveStatus(next, now, cfg);
  return status === next.status ? next : withUserFields(next, { status, statusSince: now });
}

/** The gateways through which the user's open sessions last heart-beat (each once). */
export function openSessionGateways(state: UserState): string[] {
  const out: string[] = [];
  for (let i = 0; i < state.sessions.length; i++) {
    const s = state.sessions[i] as Session;
    const g = s.gatewayId ?? null;
    if (g !== null && isOpen(s) && !out.includes(g)) out.push(g);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The snapshot (view) and its lease

/**
 * A live session as listed in a snapshot, and as a delivery worker routes to it. No per-device
 * times, so heartbeats cause no churn: `gatewayId` changes only when the session moves to another
 * gateway, `active` only when the session crosses the idle threshold (sessionActive).
 */
export interface DeviceView {
  readonly deviceId: string;
  readonly sessionId: string;
  readonly platform: Platform;
  /** Gateway of the session's latest heartbeat; null when the gateway did not say (unroutable). */
  readonly gatewayId: string | null;
  /** The session's own last activity is less than awayAfterMs old (sessionActive); idle otherwise. */
  readonly active: boolean;
}

export interface OverrideView {
  readonly status: OverrideStatus;
  readonly customText: string | null;
  readonly expiresAt: number | null;
}

/** The projection written to presence.snapshot.v1; readers recompute status from it at read time. */
export interface UserView {
  readonly userId: string;
  /** Effective status at the emission instant (readers use effectiveStatusOfView). */
  readonly status: EffectiveStatus;
  readonly statusSince: number | null;
  /**
   * With live devices: MAX lastSeen over them at emission (a lease: the reader reads Offline from
   * lastSeen + offlineAfterMs unless a newer snapshot arrives). Without: the user's last heartbeat.
   */
  readonly lastSeen: number | null;
  /**
   * Written only with the adaptive offline rule on: MAX sessionLiveUntil over the live devices at
   * emission, the lease a reader uses instead of lastSeen + offlineAfterMs (so a reader needs no
   * arrival history, nor even the rule's settings, to agree with the processor). Absent or null:
   * the fixed rule, lastSeen + offlineAfterMs.
   */
  readonly offlineAt?: number | null;
  /** Merged last activity at emission (a lease for Away, like lastSeen). */
  readonly lastActive: number | null;
  /** The override register when set and not expired at emission (Available too, for its text). */
  readonly override: OverrideView | null;
  /**
   * The activities in force at emission, in precedence order (the current one first; activity.ts).
   * Absent = none (written only when there is one, like offlineAt).
   */
  readonly activities?: readonly ActivityView[];
  readonly visibility: Visibility;
  /** How readers show lastSeen, lastActive and statusSince to others (readView applies it). */
  readonly lastSeenPrivacy: LastSeenPrivacy;
  /** Live sessions at emission, sorted by (deviceId, sessionId). */
  readonly devices: readonly DeviceView[];
  readonly version: number;
  /** The instant the view was computed (informational; not compared by viewChanged). */
  readonly emittedAt: number;
}

function visibleOverride<T extends { readonly expiresAt: number | null }>(o: T | null, now: number): T | null {
  return o !== null && (o.expiresAt === null || now < o.expiresAt) ? o : null;
}

function sinceAt(state: UserState, status: EffectiveStatus, now: number): number | null {
  return status === state.status ? state.statusSince : now;
}

/** The snapshot of `state` at `now`, stamped `version` (the processor passes the one above what readers were told). */
const EMPTY_DEVICES: readonly DeviceView[] = Object.freeze([]);

export function userView(state: UserState, now: number, cfg: PresenceConfig, version = state.version, previous: UserView | null = null): UserView {
  const status = effectiveStatus(state, now, cfg);
  let liveLastSeen: number | null = null;
  let liveUntil: number | null = null;
  let live = 0;
  for (let i = 0; i < state.sessions.length; i++) {
    const s = state.sessions[i] as Session;
    if (isOpen(s)) {
      const until = sessionLiveUntil(s, cfg);
      if (until <= now) continue;
      live++;
      liveLastSeen = max(liveLastSeen, s.lastSeen as number);
      liveUntil = max(liveUntil, until);
    }
  }
  const o = visibleOverride(state.override, now);
  const activities = activitiesInForce(state.activities, now);
  return {
    userId: state.userId,
    status,
    statusSince: sinceAt(state, status, now),
    lastSeen: liveLastSeen ?? state.lastSeen,
    ...(adaptiveRule(cfg) !== null && liveUntil !== null ? { offlineAt: liveUntil } : {}),
    lastActive: state.lastActivity,
    override: o === null ? null : { status: o.status, customText: o.customText, expiresAt: o.expiresAt },
    ...(activities.length > 0 ? { activities } : {}),
    visibility: state.visibility === null ? 'everyone' : state.visibility.visibility,
    lastSeenPrivacy: lastSeenPrivacyOf(state),
    devices: live === 0 ? EMPTY_DEVICES : liveDevices(state.sessions, live, now, cfg, previous === null ? EMPTY_DEVICES : previous.devices),
    version,
    emittedAt: now,
  };
}

/**
 * The `count` live sessions as devices, in an array of exactly that size (the emitted view is kept
 * per user). A device equal to one of `previous` (the last emitted list, in the same order) is that
 * very object, and an equal list is `previous` itself: a re-emission allocates only what changed.
 */
function liveDevices(sessions: readonly Session[], count: number, now: number, cfg: PresenceConfig, previous: readonly DeviceView[]): readonly DeviceView[] {
  const devices: DeviceView[] = new Array<DeviceView>(count);
  let j = 0;
  let k = 0;
  let same = count === previous.length;
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i] as Session;
    if (!isOpen(s) || sessionLiveUntil(s, cfg) <= now) continue;
    const gatewayId = s.gatewayId ?? null;
    const active = sessionActive(s, now, cfg);
    // Both lists are sorted by (deviceId, sessionId): skip the previous devices sorting before this one.
    let p = previous[k];
    while (p !== undefined && (p.deviceId < s.deviceId || (p.deviceId === s.deviceId && p.sessionId < s.sessionId))) p = previous[++k];
    if (p !== undefined && p.deviceId === s.deviceId && p.sessionId === s.sessionId && p.platform === s.platform && p.gatewayId === gatewayId && p.active === active) {
      devices[j] = p;
      same &&= k === j;
      k++;
    } else {
      devices[j] = { deviceId: s.deviceId, sessionId: s.sessionId, platform: s.platform, gatewayId, active };
      same = false;
    }
    j++;
  }
  return same ? previous : devices;
}

/**
 * The processor watermark a reader knows for the snapshot's partition (presence.processor-watermark.v1):
 * an instant W of the processor's clock such that every snapshot of that partition is current as of
 * W. Null when the reader knows none: it then trusts only the snapshot's own leases.
 */
export type Watermark = number | null;

/**
 * The instant from which a reader holding `view` reads the lease `lease` (lastSeen + offline
 * threshold, or lastActive + away threshold) as run out. Without a watermark that is the lease
 * itself. With one, a lease that had not yet run out when the snapshot was emitted is trusted up to
 * W + watermarkGraceMs: while the processor is current it would have written a new snapshot had the
 * user really gone Offline/Away. A lease that had already run out at emission (an idle user shown
 * Away, or Away underneath an override) is never extended.
 */
function heldUntil(lease: number, view: UserView, cfg: PresenceConfig, watermark: Watermark): number {
  return watermark === null || lease <= view.emittedAt ? lease : Math.max(lease, watermark + cfg.watermarkGraceMs);
}

/** When a reader reads the listed devices as gone: the lastSeen lease (+ leaseGraceMs), held by W. */
function viewOfflineAt(view: UserView, cfg: PresenceConfig, watermark: Watermark): number | null {
  const lease = viewLiveUntil(view, cfg);
  return lease === null ? null : heldUntil(lease + cfg.leaseGraceMs, view, cfg, watermark);
}

/** The devices' own deadline as emitted: offlineAt (adaptive rule) or lastSeen + offlineAfterMs. */
function viewLiveUntil(view: UserView, cfg: PresenceConfig): number | null {
  if (view.offlineAt !== undefined && view.offlineAt !== null) return view.offlineAt;
  return view.lastSeen === null ? null : view.lastSeen + cfg.offlineAfterMs;
}

/** When a reader reads the user as Away: the lastActive lease, held by W; null = no activity (Away). */
function viewAwayAt(view: UserView, cfg: PresenceConfig, watermark: Watermark): number | null {
  return view.lastActive === null ? null : heldUntil(view.lastActive + cfg.awayAfterMs, view, cfg, watermark);
}

/**
 * Read-time status from a snapshot, with the reader's clock. Agrees with effectiveStatus(state, now)
 * at the emission instant, and after it for as long as the processor follows snapshotDecision.
 * A snapshot that stops being refreshed (processor down) decays to Offline at lastSeen +
 * offlineAfterMs + leaseGraceMs (by default 0: never a stale Online).
 *
 * With the `watermark` W of the snapshot's partition, an Online (or Away) snapshot stays so until
 * max(its lease, W + watermarkGraceMs) (see heldUntil), so a processor in 'watermark' lease mode
 * need not refresh it: a stale Online is served at most watermarkGraceMs past the last watermark
 * the reader saw. Without one (null, the default), exactly the lease rule above.
 */
export function effectiveStatusOfView(view: UserView, now: number, cfg: PresenceConfig, watermark: Watermark = null): EffectiveStatus {
  return foldStatus(
    overrideEffect(view.override, now),
    presenceStatusAt(view.devices.length > 0 ? viewOfflineAt(view, cfg, watermark) : null, viewAwayAt(view, cfg, watermark), now),
    activityEffect(view.activities, now),
  );
}

const NO_DEVICES: readonly DeviceView[] = Object.freeze([]);

/**
 * The viewer sees nothing of the user: the visibility does not show them to this viewer (`nobody`
 * to anyone but the user, `contacts` to anyone not in the user's list), or an active AppearOffline
 * (only that override imposes Offline) to anyone but the user.
 */
export function hiddenFrom(view: Pick<UserView, 'visibility' | 'override'>, now: number, viewer: Viewer): boolean {
  if (viewer === 'self') return false;
  return !visibleTo(view.visibility, viewer) || overrideEffect(view.override, now) === 'Offline';
}

/**
 * A snapshot as a reader should serve it at `now`: status (and statusSince, devices) recomputed with
 * the clock. For anyone but `self`, a user hidden from them (visibility `nobody`; visibility
 * `contacts` and the viewer is not a `contact`; an active AppearOffline) reads as
 * Offline with nothing else revealed (no devices, times or override), and a user whose last-seen
 * privacy is coarse or hidden shows no times (lastSeen, lastActive, statusSince: an Offline user's
 * statusSince is when they were last seen); lastSeenApprox gives the coarse bucket. `watermark`: as
 * for effectiveStatusOfView (null: the lease rule alone).
 */
export function readView(view: UserView, now: number, cfg: PresenceConfig, viewer: Viewer, watermark: Watermark = null): UserView {
  const read = readViewForAnyone(view, now, cfg, viewer, watermark);
  if (viewer === 'self' || view.lastSeenPrivacy === 'exact' || (read.lastSeen === null && read.lastActive === null && read.statusSince === null)) return read;
  return { ...read, statusSince: null, lastSeen: null, lastActive: null };
}

/** How long ago a last-seen instant may be for the coarse bucket `recently`, and for `within-week`. */
export const LAST_SEEN_RECENTLY_MS = 3 * 24 * 3_600_000;
export const LAST_SEEN_WITHIN_WEEK_MS = 7 * 24 * 3_600_000;
export type LastSeenBucket = 'recently' | 'within-week' | 'long-ago';
export const LAST_SEEN_BUCKETS: readonly LastSeenBucket[] = ['recently', 'within-week', 'long-ago'];

/**
 * What `viewer` is told of when a user with last-seen privacy `coarse` was last seen, instead of the
 * times readView removed: recently (within 3 days), within a week, or long ago. Null for every
 * other case (exact: the times are there; hidden or invisible: nothing; the user themself).
 */
export function lastSeenApprox(view: UserView, now: number, viewer: Viewer): LastSeenBucket | null {
  if (viewer === 'self' || view.lastSeenPrivacy !== 'coarse' || view.lastSeen === null || hiddenFrom(view, now, viewer)) return null;
  const ago = now - view.lastSeen;
  return ago <= LAST_SEEN_RECENTLY_MS ? 'recently' : ago <= LAST_SEEN_WITHIN_WEEK_MS ? 'within-week' : 'long-ago';
}

function readViewForAnyone(view: UserView, now: number, cfg: PresenceConfig, viewer: Viewer, watermark: Watermark): UserView {
  const status = effectiveStatusOfView(view, now, cfg, watermark);
  if (hiddenFrom(view, now, viewer)) {
    const { activities: _hidden, ...rest } = view;
    return { ...rest, status: 'Offline', statusSince: null, lastSeen: null, lastActive: null, override: null, devices: NO_DEVICES };
  }
  // lastSeen is the MAX over the listed devices: once it is stale, all of them are.
  const offlineAt = viewOfflineAt(view, cfg, watermark);
  const devices = offlineAt !== null && offlineAt > now ? view.devices : NO_DEVICES;
  const override = visibleOverride(view.override, now);
  const activities = view.activities === undefined ? undefined : activitiesInForce(view.activities, now);
  const sameActs = activities === undefined || activities.length === view.activities?.length;
  if (status === view.status && devices.length === view.devices.length && override === view.override && sameActs) return view;
  const statusSince =
    status === view.status
      ? view.statusSince
      : lastChangeAt(
          (t) => effectiveStatusOfView(view, t, cfg, watermark),
          [view.override === null ? null : view.override.expiresAt, offlineAt, viewAwayAt(view, cfg, watermark), ...activityExpiries(view.activities)],
          now,
        ) ?? now;
  const { activities: _emitted, ...rest } = view;
  return { ...rest, status, statusSince, override, ...(activities === undefined || activities.length === 0 ? {} : { activities }), devices };
}

/**
 * The first instant after `now` at which a reader's view of this snapshot may change by the clock
 * alone (override expiry, the lastSeen lease, the away threshold, each held by `watermark` as in
 * effectiveStatusOfView, i.e. W + watermarkGraceMs when no newer watermark arrives), or null when
 * none will: a reader (an SSE stream) sets its timer for exactly then instead of polling.
 */
export function readViewNextChange(view: UserView, now: number, cfg: PresenceConfig, watermark: Watermark = null): number | null {
  let t: number | null = null;
  if (view.override !== null && view.override.expiresAt !== null) t = earliestAfter(t, view.override.expiresAt, now);
  for (const x of activityExpiries(view.activities)) t = earliestAfter(t, x, now);
  const offlineAt = viewOfflineAt(view, cfg, watermark);
  if (offlineAt !== null) t = earliestAfter(t, offlineAt, now);
  const awayAt = viewAwayAt(view, cfg, watermark);
  if (awayAt !== null) t = earliestAfter(t, awayAt, now);
  return t;
}

function sameOverride(a: OverrideView | null, b: OverrideView | null): boolean {
  if (a === null || b === null) return a === b;
  return a.status === b.status && a.customText === b.customText && a.expiresAt === b.expiresAt;
}

/**
 * True iff a reader-visible field differs: status, statusSince, override, activities, visibility or the live
 * devices (their keys, platform, gateway and active flag). lastSeen/lastActive/version are ignored
 * (they advance with every heartbeat).
 */
export function viewChanged(prev: UserView, next: UserView): boolean {
  if (prev.status !== next.status || prev.statusSince !== next.statusSince) return true;
  if (prev.visibility !== next.visibility || prev.lastSeenPrivacy !== next.lastSeenPrivacy || !sameOverride(prev.override, next.override)) return true;
  if (!sameActivities(prev.activities, next.activities)) return true;
  if (prev.devices.length !== next.devices.length) return true;
  for (let i = 0; i < prev.devices.length; i++) {
    const a = prev.devices[i] as DeviceView;
    const b = next.devices[i] as DeviceView;
    if (a.deviceId !== b.deviceId || a.sessionId !== b.sessionId || a.platform !== b.platform || a.gatewayId !== b.gatewayId || a.active !== b.active) return true;
  }
  return false;
}

/** viewChanged(emitted, userView(state, now)) without building the view (hot path). */
export function viewDiffers(emitted: UserView, state: UserState, now: number, cfg: PresenceConfig): boolean {
  const status = effectiveStatus(state, now, cfg);
  if (emitted.status !== status || emitted.statusSince !== sinceAt(state, status, now)) return true;
  const visibility = state.visibility === null ? 'everyone' : state.visibility.visibility;
  if (emitted.visibility !== visibility || emitted.lastSeenPrivacy !== lastSeenPrivacyOf(state)) return true;
  if (!sameOverride(emitted.override, visibleOverride(state.override, now))) return true;
  if (!sameActivities(emitted.activities, activitiesInForce(state.activities, now))) return true;
  let j = 0;
  for (let i = 0; i < state.sessions.length; i++) {
    const s = state.sessions[i] as Session;
    if (!isLive(s, now, cfg)) continue;
    const d = emitted.devices[j++];
    if (d === undefined || d.deviceId !== s.deviceId || d.sessionId !== s.sessionId || d.platform !== s.platform) return true;
    if (d.gatewayId !== (s.gatewayId ?? null) || d.active !== sessionActive(s, now, cfg)) return true;
  }
  return j !== emitted.devices.length;
}

/**
 * The instant at which the processor must re-emit so that readers recomputing from `emitted` keep
 * agreeing with the state: refreshLeadMs before the emitted lastSeen (or lastActive) lease would make
 * a reader read Offline (or Away) while the state has newer heartbeats (or activity). The lastSeen
 * lease is renewed under any override too (readers route to the listed devices); the lastActive
 * lease only once an emitted Busy/DND/AppearOffline override has expired. Null when no refresh is needed.
 *
 * With cfg.snapshotLeases 'watermark' readers hold every lease that had not run out at emission by
 * the partition watermark (effectiveStatusOfView), so there is no lease refresh: only an emitted
 * view that was Away underneath a Busy/DND/AppearOffline override with an expiry, while the state
 * has newer activity, is re-emitted refreshLeadMs before that expiry (once per such override, not
 * per 30 s).
 */
export function nextSnapshotCheck(emitted: UserView | null, state: UserState, cfg: PresenceConfig): number | null {
  if (emitted === null || emitted.devices.length === 0 || emitted.lastSeen === null || emitted.lastActive === null) {
    return null;
  }
  const viewAway = emitted.lastActive + cfg.awayAfterMs;
  const newerActivity = state.lastActivity !== null && state.lastActivity > emitted.lastActive;
  const o = emitted.override;
  if (cfg.snapshotLeases === 'watermark') {
    if (viewAway > emitted.emittedAt || !newerActivity) return null;
    // Each expiry of what holds the status above an idle lease (a Busy/DND/AppearOffline override,
    // an activity with an effect) may uncover it: re-emit before the first of them.
    let holderEnds: number | null = o === null || o.status === 'Available' || o.expiresAt === null ? null : o.expiresAt;
    for (const a of emitted.activities ?? []) {
      if (ACTIVITY_EFFECT[a.activity] !== null && a.expiresAt !== null) holderEnds = holderEnds === null ? a.expiresAt : Math.min(holderEnds, a.expiresAt);
    }
    return holderEnds === null ? null : holderEnds - cfg.refreshLeadMs;
  }
  const emittedUntil = viewLiveUntil(emitted, cfg) as number;
  const viewOffline = emittedUntil + cfg.leaseGraceMs;
  // Only a state that stays live past the emitted lease needs it renewed (a shorter adaptive
  // deadline is written by the expiry itself: the device list changes).
  const open = openLiveUntil(state.sessions, cfg);
  // The device list is a routing answer (deviceRoutesOfView) even while an override decides the
  // status, so its lease is renewed under any override too.
  const devicesCheck = open !== null && open > emittedUntil ? viewOffline - cfg.refreshLeadMs : null;
  let awayCheck = viewAway < viewOffline && newerActivity ? viewAway - cfg.refreshLeadMs : null;
  // The activity lease decides only the status, which a Busy/DND/AppearOffline override holds until it expires.
  if (awayCheck !== null && o !== null && o.status !== 'Available') {
    awayCheck = o.expiresAt === null ? null : Math.max(awayCheck, o.expiresAt - cfg.refreshLeadMs);
  }
  if (devicesCheck === null) return awayCheck;
  return awayCheck === null ? devicesCheck : Math.min(devicesCheck, awayCheck);
}

export type SnapshotReason = 'first' | 'changed' | 'lease-refresh' | 'unchanged';

/**
 * Whether the processor must write a new snapshot now, given the last one it emitted for this key
 * (null if none): on the first, on any reader-visible change, and when the lease is due
 * (now ≥ nextSnapshotCheck). Not on a heartbeat that merely advances lastSeen.
 */
export function snapshotDecision(
  emitted: UserView | null,
  state: UserState,
  now: number,
  cfg: PresenceConfig,
): { readonly emit: boolean; readonly reason: SnapshotReason } {
  if (emitted === null) return { emit: true, reason: 'first' };
  if (viewDiffers(emitted, state, now, cfg)) return { emit: true, reason: 'changed' };
  const check = nextSnapshotCheck(emitted, state, cfg);
  if (check !== null && now >= check) return { emit: true, reason: 'lease-refresh' };
  return { emit: false, reason: 'unchanged' };
}

/** A record for presence.changes.v1. */
export interface StatusTransition {
  readonly userId: string;
  readonly from: EffectiveStatus;
  readonly to: EffectiveStatus;
  readonly at: number;
  readonly version: number;
}

/**
 * The status transition between two emitted snapshots (prev null = never emitted, read as Offline),
 * or null when the status did not change. `at` is next.statusSince.
 */
export function statusTransition(prev: UserView | null, next: UserView, now: number): StatusTransition | null {
  const from = prev === null ? 'Offline' : prev.status;
  if (from === next.status) return null;
  return { userId: next.userId, from, to: next.status, at: next.statusSince ?? now, version: next.version };
}
