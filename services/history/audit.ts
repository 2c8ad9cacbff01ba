/**
 * The audit in the history, pure: the settings a user (or an admin, an integration) wrote on
 * presence.override.v1, who wrote them and why, and which status interval each manual status
 * began. No I/O; the index holds the settings as `settingOf` makes them.
 *
 * Why a join by time and not a field on presence.changes.v1: the settings list needs the override
 * topic anyway (a visibility change is no status change), the processor's change records stay as
 * they are, and both topics are retained alike (7 days). The cost is that an interval is matched to
 * the setting that explains it by instants (`setByOf`), not told by the processor.
 */
import type { Actor, EffectiveStatus, OverrideStatus, UserEvent, Viewer } from '../core';
import type { StatusChange, Window } from './timeline';

/** One write of a register as recorded on the override topic (every write, also one that lost to a later one). */
export interface Setting {
  /** setAt: when it was made (the gateway's clock, clamped like the processor does). */
  readonly at: number;
  readonly kind: 'status' | 'visibility' | 'lastSeenPrivacy';
  /** The new value: an override status, a visibility or a last-seen privacy. */
  readonly value: string;
  /** For kind status. */
  readonly customText: string | null;
  readonly expiresAt: number | null;
  readonly actor: Actor | null;
  readonly reason: string | null;
  readonly eventId: string;
}

/** The setting a checked register write records; null for a heartbeat or a disconnect. */
export function settingOf(e: UserEvent): Setting | null {
  switch (e.type) {
    case 'override':
      return { at: e.setAt, kind: 'status', value: e.status, customText: e.customText, expiresAt: e.expiresAt, actor: e.actor ?? null, reason: e.reason ?? null, eventId: e.eventId };
    case 'visibility':
      return { at: e.setAt, kind: 'visibility', value: e.visibility, customText: null, expiresAt: null, actor: e.actor ?? null, reason: e.reason ?? null, eventId: e.eventId };
    case 'lastSeenPrivacy':
      return { at: e.setAt, kind: 'lastSeenPrivacy', value: e.lastSeenPrivacy, customText: null, expiresAt: null, actor: e.actor ?? null, reason: e.reason ?? null, eventId: e.eventId };
    default:
      return null;
  }
}

/** Who set the manual status that began an interval, and why. */
export interface SetBy {
  /** When the setting was made. */
  readonly at: number;
  readonly status: OverrideStatus;
  readonly actor: Actor | null;
  readonly reason: string | null;
}

const MANUAL: Readonly<Record<Exclude<OverrideStatus, 'Available'>, EffectiveStatus>> = { Busy: 'Busy', DoNotDisturb: 'DoNotDisturb', AppearOffline: 'Offline' };

/** Whether applying `s` can have caused `c`: its status became the effective one, or Available ended a manual one. */
function explains(s: Setting, c: StatusChange): boolean {
  if (s.expiresAt !== null && s.expiresAt <= c.at) return false;
  if (s.value === 'Available') return (c.from === 'Busy' || c.from === 'DoNotDisturb' || c.from === 'Offline') && c.to !== 'Busy' && c.to !== 'DoNotDisturb';
  return MANUAL[s.value as keyof typeof MANUAL] === c.to;
}

const byOrderKey = (a: Setting, b: Setting) => a.at - b.at || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);

/**
 * The manual status setting that caused the event-driven change `c` (the previous change, if any,
 * at `previousAt`), or null. The processor applies a write when it reads it, on its own clock, so
 * the change comes at or after setAt: the write in force then (the last by (setAt, eventId) at or
 * before c.at) is taken when it explains the change and was made after the previous change began
 * (else it was already in force and began that one). A gateway clock ahead of the processor's by
 * up to `toleranceMs` (the core's maxClockSkewMs) is allowed for, but only for a write whose manual
 * status is the new status itself (not Available, which explains any change out of a manual
 * status) and made before the next change: the earliest such write within that margin after c.at.
 * A clock-driven change (an expiry, a threshold) has none.
 */
export function setByOf(c: StatusChange, previousAt: number, nextAt: number, statusSettings: readonly Setting[], toleranceMs: number): SetBy | null {
  if (c.cause !== 'event') return null;
  const sorted = statusSettings.filter((s) => s.kind === 'status').sort(byOrderKey);
  const inForce = sorted.filter((s) => s.at <= c.at).pop();
  const found = inForce && inForce.at > previousAt - toleranceMs && explains(inForce, c)
    ? inForce
    : sorted.find((s) => s.at > c.at && s.at <= c.at + toleranceMs && s.at < nextAt && s.value !== 'Available' && explains(s, c));
  return found ? { at: found.at, status: found.value as OverrideStatus, actor: found.actor, reason: found.reason } : null;
}

/**
 * The settings the viewer may see in the window, in order. The user sees all of their own. Others
 * see only manual statuses that others could see anyway (Busy, Do Not Disturb, Available) made
 * outside the periods hidden from them, and nothing while the user is invisible (`hidden` covers
 * everything then): never a visibility or last-seen privacy change, nor an Appear Offline (which
 * must read as plain Offline).
 */
export function visibleSettings(settings: readonly Setting[], window: Window, viewer: Viewer, hidden: readonly Window[]): Setting[] {
  const inWindow = [...settings].filter((s) => s.at >= window.from && s.at < window.to).sort(byOrderKey);
  if (viewer === 'self') return inWindow;
  return inWindow.filter((s) => s.kind === 'status' && s.value !== 'AppearOffline' && !hidden.some((h) => s.at >= h.from && s.at < h.to));
}
