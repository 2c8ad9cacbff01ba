import {
  DEFAULT_CONFIG, applyContactEvent, applyEvent, checkContactRecord, contactKey, contactPastBound, contactsWithinBound, deviceRoutesOfView,
  gateStatus, initialUserState, isContactIn, lastSeenApprox, parseContactKey, readView, userView, viewerOf, visibleTo,
  type ContactList, type GateAudience, type UserView, type Viewer, type Visibility,
} from '.';

const t0 = 1_700_000_000_000;
const cfg = DEFAULT_CONFIG;

/** alice: Online on one web session, with `visibility`; bob is in her list, carol is not. */
function alice(visibility: Visibility, lastSeenPrivacy: 'exact' | 'coarse' = 'exact'): UserView {
  let s = initialUserState('alice');
  s = applyEvent(s, { type: 'heartbeat', userId: 'alice', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: t0, idleMs: 0, gatewayId: 'gw-1' }, t0, cfg);
  s = applyEvent(s, { type: 'visibility', userId: 'alice', visibility, setAt: t0, eventId: 'v' }, t0, cfg);
  s = applyEvent(s, { type: 'lastSeenPrivacy', userId: 'alice', lastSeenPrivacy, setAt: t0, eventId: 'p' }, t0, cfg);
  return userView(s, t0, cfg);
}
const aliceList: ContactList = new Map([['bob', t0 - 1_000]]);
const isContact = (owner: string, viewer: string) => owner === 'alice' && isContactIn(aliceList, viewer);

const ONLINE = { status: 'Online', statusSince: t0, lastSeen: t0, lastActive: t0, devices: [{ deviceId: 'laptop', sessionId: 'tab', platform: 'web', gatewayId: 'gw-1', active: true }] };
const HIDDEN = { status: 'Offline', statusSince: null, lastSeen: null, lastActive: null, override: null, devices: [] };

describe('contacts-only visibility: every viewer kind × visibility', () => {
  // Viewer kinds: self, a contact, a non-contact, anonymous (no identity) read through readView with
  // viewerOf; trusted callers (the notification pipeline) through gateStatus('trusted') and device routes.
  const kinds: Array<[string, string | null, Viewer]> = [
    ['self', 'alice', 'self'],
    ['contact', 'bob', 'contact'],
    ['non-contact', 'carol', 'others'],
    ['anonymous', null, 'others'],
  ];
  const table: Array<[Visibility, string, boolean]> = [
    ['everyone', 'self', true], ['everyone', 'contact', true], ['everyone', 'non-contact', true], ['everyone', 'anonymous', true],
    ['contacts', 'self', true], ['contacts', 'contact', true], ['contacts', 'non-contact', false], ['contacts', 'anonymous', false],
    ['nobody', 'self', true], ['nobody', 'contact', false], ['nobody', 'non-contact', false], ['nobody', 'anonymous', false],
  ];

  it.each(table)('visibility %s, viewer %s: sees the real presence = %s', (visibility, kind, sees) => {
    const [, caller, expected] = kinds.find(([k]) => k === kind) as [string, string | null, Viewer];
    const viewer = viewerOf(caller, 'alice', isContact);
    expect(viewer).toBe(expected);
    const read = readView(alice(visibility), t0 + 1_000, cfg, viewer);
    expect(read).toMatchObject(sees ? ONLINE : HIDDEN);
    expect(visibleTo(visibility, viewer)).toBe(sees);
    // The gate for that caller as an untrusted audience agrees with what they see.
    const audience: GateAudience = viewer === 'self' ? 'trusted' : viewer;
    expect(gateStatus(alice(visibility), t0 + 1_000, cfg, audience)).toBe(sees ? 'Online' : 'Offline');
  });

  it.each<Visibility>(['everyone', 'contacts', 'nobody'])('visibility %s, a trusted caller: the real status and the live sessions', (visibility) => {
    expect(gateStatus(alice(visibility), t0 + 1_000, cfg, 'trusted')).toBe('Online');
    expect(deviceRoutesOfView(alice(visibility), t0 + 1_000, cfg).map((d) => d.gatewayId)).toEqual(['gw-1']);
  });

  it('a contact still gets the last-seen privacy rule (coarse: a bucket, no times); a non-contact nothing', () => {
    const v = alice('contacts', 'coarse');
    expect(readView(v, t0 + 1_000, cfg, 'contact')).toMatchObject({ status: 'Online', lastSeen: null, lastActive: null, statusSince: null });
    expect(lastSeenApprox(v, t0 + 1_000, 'contact')).toBe('recently');
    expect(lastSeenApprox(v, t0 + 1_000, 'others')).toBeNull();
  });

  it('an active AppearOffline hides the user from contacts too', () => {
    let s = initialUserState('alice');
    s = applyEvent(s, { type: 'heartbeat', userId: 'alice', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: t0, idleMs: 0 }, t0, cfg);
    s = applyEvent(s, { type: 'visibility', userId: 'alice', visibility: 'contacts', setAt: t0, eventId: 'v' }, t0, cfg);
    s = applyEvent(s, { type: 'override', userId: 'alice', status: 'AppearOffline', customText: null, expiresAt: null, setAt: t0, eventId: 'o' }, t0, cfg);
    expect(readView(userView(s, t0, cfg), t0, cfg, 'contact')).toMatchObject(HIDDEN);
    expect(readView(userView(s, t0, cfg), t0, cfg, 'self').devices).toHaveLength(1);
  });

  it('the list is one way: being in alice\'s list does not let alice see bob', () => {
    expect(viewerOf('bob', 'alice', isContact)).toBe('contact');
    expect(viewerOf('alice', 'bob', isContact)).toBe('others');
  });
});

describe('contact records', () => {
  const key = contactKey('alice', 'bob');

  it('an add and a removal (tombstone)', () => {
    expect(checkContactRecord(key, { owner: 'alice', contact: 'bob', addedAt: t0 }, t0, cfg)).toEqual({ ok: true, event: { type: 'contactAdded', owner: 'alice', contact: 'bob', addedAt: t0 } });
    expect(checkContactRecord(key, null, t0, cfg)).toEqual({ ok: true, event: { type: 'contactRemoved', owner: 'alice', contact: 'bob' } });
  });

  it('clamps a future addedAt to the allowed skew', () => {
    const r = checkContactRecord(key, { owner: 'alice', contact: 'bob', addedAt: t0 + 3_600_000 }, t0, cfg);
    expect(r.ok && r.event.type === 'contactAdded' && r.event.addedAt).toBe(t0 + cfg.maxClockSkewMs);
  });

  it.each<[string, string | null, unknown, string]>([
    ['no key', null, null, 'key'],
    ['a key without the separator', 'alice/bob', null, 'key'],
    ['a key with two separators', 'a\u001fb\u001fc', null, 'key'],
    ['an empty owner', '\u001fbob', null, 'key.owner'],
    ['a blank contact', 'alice\u001f  ', null, 'key.contact'],
    ['an owner too long', `${'x'.repeat(DEFAULT_CONFIG.maxIdLength + 1)}\u001fbob`, null, 'key.owner'],
    ['the owner as their own contact', 'alice\u001falice', null, 'key.contact'],
    ['a value owner other than the key\'s', 'alice\u001fbob', { owner: 'mallory', contact: 'bob', addedAt: t0 }, 'owner'],
    ['a value contact other than the key\'s', 'alice\u001fbob', { owner: 'alice', contact: 'eve', addedAt: t0 }, 'contact'],
    ['a negative addedAt', 'alice\u001fbob', { owner: 'alice', contact: 'bob', addedAt: -1 }, 'addedAt'],
    ['a missing addedAt', 'alice\u001fbob', { owner: 'alice', contact: 'bob' }, 'addedAt'],
    ['a value that is not a record', 'alice\u001fbob', 'bob', 'value'],
  ])('refuses %s, naming the field', (_name, k, value, field) => {
    const r = checkContactRecord(k, value, t0, cfg);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.rejection.field).toBe(field);
  });

  it('parses the key at its one separator', () => {
    expect(parseContactKey('doc/a\u001fb/c', cfg)).toEqual({ ok: true, event: { owner: 'doc/a', contact: 'b/c' } });
  });
});

describe('the bound (contacts per owner), order-independent', () => {
  const bound = 3;
  const add = (list: ContactList | undefined, contact: string, addedAt: number) => applyContactEvent(list, { type: 'contactAdded', owner: 'o', contact, addedAt });
  const full = [['a', 1], ['b', 2], ['c', 3]].reduce<ContactList | undefined>((l, [c, at]) => add(l, c as string, at as number), undefined) as ContactList;

  it('within the bound every contact counts', () => {
    expect(contactsWithinBound(full, bound)).toBeNull();
    expect(['a', 'b', 'c'].every((c) => isContactIn(full, c, bound))).toBe(true);
  });

  it('past it, the first `bound` by (addedAt, contact) count, whatever order the adds were read in', () => {
    const forward = add(full, 'd', 4);
    const backward = [['d', 4], ['c', 3], ['b', 2], ['a', 1]].reduce<ContactList | undefined>((l, [c, at]) => add(l, c as string, at as number), undefined) as ContactList;
    for (const list of [forward, backward]) {
      expect([...(contactsWithinBound(list, bound) ?? [])].sort()).toEqual(['a', 'b', 'c']);
      expect(isContactIn(list, 'd', bound)).toBe(false);
    }
    // An earlier add ranks in and pushes the latest out; a tie on addedAt is broken by contact id.
    const early = add(full, 'z', 0);
    expect(isContactIn(early, 'z', bound)).toBe(true);
    expect(isContactIn(early, 'c', bound)).toBe(false);
    expect([...(contactsWithinBound(add(full, 'bb', 2), bound) ?? [])].sort()).toEqual(['a', 'b', 'bb']);
  });

  it('contactPastBound: what the validator dead-letters', () => {
    expect(contactPastBound(full, { type: 'contactAdded', owner: 'o', contact: 'd', addedAt: 4 }, bound)).toBe(true);
    expect(contactPastBound(full, { type: 'contactAdded', owner: 'o', contact: 'c', addedAt: 9 }, bound)).toBe(false); // a re-add replaces
    expect(contactPastBound(full, { type: 'contactAdded', owner: 'o', contact: 'z', addedAt: 0 }, bound)).toBe(false);
    const removed = applyContactEvent(full, { type: 'contactRemoved', owner: 'o', contact: 'b' });
    expect(contactPastBound(removed, { type: 'contactAdded', owner: 'o', contact: 'd', addedAt: 4 }, bound)).toBe(false);
    expect(contactPastBound(undefined, { type: 'contactAdded', owner: 'o', contact: 'd', addedAt: 4 }, bound)).toBe(false);
  });
});
