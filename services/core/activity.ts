/**
 * Activities beside availability: what a present user is doing ("In a call", "In a meeting",
 * "Presenting", "Focusing", or custom text with an emoji), each from a source (the user by hand,
 * a calendar, a call system) with an optional expiry. Pure: time is an argument.
 *
 * One last-writer-wins register per source, ordered by (setAt, eventId) like the other registers,
 * so a calendar's "In a meeting" and a call system's "In a call" live side by side and the call
 * ending (its source cleared) leaves the meeting in force. The registers fold into the effective
 * status by the precedence in status.ts (foldStatus): a manual Busy/DoNotDisturb/AppearOffline
 * override wins; an Offline user stays Offline; then the strongest activity in force
 * (Presenting, Focusing → DoNotDisturb; In a call, In a meeting → Busy; Custom → none).
 */
import type { Audit, EffectiveStatus } from './events';

export type ActivityType = 'InACall' | 'InAMeeting' | 'Presenting' | 'Focusing' | 'Custom';
export type ActivitySource = 'manual' | 'calendar' | 'callSystem';
/** In precedence order: the first in force is the user's current activity (see compareActivities). */
export const ACTIVITY_TYPES: readonly ActivityType[] = ['Presenting', 'Focusing', 'InACall', 'InAMeeting', 'Custom'];
export const ACTIVITY_SOURCES: readonly ActivitySource[] = ['manual', 'calendar', 'callSystem'];

/** The status an activity folds into (when no manual override says otherwise and the user is present). */
export const ACTIVITY_EFFECT: Readonly<Record<ActivityType, EffectiveStatus | null>> = {
  Presenting: 'DoNotDisturb',
  Focusing: 'DoNotDisturb',
  InACall: 'Busy',
  InAMeeting: 'Busy',
  Custom: null,
};

/** Longest activity emoji, in code points (room for a ZWJ sequence or a flag, not for a sentence). */
export const MAX_ACTIVITY_EMOJI_LENGTH = 16;

/**
 * A source's activity was set (activity non-null) or cleared (null): the register of that source,
 * last writer wins by (setAt, eventId). Keyed by userId on presence.override.v1 (kind activity).
 */
export interface ActivitySet extends Audit {
  readonly type: 'activity';
  readonly userId: string;
  readonly source: ActivitySource;
  readonly activity: ActivityType | null;
  readonly customText: string | null;
  readonly emoji: string | null;
  /** Epoch ms after which it no longer applies (evaluated against the clock); null = until changed. */
  readonly expiresAt: number | null;
  readonly setAt: number;
  readonly eventId: string;
}

/** One source's register: the write that won. activity null = cleared (kept, so older writes lose). */
export interface ActivityRegister extends Audit {
  readonly source: ActivitySource;
  readonly activity: ActivityType | null;
  readonly customText: string | null;
  readonly emoji: string | null;
  readonly expiresAt: number | null;
  readonly setAt: number;
  readonly eventId: string;
}

/** An activity in force as written to a snapshot (readers evaluate expiresAt against their clock). */
export interface ActivityView {
  readonly activity: ActivityType;
  readonly source: ActivitySource;
  readonly customText: string | null;
  readonly emoji: string | null;
  readonly expiresAt: number | null;
  readonly setAt: number;
}

function cmp<T extends string | number>(a: T | null, b: T | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** The total order of writes to one source's register: (setAt, eventId), then content, then audit. */
function compareWrite(a: ActivityRegister, b: ActivityRegister): number {
  return (
    a.setAt - b.setAt ||
    cmp(a.eventId, b.eventId) ||
    cmp(a.activity, b.activity) ||
    cmp(a.customText, b.customText) ||
    cmp(a.emoji, b.emoji) ||
    cmp(a.expiresAt, b.expiresAt) ||
    cmp(a.actor?.kind ?? null, b.actor?.kind ?? null) ||
    cmp(a.actor?.id ?? null, b.actor?.id ?? null) ||
    cmp(a.reason ?? null, b.reason ?? null)
  );
}

const sourceRank = (s: ActivitySource) => ACTIVITY_SOURCES.indexOf(s);

/**
 * Merges one write into the per-source registers (sorted by source): the register of its source
 * keeps the greater write. Commutative, associative, idempotent; returns `registers` itself when the
 * write loses (so a replay or duplicate changes nothing).
 */
export function mergeActivity(registers: readonly ActivityRegister[], e: ActivitySet): readonly ActivityRegister[] {
  const { type: _type, userId: _userId, actor, reason, ...fields } = e;
  const write: ActivityRegister = { ...fields, ...(actor === undefined ? {} : { actor }), ...(reason === undefined ? {} : { reason }) };
  const i = registers.findIndex((r) => r.source === e.source);
  if (i >= 0) {
    if (compareWrite(write, registers[i] as ActivityRegister) <= 0) return registers;
    const next = registers.slice();
    next[i] = write;
    return next;
  }
  return [...registers, write].sort((a, b) => sourceRank(a.source) - sourceRank(b.source));
}

/** Set (not cleared) and not expired at `now` (now < expiresAt). */
function inForce(a: { readonly activity: ActivityType | null; readonly expiresAt: number | null }, now: number): boolean {
  return a.activity !== null && (a.expiresAt === null || now < a.expiresAt);
}

/**
 * Precedence between activities in force: the stronger effect (DoNotDisturb over Busy over none),
 * then the type's order in ACTIVITY_TYPES, then the later setAt, then the source's order.
 */
export function compareActivities(a: ActivityView, b: ActivityView): number {
  return ACTIVITY_TYPES.indexOf(a.activity) - ACTIVITY_TYPES.indexOf(b.activity) || b.setAt - a.setAt || sourceRank(a.source) - sourceRank(b.source);
}

/** The empty list, shared: `registers ?? []` allocated an array per call on the hot path (most users have no activity). */
const NO_REGISTERS: readonly never[] = Object.freeze([]);

/** The activities in force at `now` as a snapshot lists them, in precedence order (the current one first). */
export function activitiesInForce(registers: readonly (ActivityRegister | ActivityView)[] | undefined, now: number): readonly ActivityView[] {
  // Most users have none: no list made per view. (Indexed loops here and in the status rules: a
  // for-of over a frozen empty list made the sites generic, an iterator result per element.)
  if (registers === undefined || registers.length === 0) return NO_REGISTERS;
  const out: ActivityView[] = [];
  for (let i = 0; i < registers.length; i++) {
    const r = registers[i] as ActivityRegister | ActivityView;
    if (!inForce(r, now)) continue;
    out.push({ activity: r.activity as ActivityType, source: r.source, customText: r.customText, emoji: r.emoji, expiresAt: r.expiresAt, setAt: r.setAt });
  }
  return out.sort(compareActivities);
}

/** The user's current activity at `now`: the first in force by precedence, or null. */
export function currentActivity(registers: readonly (ActivityRegister | ActivityView)[] | undefined, now: number): ActivityView | null {
  return activitiesInForce(registers, now)[0] ?? null;
}

/** The status the activities impose at `now` (the strongest in force), or null. */
export function activityEffect(registers: readonly (ActivityRegister | ActivityView)[] | undefined, now: number): EffectiveStatus | null {
  if (registers === undefined) return null;
  let best: EffectiveStatus | null = null;
  for (let i = 0; i < registers.length; i++) {
    const r = registers[i] as ActivityRegister | ActivityView;
    if (!inForce(r, now)) continue;
    const e = ACTIVITY_EFFECT[r.activity as ActivityType];
    if (e === 'DoNotDisturb') return e;
    if (e === 'Busy') best = e;
  }
  return best;
}

/** Instants after which an activity stops being in force (each set activity's expiresAt). */
export function activityExpiries(registers: readonly (ActivityRegister | ActivityView)[] | undefined): readonly number[] {
  if (registers === undefined || registers.length === 0) return NO_REGISTERS;
  const out: number[] = [];
  for (let i = 0; i < registers.length; i++) {
    const r = registers[i] as ActivityRegister | ActivityView;
    if (r.activity !== null && r.expiresAt !== null) out.push(r.expiresAt);
  }
  return out;
}

export function sameActivities(a: readonly ActivityView[] | undefined, b: readonly ActivityView[] | undefined): boolean {
  const x = a ?? NO_REGISTERS;
  const y = b ?? NO_REGISTERS;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const p = x[i] as ActivityView;
    const q = y[i] as ActivityView;
    if (p.activity !== q.activity || p.source !== q.source || p.customText !== q.customText || p.emoji !== q.emoji || p.expiresAt !== q.expiresAt || p.setAt !== q.setAt) return false;
  }
  return true;
}
