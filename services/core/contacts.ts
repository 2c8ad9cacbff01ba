/**
 * Contact lists and who sees whom (pure: values in, values out).
 *
 * A contact list is a set of (owner, contact) pairs carried by the compacted presence.contacts.v1
 * (key `<owner>\u001f<contact>`, value ContactEntry, a removal is a tombstone). It matters only
 * for a user whose visibility is `contacts`: the users in that user's list see them as everyone
 * does; anyone else reads them as Offline with nothing revealed, exactly like visibility `nobody`.
 * The list is the owner's, one way: being in alice's list lets you see alice, not the reverse.
 *
 * Bound: an owner's list holds at most MAX_CONTACTS_PER_OWNER (5,000) contacts. The rule is a
 * function of the set of live entries, not of the order readers read them in (an owner's entries
 * are spread over the topic's partitions, whose interleaving differs between readers): when more
 * are on the topic, the first 5,000 by (addedAt, contact) count and the rest are not contacts.
 * Every reader thus agrees, and one component (the query service's contacts validator) turns an
 * add that lands past the bound into a dead letter when it sees it.
 */
import type { PresenceConfig } from './config';
import type { Visibility } from './events';
import { idRejection, type Checked, type Rejection } from './hygiene';

/** Contacts one owner's list may hold (documented in the README's contract section). */
export const MAX_CONTACTS_PER_OWNER = 5_000;

/** Separates owner and contact in the topic's key: the ASCII unit separator, which ids may not contain (control character). */
export const CONTACT_KEY_SEPARATOR = '\u001f';

export const contactKey = (owner: string, contact: string): string => `${owner}${CONTACT_KEY_SEPARATOR}${contact}`;

/** One record of the contacts topic, checked: an add (value) or a removal (tombstone). */
export type ContactEvent =
  | { readonly type: 'contactAdded'; readonly owner: string; readonly contact: string; readonly addedAt: number }
  | { readonly type: 'contactRemoved'; readonly owner: string; readonly contact: string };

/** An owner's list: contact → addedAt. */
export type ContactList = ReadonlyMap<string, number>;

const rejected = (code: Rejection['code'], field: string, reason: string): { ok: false; rejection: Rejection } => ({ ok: false, rejection: { code, field, reason } });

/** The owner and contact of a record key, or why the key is not one. */
export function parseContactKey(key: string | null, cfg: PresenceConfig): Checked<{ readonly owner: string; readonly contact: string }> {
  if (key === null) return rejected('missing', 'key', 'is required (<owner>\\u001f<contact>)');
  const at = key.indexOf(CONTACT_KEY_SEPARATOR);
  if (at < 0 || key.indexOf(CONTACT_KEY_SEPARATOR, at + 1) >= 0) {
    return rejected('invalid-character', 'key', 'must be <owner>, U+001F, <contact> (exactly one separator)');
  }
  const owner = key.slice(0, at);
  const contact = key.slice(at + 1);
  const bad = idRejection('key.owner', owner, cfg) ?? idRejection('key.contact', contact, cfg);
  if (bad) return { ok: false, rejection: bad };
  if (owner === contact) return rejected('not-allowed', 'key.contact', 'must not be the owner (a user always sees themselves)');
  return { ok: true, event: { owner, contact } };
}

/**
 * Checks one record of the contacts topic: its key, and for an add (a value) that the value's owner
 * and contact are the key's and addedAt is a non-negative integer (a future one is clamped to now +
 * maxClockSkewMs, like every timestamp). `value` is the decoded ContactEntry, null for a tombstone.
 */
export function checkContactRecord(key: string | null, value: unknown, now: number, cfg: PresenceConfig): Checked<ContactEvent> {
  const k = parseContactKey(key, cfg);
  if (!k.ok) return k;
  const { owner, contact } = k.event;
  if (value === null || value === undefined) return { ok: true, event: { type: 'contactRemoved', owner, contact } };
  if (typeof value !== 'object' || Array.isArray(value)) return rejected('not-an-object', 'value', 'must be a ContactEntry record or a tombstone');
  const v = value as Readonly<Record<string, unknown>>;
  if (v['owner'] !== owner) return rejected('not-allowed', 'owner', `must equal the key's owner (${JSON.stringify(owner)})`);
  if (v['contact'] !== contact) return rejected('not-allowed', 'contact', `must equal the key's contact (${JSON.stringify(contact)})`);
  const addedAt = v['addedAt'];
  if (typeof addedAt !== 'number') return rejected(addedAt === undefined || addedAt === null ? 'missing' : 'wrong-type', 'addedAt', 'must be an epoch-ms integer');
  if (!Number.isSafeInteger(addedAt)) return rejected('not-an-integer', 'addedAt', 'must be a finite integer');
  if (addedAt < 0) return rejected('negative', 'addedAt', 'must not be negative');
  return { ok: true, event: { type: 'contactAdded', owner, contact, addedAt: Math.min(addedAt, now + cfg.maxClockSkewMs) } };
}

/** (addedAt, contact) order: earlier adds rank first. */
function ranksBefore(aAt: number, a: string, bAt: number, b: string): boolean {
  return aAt < bAt || (aAt === bAt && a < b);
}

/** The list after one checked event (a new Map; the input is not changed). */
export function applyContactEvent(list: ContactList | undefined, e: ContactEvent): ContactList {
  const next = new Map(list ?? []);
  if (e.type === 'contactAdded') next.set(e.contact, e.addedAt);
  else next.delete(e.contact);
  return next;
}

/**
 * The contacts that count when a list holds more than `bound`: the first `bound` by (addedAt,
 * contact). Null when the list is within the bound (all count). O(n log n); readers cache it per owner.
 */
export function contactsWithinBound(list: ContactList, bound = MAX_CONTACTS_PER_OWNER): ReadonlySet<string> | null {
  if (list.size <= bound) return null;
  const ranked = [...list].sort(([a, aAt], [b, bAt]) => (ranksBefore(aAt, a, bAt, b) ? -1 : ranksBefore(bAt, b, aAt, a) ? 1 : 0));
  return new Set(ranked.slice(0, bound).map(([c]) => c));
}

/** Is `viewer` a contact of the list's owner (in the list, and within the bound)? */
export function isContactIn(list: ContactList | undefined, viewer: string, bound = MAX_CONTACTS_PER_OWNER): boolean {
  if (list === undefined || !list.has(viewer)) return false;
  const within = contactsWithinBound(list, bound);
  return within === null || within.has(viewer);
}

/**
 * Would this add land past the bound (the list without it already holds `bound` contacts that rank
 * before it)? What the validator dead-letters. Re-adding a contact already in the list replaces it.
 */
export function contactPastBound(list: ContactList | undefined, e: Extract<ContactEvent, { type: 'contactAdded' }>, bound = MAX_CONTACTS_PER_OWNER): boolean {
  if (list === undefined) return false;
  const others = list.size - (list.has(e.contact) ? 1 : 0);
  if (others < bound) return false;
  let before = 0;
  for (const [c, at] of list) if (c !== e.contact && ranksBefore(at, c, e.addedAt, e.contact)) before++;
  return before >= bound;
}

/**
 * Who is looking, relative to the user looked at: `self`, `contact` (in the user's contact list) or
 * `others`. A caller without an identity (anonymous) is `others`. Trusted callers (the notification
 * pipeline) do not read through a Viewer: they get the real status (gateStatus 'trusted', device routes).
 */
export type Viewer = 'self' | 'contact' | 'others';

export const VIEWERS: readonly Viewer[] = ['self', 'contact', 'others'];

/** The viewer class of `callerId` (null: anonymous) reading `userId`; `isContact(owner, viewer)` looks up the owner's list. */
export function viewerOf(callerId: string | null, userId: string, isContact: (owner: string, viewer: string) => boolean = () => false): Viewer {
  if (callerId === null) return 'others';
  if (callerId === userId) return 'self';
  return isContact(userId, callerId) ? 'contact' : 'others';
}

/**
 * Whether a user with `visibility` is shown to `viewer` (otherwise they read as Offline with
 * nothing revealed): `self` always; `everyone`: anyone; `contacts`: the user's contacts; `nobody`: no one else.
 */
export function visibleTo(visibility: Visibility, viewer: Viewer): boolean {
  if (viewer === 'self') return true;
  switch (visibility) {
    case 'everyone': return true;
    case 'contacts': return viewer === 'contact';
    case 'nobody': return false;
    default: {
      const exhaustive: never = visibility;
      return exhaustive;
    }
  }
}
