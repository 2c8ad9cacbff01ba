import { DEFAULT_CONFIG } from '../core';
import { commandEvent, parseFrame, type Command, type Sender } from './commands';

const NOW = 1_800_000_000_000;
const socket: Sender = { userId: 'ana', session: { deviceId: 'laptop', sessionId: 'tab-1', platform: 'web' } };
const http: Sender = { userId: 'ana' };
const ANA = { kind: 'user', id: 'ana' };
const build = (command: Command, body: Record<string, unknown>, sender = socket) => commandEvent(command, body, sender, NOW, 'evt-1', DEFAULT_CONFIG);

describe('commandEvent', () => {
  it.each<[string, Command, Record<string, unknown>, Sender, unknown]>([
    ['socket heartbeat: session from the connection, time from the gateway', 'heartbeat', { idleMs: 1_500, observedAt: 1 }, socket,
      { kind: 'user', event: { type: 'heartbeat', userId: 'ana', deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', observedAt: NOW, idleMs: 1_500 } }],
    ['a frame cannot move the socket to another session', 'heartbeat', { sessionId: 'other', deviceId: 'x' }, socket,
      { kind: 'user', event: { type: 'heartbeat', userId: 'ana', deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', observedAt: NOW, idleMs: 0 } }],
    ['HTTP heartbeat: session from the body, platform defaults to other', 'heartbeat', { deviceId: 'phone', sessionId: 's9', idleMs: 0 }, http,
      { kind: 'user', event: { type: 'heartbeat', userId: 'ana', deviceId: 'phone', sessionId: 's9', platform: 'other', observedAt: NOW, idleMs: 0 } }],
    ['HTTP disconnect', 'disconnect', { deviceId: 'phone', sessionId: 's9', platform: 'ios' }, http,
      { kind: 'user', event: { type: 'disconnect', userId: 'ana', deviceId: 'phone', sessionId: 's9', platform: 'ios', observedAt: NOW } }],
    ['override with expiry and text', 'override', { status: 'DoNotDisturb', customText: '  focus ', expiresAt: NOW + 60_000 }, socket,
      { kind: 'user', event: { type: 'override', userId: 'ana', status: 'DoNotDisturb', customText: 'focus', expiresAt: NOW + 60_000, setAt: NOW, eventId: 'evt-1', actor: ANA } }],
    ['override over HTTP with a reason: the actor is the token subject', 'override', { status: 'Busy', reason: ' client call ' }, http,
      { kind: 'user', event: { type: 'override', userId: 'ana', status: 'Busy', customText: null, expiresAt: null, setAt: NOW, eventId: 'evt-1', actor: ANA, reason: 'client call' } }],
    ['the caller may name itself', 'visibility', { visibility: 'nobody', userId: 'ana' }, socket,
      { kind: 'user', event: { type: 'visibility', userId: 'ana', visibility: 'nobody', setAt: NOW, eventId: 'evt-1', actor: ANA } }],
    ['last-seen privacy, stamped like the others', 'lastSeenPrivacy', { lastSeenPrivacy: 'hidden', reason: 'travel' }, http,
      { kind: 'user', event: { type: 'lastSeenPrivacy', userId: 'ana', lastSeenPrivacy: 'hidden', setAt: NOW, eventId: 'evt-1', actor: ANA, reason: 'travel' } }],
    ['join with metadata', 'join', { roomKind: 'doc', roomId: '42', metadata: { color: 'teal' } }, socket,
      { kind: 'room', event: { type: 'join', roomKind: 'doc', roomId: '42', userId: 'ana', sessionId: 'tab-1', observedAt: NOW, metadata: { color: 'teal' } } }],
    ['leave drops metadata', 'leave', { roomKind: 'doc', roomId: '42', metadata: { color: 'teal' } }, socket,
      { kind: 'room', event: { type: 'leave', roomKind: 'doc', roomId: '42', userId: 'ana', sessionId: 'tab-1', observedAt: NOW, metadata: null } }],
    ['HTTP room heartbeat names its session', 'roomHeartbeat', { roomKind: 'doc', roomId: '42', sessionId: 's9' }, http,
      { kind: 'room', event: { type: 'roomHeartbeat', roomKind: 'doc', roomId: '42', userId: 'ana', sessionId: 's9', observedAt: NOW, metadata: null } }],
  ])('%s', (_name, command, body, sender, event) => {
    expect(build(command, body, sender)).toEqual({ ok: true, event });
  });

  it.each<[string, Command, Record<string, unknown>, Sender, string, string]>([
    ['another user', 'heartbeat', { userId: 'bob' }, socket, 'not-allowed', 'userId'],
    ['another user over HTTP', 'override', { userId: 'bob', status: 'Busy' }, http, 'not-allowed', 'userId'],
    ['negative idle time', 'heartbeat', { idleMs: -1 }, socket, 'negative', 'idleMs'],
    ['idle time as text', 'heartbeat', { idleMs: '5' }, socket, 'wrong-type', 'idleMs'],
    ['HTTP heartbeat without a session', 'heartbeat', { deviceId: 'phone' }, http, 'missing', 'sessionId'],
    ['HTTP heartbeat with an unknown platform', 'heartbeat', { deviceId: 'phone', sessionId: 's', platform: 'fridge' }, http, 'not-allowed', 'platform'],
    ['unknown override status', 'override', { status: 'Sleeping' }, socket, 'not-allowed', 'status'],
    ['expiry in the past', 'override', { status: 'Busy', expiresAt: NOW - 1 }, socket, 'invalid-range', 'expiresAt'],
    ['custom text too long', 'override', { status: 'Busy', customText: 'x'.repeat(101) }, socket, 'too-long', 'customText'],
    ['unknown visibility', 'visibility', { visibility: 'friends' }, socket, 'not-allowed', 'visibility'],
    ['an override claiming an actor', 'override', { status: 'DoNotDisturb', actor: { kind: 'admin', id: 'root' } }, http, 'not-allowed', 'actor'],
    ['a visibility frame claiming the user as actor (still not the client\'s to say)', 'visibility', { visibility: 'nobody', actor: { kind: 'user', id: 'ana' } }, socket, 'not-allowed', 'actor'],
    ['a null actor is a claim too', 'lastSeenPrivacy', { lastSeenPrivacy: 'coarse', activity: null, actor: null }, http, 'not-allowed', 'actor'],
    ['a reason too long', 'override', { status: 'Busy', reason: 'x'.repeat(201) }, socket, 'too-long', 'reason'],
    ['room without an id', 'join', { roomKind: 'doc' }, socket, 'missing', 'roomId'],
    ['room kind with a slash', 'join', { roomKind: 'a/b', roomId: '1' }, socket, 'invalid-character', 'roomKind'],
    ['oversize metadata', 'join', { roomKind: 'doc', roomId: '1', metadata: { a: 'x'.repeat(2_000) } }, socket, 'too-large', 'metadata'],
  ])('refuses %s', (_name, command, body, sender, code, field) => {
    const r = build(command, body, sender);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection).toMatchObject({ code, field });
  });
});

describe('parseFrame', () => {
  it('reads the command, body and correlation id', () => {
    expect(parseFrame('{"type":"heartbeat","idleMs":3,"id":7}')).toEqual({ ok: true, frame: { command: 'heartbeat', body: { type: 'heartbeat', idleMs: 3, id: 7 }, id: 7 } });
  });
  it.each<[string, string, string, string | number | null]>([
    ['not JSON', 'hello', '(frame)', null],
    ['an array', '[1]', '(frame)', null],
    ['no type', '{"id":"a"}', 'type', 'a'],
    ['an unknown type', '{"type":"dance","id":"b"}', 'type', 'b'],
    ['disconnect (a socket closes instead)', '{"type":"disconnect"}', 'type', null],
    ['a huge id', JSON.stringify({ type: 'heartbeat', id: 'x'.repeat(65) }), 'id', null],
  ])('refuses %s, naming the field', (_name, text, field, id) => {
    const r = parseFrame(text);
    expect(r).toMatchObject({ ok: false, rejection: { field }, id });
  });
});
