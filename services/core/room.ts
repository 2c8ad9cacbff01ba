import type { PresenceConfig } from './config';
import type { Ephemeral, Metadata, RoomEvent } from './events';
import { unreachable } from './events';
import { earliestAfter } from './status';

/** One session in a room, keyed by (userId, sessionId). */
export interface RoomMember {
  readonly userId: string;
  readonly sessionId: string;
  /** MIN observedAt of its joins and room heartbeats (first seen); null while only a leave was seen. */
  readonly joinedAt: number | null;
  /** MAX observedAt of its joins and room heartbeats. */
  readonly lastSeen: number | null;
  /** MAX observedAt of its leaves and session ends; null = never left. */
  readonly leftAt: number | null;
  /** Last-writer-wins by observedAt over joins/heartbeats that carry metadata (null = unchanged). */
  readonly metadata: Metadata | null;
  readonly metadataAt: number | null;
  /** The short-lived state (typing): LWW by setAt; absent = never set. */
  readonly ephemeral?: EphemeralRegister | null;
}

/** A member's ephemeral state as last set (state null: cleared), and until when it lasts. */
export interface EphemeralRegister {
  readonly ephemeral: Ephemeral | null;
  readonly setAt: number;
  readonly expiresAt: number;
}

/** Everything the processor keeps for one room; members sorted by (userId, sessionId). */
export interface RoomState {
  readonly roomKind: string;
  readonly roomId: string;
  readonly members: readonly RoomMember[];
  /** Incremented on every state change. Order-sensitive. */
  readonly version: number;
}

export function initialRoomState(roomKind: string, roomId: string): RoomState {
  return { roomKind, roomId, members: [], version: 0 };
}

/** Seen after its last leave (time-independent). */
function isOpen(m: RoomMember): boolean {
  return m.lastSeen !== null && (m.leftAt === null || m.lastSeen > m.leftAt);
}

/** Present at `now`: seen after its last leave, within roomMemberExpiryMs. */
export function isPresent(m: RoomMember, now: number, cfg: PresenceConfig): boolean {
  return isOpen(m) && (m.lastSeen as number) + cfg.roomMemberExpiryMs > now;
}

function deadSince(m: RoomMember, cfg: PresenceConfig): number {
  return isOpen(m) ? (m.lastSeen as number) + cfg.roomMemberExpiryMs : (m.leftAt as number);
}

function compareKey(a: { userId: string; sessionId: string }, userId: string, sessionId: string): number {
  if (a.userId !== userId) return a.userId < userId ? -1 : 1;
  if (a.sessionId !== sessionId) return a.sessionId < sessionId ? -1 : 1;
  return 0;
}

function findMember(members: readonly RoomMember[], userId: string, sessionId: string): number {
  let lo = 0;
  let hi = members.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKey(members[mid] as RoomMember, userId, sessionId);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -(lo + 1);
}

/** Negative when `a` should be evicted before `b`: departed first, then least recently seen, then key. */
function evictionOrder(a: RoomMember, b: RoomMember): number {
  const ao = isOpen(a);
  if (ao !== isOpen(b)) return ao ? 1 : -1;
  const ar = Math.max(a.lastSeen ?? -1, a.leftAt ?? -1);
  const br = Math.max(b.lastSeen ?? -1, b.leftAt ?? -1);
  if (ar !== br) return ar - br;
  return compareKey(a, b.userId, b.sessionId);
}

function insertMember(
  members: readonly RoomMember[],
  at: number,
  m: RoomMember,
  cfg: PresenceConfig,
): readonly RoomMember[] {
  const next = members.slice();
  next.splice(at, 0, m);
  while (next.length > cfg.maxMembersPerRoom) {
    let victim = 0;
    for (let i = 1; i < next.length; i++) {
      if (evictionOrder(next[i] as RoomMember, next[victim] as RoomMember) < 0) victim = i;
    }
    next.splice(victim, 1);
  }
  // The newcomer itself was the one evicted: nothing changed.
  return next.length === members.length && !next.includes(m) ? members : next;
}

/** Same entries (metadata values are strings, so an absent key never matches). */
export function metadataEqual(a: Metadata | null, b: Metadata | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || a[k] !== b[k]) return false;
  }
  return true;
}

/** A total order on metadata contents, used only to break ties of equal observedAt. */
function compareMetadata(a: Metadata, b: Metadata): number {
  const ak = Object.keys(a).sort();
  const bk = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ak.length, bk.length); i++) {
    const x = ak[i] as string;
    const y = bk[i] as string;
    if (x !== y) return x < y ? -1 : 1;
    const xv = a[x] as string;
    const yv = b[y] as string;
    if (xv !== yv) return xv < yv ? -1 : 1;
  }
  return ak.length - bk.length;
}

/**
 * Merges one (hygienic) room event: joinedAt MIN, lastSeen MAX, leftAt MAX, metadata LWW by
 * observedAt (ties broken by content). sessionEnded behaves like leave. Returns `state` itself when
 * nothing changed.
 */
export function roomEvolve(state: RoomState, event: RoomEvent, cfg: PresenceConfig): RoomState {
  switch (event.type) {
    case 'join':
    case 'roomHeartbeat':
      return onSeen(state, event.userId, event.sessionId, event.observedAt, event.metadata, cfg);
    case 'leave':
    case 'sessionEnded':
      return onLeft(state, event.userId, event.sessionId, event.observedAt, cfg);
    case 'ephemeral':
      return onEphemeral(onSeen(state, event.userId, event.sessionId, event.observedAt, null, cfg), event.userId, event.sessionId, {
        ephemeral: event.ephemeral, setAt: event.observedAt, expiresAt: event.observedAt + event.ttlMs,
      });
    default: {
      const exhaustive: never = event;
      return unreachable(exhaustive);
    }
  }
}

/** A literal, not a spread: a spread keeps only the fields it names in the object (see the core's withUserFields). */
function withMembers(state: RoomState, members: readonly RoomMember[]): RoomState {
  return members === state.members ? state : { roomKind: state.roomKind, roomId: state.roomId, members, version: state.version + 1 };
}

/** The fields of a RoomMember a change may replace (undefined: kept). */
type MemberPatch = { readonly [K in Exclude<keyof RoomMember, 'userId' | 'sessionId'>]?: RoomMember[K] };

/** `m` with the fields of `patch` replaced, as one literal in the order members are made in (ephemeral last, when set). */
function withMemberFields(m: RoomMember, patch: MemberPatch): RoomMember {
  const joinedAt = patch.joinedAt === undefined ? m.joinedAt : patch.joinedAt;
  const lastSeen = patch.lastSeen === undefined ? m.lastSeen : patch.lastSeen;
  const leftAt = patch.leftAt === undefined ? m.leftAt : patch.leftAt;
  const metadata = patch.metadata === undefined ? m.metadata : patch.metadata;
  const metadataAt = patch.metadataAt === undefined ? m.metadataAt : patch.metadataAt;
  const ephemeral = patch.ephemeral === undefined ? m.ephemeral : patch.ephemeral;
  if (ephemeral === undefined) return { userId: m.userId, sessionId: m.sessionId, joinedAt, lastSeen, leftAt, metadata, metadataAt };
  return { userId: m.userId, sessionId: m.sessionId, joinedAt, lastSeen, leftAt, metadata, metadataAt, ephemeral };
}

function onSeen(
  state: RoomState,
  userId: string,
  sessionId: string,
  at: number,
  metadata: Metadata | null,
  cfg: PresenceConfig,
): RoomState {
  const i = findMember(state.members, userId, sessionId);
  if (i < 0) {
    const m: RoomMember = {
      userId,
      sessionId,
      joinedAt: at,
      lastSeen: at,
      leftAt: null,
      metadata,
      metadataAt: metadata === null ? null : at,
    };
    return withMembers(state, insertMember(state.members, -i - 1, m, cfg));
  }
  const m = state.members[i] as RoomMember;
  const joinedAt = m.joinedAt === null || at < m.joinedAt ? at : m.joinedAt;
  const lastSeen = m.lastSeen === null || at > m.lastSeen ? at : m.lastSeen;
  const metaWins =
    metadata !== null &&
    (m.metadata === null ||
      m.metadataAt === null ||
      at > m.metadataAt ||
      (at === m.metadataAt && compareMetadata(metadata, m.metadata) > 0));
  if (joinedAt === m.joinedAt && lastSeen === m.lastSeen && !metaWins) return state;
  const next: RoomMember = metaWins
    ? withMemberFields(m, { joinedAt, lastSeen, metadata, metadataAt: at })
    : withMemberFields(m, { joinedAt, lastSeen });
  const members = state.members.slice();
  members[i] = next;
  return withMembers(state, members);
}

/** Total order of ephemeral writes: setAt, then content (so equal instants converge). */
function compareEphemeral(a: EphemeralRegister, b: EphemeralRegister): number {
  if (a.setAt !== b.setAt) return a.setAt - b.setAt;
  if (a.expiresAt !== b.expiresAt) return a.expiresAt - b.expiresAt;
  const as = a.ephemeral === null ? '' : `${a.ephemeral.state}\u0000${a.ephemeral.target ?? ''}\u0000${a.ephemeral.target === null ? 0 : 1}`;
  const bs = b.ephemeral === null ? '' : `${b.ephemeral.state}\u0000${b.ephemeral.target ?? ''}\u0000${b.ephemeral.target === null ? 0 : 1}`;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The member (present after onSeen, unless evicted) takes `reg` if it wins over its register. */
function onEphemeral(state: RoomState, userId: string, sessionId: string, reg: EphemeralRegister): RoomState {
  const i = findMember(state.members, userId, sessionId);
  if (i < 0) return state; // evicted beyond maxMembersPerRoom
  const m = state.members[i] as RoomMember;
  if (m.ephemeral != null && compareEphemeral(reg, m.ephemeral) <= 0) return state;
  const members = state.members.slice();
  members[i] = withMemberFields(m, { ephemeral: reg });
  return withMembers(state, members);
}

function onLeft(state: RoomState, userId: string, sessionId: string, at: number, cfg: PresenceConfig): RoomState {
  const i = findMember(state.members, userId, sessionId);
  if (i < 0) {
    const m: RoomMember = { userId, sessionId, joinedAt: null, lastSeen: null, leftAt: at, metadata: null, metadataAt: null };
    return withMembers(state, insertMember(state.members, -i - 1, m, cfg));
  }
  const m = state.members[i] as RoomMember;
  if (m.leftAt !== null && m.leftAt >= at) return state;
  const members = state.members.slice();
  members[i] = withMemberFields(m, { leftAt: at });
  return withMembers(state, members);
}

/**
 * Housekeeping at `now`: prunes members departed or expired for sessionRetentionMs. When no member
 * remains the processor may delete the state (roomIsGone).
 */
export function roomTick(state: RoomState, now: number, cfg: PresenceConfig): RoomState {
  for (const m of state.members) {
    if (deadSince(m, cfg) + cfg.sessionRetentionMs <= now) {
      return withMembers(
        state,
        state.members.filter((x) => deadSince(x, cfg) + cfg.sessionRetentionMs > now),
      );
    }
  }
  return state;
}

/** roomEvolve after roomTick at `now`: what the processor calls per room event. */
export function applyRoomEvent(state: RoomState, event: RoomEvent, now: number, cfg: PresenceConfig): RoomState {
  return roomEvolve(roomTick(state, now, cfg), event, cfg);
}

/** True when the state holds nothing at all (every member pruned): the processor deletes the key. */
export function roomIsGone(state: RoomState): boolean {
  return state.members.length === 0;
}

/** The earliest instant after `now` at which a member expires or would be pruned; null if none. */
export function roomNextDeadline(state: RoomState, now: number, cfg: PresenceConfig): number | null {
  let d: number | null = null;
  for (const m of state.members) {
    if (isOpen(m)) d = earliestAfter(d, (m.lastSeen as number) + cfg.roomMemberExpiryMs, now);
    const e = m.ephemeral;
    if (e != null && e.ephemeral !== null && isPresent(m, now, cfg)) d = earliestAfter(d, e.expiresAt, now);
    d = earliestAfter(d, deadSince(m, cfg) + cfg.sessionRetentionMs, now);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// The room snapshot and its lease

export interface MemberView {
  readonly userId: string;
  readonly sessionId: string;
  readonly joinedAt: number;
  /** MAX lastSeen at emission: a lease; readers drop the member at lastSeen + roomMemberExpiryMs + leaseGraceMs. */
  readonly lastSeen: number;
  /** Latest metadata; {} when none was ever sent. */
  readonly metadata: Metadata;
  /** What the member is doing right now (typing) until expiresAt; absent or null: nothing. */
  readonly ephemeral?: EphemeralView | null;
}

export interface EphemeralView {
  readonly state: string;
  readonly target: string | null;
  readonly expiresAt: number;
}

/** The projection written to presence.room-snapshot.v1 (null = empty room = tombstone). */
export interface RoomView {
  readonly roomKind: string;
  readonly roomId: string;
  /** Present members at emission, sorted by (userId, sessionId). */
  readonly members: readonly MemberView[];
  readonly version: number;
  /** The instant the view was computed (informational; not compared). */
  readonly emittedAt: number;
}

const NO_METADATA: Metadata = Object.freeze({});

/** The member's ephemeral state as shown at `now`: set, not cleared, not expired; else null. */
function activeEphemeral(m: RoomMember, now: number): EphemeralView | null {
  const e = m.ephemeral;
  if (e == null || e.ephemeral === null || e.expiresAt <= now) return null;
  return { state: e.ephemeral.state, target: e.ephemeral.target, expiresAt: e.expiresAt };
}

function memberView(m: RoomMember, now: number): MemberView {
  // Present ⇒ seen by a join or heartbeat ⇒ joinedAt and lastSeen are set.
  const joinedAt = m.joinedAt as number;
  const view: MemberView = { userId: m.userId, sessionId: m.sessionId, joinedAt, lastSeen: m.lastSeen as number, metadata: m.metadata ?? NO_METADATA };
  const e = activeEphemeral(m, now);
  return e === null ? view : { ...view, ephemeral: e };
}

/** The snapshot of a room at `now`, or null when nobody is present (the room is gone). */
export function roomView(state: RoomState, now: number, cfg: PresenceConfig): RoomView | null {
  const members: MemberView[] = [];
  for (const m of state.members) if (isPresent(m, now, cfg)) members.push(memberView(m, now));
  if (members.length === 0) return null;
  return { roomKind: state.roomKind, roomId: state.roomId, members, version: state.version, emittedAt: now };
}

/**
 * A room snapshot as a reader should serve it at `now`: members whose lastSeen lease ran out are
 * dropped; null when none remains. Agrees with roomView(state, now) while the processor follows
 * roomSnapshotDecision, and decays to empty if the processor stops.
 */
export function readRoomView(view: RoomView | null, now: number, cfg: PresenceConfig): RoomView | null {
  if (view === null) return null;
  let members: MemberView[] | null = null;
  for (let i = 0; i < view.members.length; i++) {
    const m = view.members[i] as MemberView;
    const present = m.lastSeen + cfg.roomMemberExpiryMs + cfg.leaseGraceMs > now;
    // An ephemeral state lapses at its own expiry, with no grace: it is a few seconds long.
    const lapsed = present && m.ephemeral != null && m.ephemeral.expiresAt <= now;
    if ((!present || lapsed) && members === null) members = view.members.slice(0, i);
    if (members !== null && present) members.push(lapsed ? withoutEphemeral(m) : m);
  }
  if (members === null) return view;
  return members.length === 0 ? null : { ...view, members };
}

function withoutEphemeral(m: MemberView): MemberView {
  const { ephemeral: _lapsed, ...rest } = m;
  return rest;
}

/** The first instant after `now` at which readRoomView drops a member by the clock alone, or null. */
export function readRoomViewNextChange(view: RoomView | null, now: number, cfg: PresenceConfig): number | null {
  let t: number | null = null;
  if (view !== null) {
    for (const m of view.members) {
      t = earliestAfter(t, m.lastSeen + cfg.roomMemberExpiryMs + cfg.leaseGraceMs, now);
      if (m.ephemeral != null) t = earliestAfter(t, m.ephemeral.expiresAt, now);
    }
  }
  return t;
}

function sameEphemeral(a: EphemeralView | null | undefined, b: EphemeralView | null | undefined): boolean {
  if (a == null || b == null) return (a == null) === (b == null);
  return a.state === b.state && a.target === b.target && a.expiresAt === b.expiresAt;
}

function sameMember(
  a: MemberView,
  m: { userId: string; sessionId: string; joinedAt: number; metadata: Metadata; ephemeral?: EphemeralView | null },
): boolean {
  return a.userId === m.userId && a.sessionId === m.sessionId && a.joinedAt === m.joinedAt && metadataEqual(a.metadata, m.metadata) && sameEphemeral(a.ephemeral, m.ephemeral);
}

/** True iff the set of present members, a joinedAt, a metadata or an ephemeral state differs (lastSeen/version ignored). */
export function roomViewChanged(prev: RoomView | null, next: RoomView | null): boolean {
  if (prev === null || next === null) return prev !== next;
  if (prev.members.length !== next.members.length) return true;
  for (let i = 0; i < prev.members.length; i++) {
    if (!sameMember(prev.members[i] as MemberView, next.members[i] as MemberView)) return true;
  }
  return false;
}

/** roomViewChanged(emitted, roomView(state, now)) without building the view (hot path). */
export function roomViewDiffers(emitted: RoomView | null, state: RoomState, now: number, cfg: PresenceConfig): boolean {
  let j = 0;
  for (const m of state.members) {
    if (!isPresent(m, now, cfg)) continue;
    const e = emitted === null ? undefined : emitted.members[j];
    j++;
    const joinedAt = m.joinedAt as number;
    if (e === undefined || !sameMember(e, { userId: m.userId, sessionId: m.sessionId, joinedAt, metadata: m.metadata ?? NO_METADATA, ephemeral: activeEphemeral(m, now) })) {
      return true;
    }
  }
  return j !== (emitted === null ? 0 : emitted.members.length);
}

/**
 * When the processor must re-emit so readers filtering `emitted` by lastSeen keep agreeing with the
 * state: refreshLeadMs before the earliest emitted member lease that the state has since extended.
 * One refresh renews every member's lease. Null when none is needed.
 */
export function roomNextSnapshotCheck(emitted: RoomView | null, state: RoomState, cfg: PresenceConfig): number | null {
  if (emitted === null) return null;
  let check: number | null = null;
  let i = 0;
  for (const e of emitted.members) {
    // Both lists are sorted by key: advance through the state to this member.
    while (i < state.members.length && compareKey(state.members[i] as RoomMember, e.userId, e.sessionId) < 0) i++;
    const m = state.members[i];
    if (m !== undefined && compareKey(m, e.userId, e.sessionId) === 0 && isOpen(m) && (m.lastSeen as number) > e.lastSeen) {
      const c = e.lastSeen + cfg.roomMemberExpiryMs + cfg.leaseGraceMs - cfg.refreshLeadMs;
      if (check === null || c < check) check = c;
    }
  }
  return check;
}

export type RoomSnapshotReason = 'changed' | 'gone' | 'lease-refresh' | 'unchanged';

/**
 * Whether the processor must write a room snapshot now, given the last one it emitted (null when
 * none, or a tombstone): 'gone' (write a tombstone) when the last member left or expired,
 * 'changed' on a visible change, 'lease-refresh' when the lease is due.
 */
export function roomSnapshotDecision(
  emitted: RoomView | null,
  state: RoomState,
  now: number,
  cfg: PresenceConfig,
): { readonly emit: boolean; readonly reason: RoomSnapshotReason } {
  if (roomViewDiffers(emitted, state, now, cfg)) {
    return { emit: true, reason: emitted !== null && !state.members.some((m) => isPresent(m, now, cfg)) ? 'gone' : 'changed' };
  }
  const check = roomNextSnapshotCheck(emitted, state, cfg);
  if (check !== null && now >= check) return { emit: true, reason: 'lease-refresh' };
  return { emit: false, reason: 'unchanged' };
}
