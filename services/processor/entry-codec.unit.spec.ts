import { DEFAULT_CONFIG, applyEvent, initialUserState, userView, initialRoomState, applyRoomEvent, roomView } from '../core';
import { decodeCheckpoint, decodeEntry, encodeCheckpoint, encodeEntry, encodeJsonEntry, EntryFormatError, type Entry } from './entry-codec';

const t0 = 1_700_000_000_000;
const user = (() => {
  let s = initialUserState('alice');
  s = applyEvent(s, { type: 'heartbeat', userId: 'alice', deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', observedAt: t0, idleMs: 0 }, t0, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'disconnect', userId: 'alice', deviceId: 'phone', sessionId: 's', platform: 'ios', observedAt: t0 + 1 }, t0 + 1, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'override', userId: 'alice', status: 'DoNotDisturb', customText: 'focus ✨', expiresAt: t0 + 60_000, setAt: t0, eventId: 'e1' }, t0 + 2, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'visibility', userId: 'alice', visibility: 'nobody', setAt: t0, eventId: 'e2' }, t0 + 3, DEFAULT_CONFIG);
  return s;
})();
const room = applyRoomEvent(initialRoomState('document', '42'), { type: 'join', roomKind: 'document', roomId: '42', userId: 'alice', sessionId: 'tab-1', observedAt: t0, metadata: { cursor: 'c1' } }, t0, DEFAULT_CONFIG);

const entries: Array<[string, Entry]> = [
  ['user, never emitted', { kind: 'user', state: initialUserState('bob'), emitted: null }],
  ['user with sessions, registers and an emitted view', { kind: 'user', state: user, emitted: userView(user, t0 + 3, DEFAULT_CONFIG) }],
  ['room, never emitted', { kind: 'room', state: room, emitted: null }],
  ['room with an emitted view', { kind: 'room', state: room, emitted: roomView(room, t0, DEFAULT_CONFIG) }],
];

describe('store entry format', () => {
  it.each(entries)('%s: binary round trip', (_name, entry) => {
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
  });

  it.each(entries)('%s: the JSON format of earlier versions still decodes, to the same entry', (_name, entry) => {
    const json = encodeJsonEntry(entry);
    expect(json.startsWith('{"f":1')).toBe(true);
    expect(decodeEntry(json)).toEqual(decodeEntry(encodeEntry(entry)));
    expect(decodeEntry(Buffer.from(json))).toEqual(entry);
  });

  it('is several times smaller than the JSON format', () => {
    const entry = entries[1]?.[1] as Entry;
    expect(encodeEntry(entry).length * 2).toBeLessThan(Buffer.byteLength(encodeJsonEntry(entry)));
  });

  it.each([
    ['an unknown tag', Buffer.from([0x09, 0x00])],
    ['an unknown kind', Buffer.from([0x02, 0x07])],
    ['an unknown JSON format', Buffer.from('{"f":9,"k":"user","s":{},"e":null}')],
  ])('refuses %s with EntryFormatError', (_name, bytes) => {
    expect(() => decodeEntry(bytes)).toThrow(EntryFormatError);
  });

  it('checkpoint markers round trip', () => {
    const marker = { at: t0, snapshotEnd: '42', roomSnapshotEnd: null };
    expect(decodeCheckpoint(encodeCheckpoint(marker))).toEqual(marker);
    expect(() => decodeCheckpoint('{"f":2}')).toThrow(EntryFormatError);
  });
});
