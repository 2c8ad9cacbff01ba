/**
 * The history answers, pure: status intervals, the status at an instant, time in status per UTC day
 * and a room's members at an instant, from the recorded changes (presence.changes.v1 and
 * presence.room-changes.v1 as the index holds them), the query window, `now` and what the viewer may
 * see. No I/O; time is an argument.
 *
 * A user's timeline: each change starts an interval of its `to` status that lasts until the next
 * change (or `now`). Before the first recorded change the user was in that change's `from` status
 * (cause null: not a recorded transition). A user with no recorded change reads Offline (cause null),
 * as the query service reads an unknown user. Duplicates (at-least-once) share a version and are
 * dropped.
 */
import {
  visibleTo, EFFECTIVE_STATUSES, readRoomView,
  type EffectiveStatus, type MemberView, type PresenceConfig, type RoomView, type Viewer, type Visibility,
} from '../core';
import { setByOf, type SetBy, type Setting } from './audit';

export interface StatusChange {
  readonly at: number;
  readonly from: EffectiveStatus;
  readonly to: EffectiveStatus;
  /** `event` or `clock` (PresenceChange.cause). */
  readonly cause: string;
  readonly version: number;
}

export interface Interval {
  readonly status: EffectiveStatus;
  /** Inclusive. */
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
  /** The cause of the change that began it; null when no recorded change did (before the first, unknown user, hidden). */
  readonly cause: string | null;
  /** The manual status setting that began it (audit), when one did and the viewer may know. */
  readonly setBy?: SetBy;
}

/** The recorded settings to attribute intervals from (audit.ts), and the clock tolerance (maxClockSkewMs). */
export interface AuditInput {
  readonly settings: readonly Setting[];
  readonly toleranceMs: number;
}

export interface Window {
  readonly from: number;
  readonly to: number;
}

/** From `at` on, the user's visibility setting was `visibility` (recorded from their snapshots). */
export interface VisibilityMark {
  readonly at: number;
  readonly visibility: Visibility;
}

/** What the viewer may see of the user: `self` sees everything; others do not see hidden periods. */
export interface Audience {
  readonly viewer: Viewer;
  /** The user's visibility now (null: unknown user, treated as everyone). */
  readonly current: Visibility | null;
  /** The recorded visibility changes, any order. */
  readonly marks: readonly VisibilityMark[];
}

export const SELF: Audience = { viewer: 'self', current: null, marks: [] };

/** Sorted by (at, version), one per version. */
export function normalise(changes: readonly StatusChange[]): StatusChange[] {
  const sorted = [...changes].sort((a, b) => a.at - b.at || a.version - b.version);
  const seen = new Set<number>();
  return sorted.filter((c) => (seen.has(c.version) ? false : (seen.add(c.version), true)));
}

/** The unclipped timeline up to `now`; the first interval starts at -Infinity, the last ends at `now` (or Infinity when `now` is before it). */
function timeline(changes: readonly StatusChange[], now: number, audit?: AuditInput): Interval[] {
  const cs = normalise(changes);
  const first = cs[0];
  if (first === undefined) return [{ status: 'Offline', from: -Infinity, to: now, cause: null }];
  const out: Interval[] = [{ status: first.from, from: -Infinity, to: first.at, cause: null }];
  cs.forEach((c, i) => {
    const next = cs[i + 1];
    const setBy = audit ? setByOf(c, cs[i - 1]?.at ?? -Infinity, next?.at ?? Infinity, audit.settings, audit.toleranceMs) : null;
    out.push({ status: c.to, from: c.at, to: next ? next.at : Math.max(now, c.at), cause: c.cause, ...(setBy ? { setBy } : {}) });
  });
  return out.filter((iv) => iv.to > iv.from);
}

/**
 * Periods the audience may not see (visibleTo: for a non-contact, where the visibility was nobody or
 * contacts; for a contact, where it was nobody), or everything when the current setting hides the
 * user from them. Contact membership is the current one (the lists are not recorded over time).
 */
export function hiddenSpans(audience: Audience): Window[] {
  if (audience.viewer === 'self') return [];
  if (audience.current !== null && !visibleTo(audience.current, audience.viewer)) return [{ from: -Infinity, to: Infinity }];
  const marks = [...audience.marks].sort((a, b) => a.at - b.at);
  const spans: Window[] = [];
  // Before the first mark the user's setting is not known: take the first one's (the safe side when it hides them).
  marks.forEach((m, i) => {
    if (visibleTo(m.visibility, audience.viewer)) return;
    const from = i === 0 ? -Infinity : m.at;
    const to = marks[i + 1]?.at ?? Infinity;
    const last = spans[spans.length - 1];
    if (last && last.to >= from) spans[spans.length - 1] = { from: last.from, to: Math.max(last.to, to) };
    else spans.push({ from, to });
  });
  return spans;
}

/** Others never learn that an Offline was a manual Appear Offline. */
function withoutSetBy(iv: Interval): Interval {
  const { setBy: _hidden, ...rest } = iv;
  return rest;
}

/** Replaces the hidden parts by Offline (cause null) and merges what touches. */
function project(intervals: readonly Interval[], hidden: readonly Window[]): Interval[] {
  if (hidden.length === 0) return [...intervals];
  const pieces: Interval[] = [];
  for (const iv of intervals) {
    let cursor = iv.from;
    for (const h of hidden) {
      if (h.to <= cursor || h.from >= iv.to) continue;
      if (h.from > cursor) pieces.push({ ...iv, from: cursor, to: h.from });
      const end = Math.min(h.to, iv.to);
      pieces.push({ status: 'Offline', from: Math.max(h.from, cursor), to: end, cause: null });
      cursor = end;
    }
    if (cursor < iv.to) pieces.push({ ...iv, from: cursor, to: iv.to });
  }
  const merged: Interval[] = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if (last && last.cause === null && p.cause === null && last.status === p.status && last.to === p.from) merged[merged.length - 1] = { ...last, to: p.to };
    else merged.push(p);
  }
  return merged;
}

/**
 * The status intervals [from, to) that overlap the window, clipped to it and to `now` (nothing after
 * `now` is known). Empty when the window ends before it starts or lies wholly in the future.
 */
export function history(changes: readonly StatusChange[], window: Window, now: number, audience: Audience = SELF, audit?: AuditInput): Interval[] {
  const end = Math.min(window.to, now);
  if (end <= window.from) return [];
  return project(timeline(changes, now, audit), hiddenSpans(audience))
    .map((iv) => (audience.viewer !== 'self' && iv.setBy?.status === 'AppearOffline' ? withoutSetBy(iv) : iv))
    .filter((iv) => iv.to > window.from && iv.from < end)
    .map((iv) => ({ ...iv, from: Math.max(iv.from, window.from), to: Math.min(iv.to, end) }));
}

export interface StatusAt {
  readonly status: EffectiveStatus;
  /** Start of the interval holding t; null when not known (before the first recorded change, unknown user, hidden). */
  readonly since: number | null;
  /** Its end; null while it lasts (at `now`) or when hidden. */
  readonly until: number | null;
  readonly cause: string | null;
}

/** The status at `t` (≤ now) and the interval holding it (with `setBy` as in history, given the settings). */
export function statusAt(changes: readonly StatusChange[], t: number, now: number, audience: Audience = SELF, audit?: AuditInput): StatusAt & { readonly setBy?: SetBy } {
  const intervals = project(timeline(changes, Math.max(now, t), audit), hiddenSpans(audience));
  const iv = intervals.find((i) => i.from <= t && t < i.to) ?? intervals[intervals.length - 1];
  if (iv === undefined) return { status: 'Offline', since: null, until: null, cause: null };
  const ongoing = iv === intervals[intervals.length - 1];
  const setBy = iv.setBy && !(audience.viewer !== 'self' && iv.setBy.status === 'AppearOffline') ? { setBy: iv.setBy } : {};
  return {
    status: iv.status, since: Number.isFinite(iv.from) ? iv.from : null,
    until: ongoing || !Number.isFinite(iv.to) ? null : iv.to, cause: iv.cause, ...setBy,
  };
}

export interface DayTotals {
  /** The UTC day, YYYY-MM-DD. */
  readonly day: string;
  /** Milliseconds of the day (within the window, up to `now`) in each status. */
  readonly ms: Readonly<Record<EffectiveStatus, number>>;
}

const DAY_MS = 86_400_000;
const zeroTotals = (): Record<EffectiveStatus, number> => Object.fromEntries(EFFECTIVE_STATUSES.map((s) => [s, 0])) as Record<EffectiveStatus, number>;

/** Time in each status per UTC day for every day the window touches (days after `now` are zero). */
export function totalsPerDay(intervals: readonly Interval[], window: Window): DayTotals[] {
  if (window.to <= window.from) return [];
  const firstDay = Math.floor(window.from / DAY_MS);
  const lastDay = Math.floor((window.to - 1) / DAY_MS);
  const days = Array.from({ length: lastDay - firstDay + 1 }, zeroTotals);
  for (const iv of intervals) {
    for (let d = Math.max(firstDay, Math.floor(iv.from / DAY_MS)); d <= lastDay && d * DAY_MS < iv.to; d++) {
      const ms = Math.min(iv.to, (d + 1) * DAY_MS) - Math.max(iv.from, d * DAY_MS);
      if (ms > 0) (days[d - firstDay] as Record<EffectiveStatus, number>)[iv.status] += ms;
    }
  }
  return days.map((ms, i) => ({ day: new Date((firstDay + i) * DAY_MS).toISOString().slice(0, 10), ms }));
}

/** A recorded room change (presence.room-changes.v1). */
export interface RoomChangeRecord {
  readonly roomKind: string;
  readonly roomId: string;
  readonly members: readonly MemberView[];
  readonly version: number;
  readonly at: number;
}

/** The room as its last change at or before `t` left it (ties: the highest version); undefined when empty or unknown then. */
export function roomViewAt(changes: readonly RoomChangeRecord[], t: number): RoomView | undefined {
  let last: RoomChangeRecord | undefined;
  for (const c of changes) {
    if (c.at > t) continue;
    if (!last || c.at > last.at || (c.at === last.at && c.version > last.version)) last = c;
  }
  if (!last || last.members.length === 0) return undefined;
  return { roomKind: last.roomKind, roomId: last.roomId, members: last.members, version: last.version, emittedAt: last.at };
}

/** The members present at `t`, read as the query service would have read the room then (a member whose lease ran out is gone). */
export function membersAt(changes: readonly RoomChangeRecord[], t: number, cfg: PresenceConfig): readonly MemberView[] {
  return readRoomView(roomViewAt(changes, t) ?? null, t, cfg)?.members ?? [];
}
