/**
 * The HTTP edge of the query service over a fixed replica (no broker needed): every 400/401/403
 * case, unknown users, masking for others, the gate rule, the SSE stream and its clock-driven
 * changes. The pipeline itself is tested in query.int.spec.ts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CONFIG, DEFAULT_CHANNEL_CLASSES, roomKey, type PresenceConfig, type RoomView, type UserView } from '../core';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createQueryApp } from './app';
import { createQueryMetrics } from './metrics';
import { PresenceStreams } from './presence-streams';
import { RoomStreams } from './room-streams';
import { OpenApiChecker } from '../../test/openapi';
import { sseEvents } from '../../test/sse';
import { QUERY_OPENAPI } from './openapi';

const SECRET = 'routes-test-secret-0123456789-abcdefghij';
const T = 1_800_000_000_000;
const cfg: PresenceConfig = { ...DEFAULT_CONFIG, offlineAfterMs: 3_000, awayAfterMs: 2_000, heartbeatIntervalMs: 1_000, refreshLeadMs: 1_000, roomMemberExpiryMs: 3_000 };

const view = (userId: string, over: Partial<UserView> = {}): UserView => ({
  userId, status: 'Online', statusSince: T - 1_000, lastSeen: T, lastActive: T, override: null, visibility: 'everyone', lastSeenPrivacy: 'exact',
  devices: [{ deviceId: 'laptop', sessionId: 's1', platform: 'web', gatewayId: null, active: true }], version: 3, emittedAt: T, ...over,
});

// Every answer these tests get is checked against the service's OpenAPI document.
const api = new OpenApiChecker(QUERY_OPENAPI);
const fetch = (url: string, init?: RequestInit) => api.fetch(url, init);

describe('query routes', () => {
  let now = T;
  const users = new Map<string, UserView>();
  const rooms = new Map<string, RoomView>();
  let server: Server;
  let base: string;
  let ready = true;
  const streams = new PresenceStreams({ users, cfg, clock: () => now });
  const roomStreams = new RoomStreams({ rooms, cfg, clock: () => now, timesShown: () => true });
  const tokens: Record<string, string> = {};
  const get = (path: string, as: string | null = 'alice', init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { ...(as ? { authorization: `Bearer ${tokens[as]}` } : {}), ...(init.headers ?? {}) } });
  const post = (path: string, body: string, as = 'alice') =>
    get(path, as, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  beforeAll(async () => {
    for (const u of ['alice', 'bob', 'gatekeeper', 'ghost']) tokens[u] = await mintToken(SECRET, u);
    users.set('alice', view('alice'));
    users.set('dnd', view('dnd', { status: 'DoNotDisturb', override: { status: 'DoNotDisturb', customText: 'focus', expiresAt: null } }));
    users.set('ghost', view('ghost', { visibility: 'nobody', devices: [{ deviceId: 'laptop', sessionId: 's1', platform: 'web', gatewayId: 'gw-g', active: true }] }));
    rooms.set(roomKey('doc', '42'), { roomKind: 'doc', roomId: '42', version: 1, emittedAt: T,
      members: [{ userId: 'alice', sessionId: 's1', joinedAt: T - 500, lastSeen: T, metadata: { cursor: '3' } }] });
    const app = createQueryApp({
      users, rooms, ready: () => ready, streams, roomStreams, auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), cfg,
      classes: DEFAULT_CHANNEL_CLASSES, batchLimit: 5, gateCallers: [], keepAliveMs: 60_000, clock: () => now,
      metrics: createQueryMetrics({ lag: () => 0, ready: () => ready, streams: () => streams.size, roomStreams: () => roomStreams.size, users: () => users.size, rooms: () => rooms.size }),
      log: createLogger('query-test', 'silent'),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    streams.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    now = T;
    ready = true;
  });

  it('answers a known user with status, times, override and devices', async () => {
    const res = await get('/v1/users/dnd/presence');
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({
      userId: 'dnd', status: 'DoNotDisturb', statusSince: T - 1_000, lastSeen: T, lastActive: T,
      override: { status: 'DoNotDisturb', customText: 'focus', expiresAt: null }, devices: [{ deviceId: 'laptop', sessionId: 's1', platform: 'web' }],
    });
  });

  it('recomputes status with the clock: Away after the away threshold, Offline after the offline threshold', async () => {
    now = T + 2_000;
    expect((await jsonOf(await get('/v1/users/alice/presence'))).status).toBe('Away');
    now = T + 3_000;
    expect(await jsonOf(await get('/v1/users/alice/presence'))).toMatchObject({ status: 'Offline', devices: [], statusSince: T + 3_000 });
  });

  it('does not reveal whether an account exists: unknown users read Offline with no last seen', async () => {
    expect(await jsonOf(await get('/v1/users/nobody-here/presence'))).toEqual({
      userId: 'nobody-here', status: 'Offline', statusSince: null, lastSeen: null, lastActive: null, override: null, devices: [],
    });
  });

  it('an invisible user reads Offline to others and fully to themselves', async () => {
    expect(await jsonOf(await get('/v1/users/ghost/presence', 'alice'))).toMatchObject({ status: 'Offline', lastSeen: null, devices: [] });
    tokens['ghost'] = await mintToken(SECRET, 'ghost');
    expect(await jsonOf(await get('/v1/users/ghost/presence', 'ghost'))).toMatchObject({ status: 'Online', visibility: 'nobody', lastSeen: T });
  });

  it('batchGet answers every id in order', async () => {
    const res = await post('/v1/presence:batchGet', JSON.stringify({ userIds: ['dnd', 'alice', 'unknown'] }));
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).presences.map((p: { userId: string; status: string }) => `${p.userId}:${p.status}`)).toEqual(['dnd:DoNotDisturb', 'alice:Online', 'unknown:Offline']);
  });

  it('rooms list present members; an empty or unknown room is an empty list', async () => {
    expect(await jsonOf(await get('/v1/rooms/doc/42'))).toEqual({
      roomKind: 'doc', roomId: '42', members: [{ userId: 'alice', sessionId: 's1', joinedAt: T - 500, lastSeen: T, metadata: { cursor: '3' }, ephemeral: null }],
    });
    now = T + 3_000;
    expect((await jsonOf(await get('/v1/rooms/doc/42'))).members).toEqual([]);
    expect(await jsonOf(await get('/v1/rooms/doc/none'))).toEqual({ roomKind: 'doc', roomId: 'none', members: [] });
  });

  it.each([
    // With QUERY_GATE_CALLERS empty, another caller decides on what it may see: an invisible user online reads Offline.
    ['ghost', 'mobile-push', 'false', { deliver: false, reason: 'suppressed-offline', status: 'Offline', userKnown: true }],
    ['dnd', 'mobile-push', 'false', { deliver: false, reason: 'suppressed-dnd', status: 'DoNotDisturb', userKnown: true }],
    ['dnd', 'email', 'false', { deliver: true, reason: 'store-and-forward', status: 'DoNotDisturb', userKnown: true }],
    ['dnd', 'mobile-push', 'true', { deliver: true, reason: 'bypassed-dnd', status: 'DoNotDisturb', userKnown: true }],
    // alice asks about herself: trusted, so the decision names its targets (her session's gateway is unknown: none).
    ['alice', 'websocket', 'false', { deliver: true, reason: 'online', status: 'Online', userKnown: true, targetGateways: [] }],
    ['stranger', 'web-push', 'false', { deliver: false, reason: 'unknown-user-offline', status: 'Offline', userKnown: false }],
  ])('gate: %s on %s (bypass %s)', async (userId, channel, bypass, expected) => {
    const res = await get(`/v1/gate?userId=${userId}&channel=${channel}&bypassDoNotDisturb=${bypass}`);
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual(expected);
  });

  it('gate: with QUERY_GATE_CALLERS set, a listed caller decides on the real status and anyone else gets 403', async () => {
    const app = createQueryApp({
      users, rooms, ready: () => true, streams, roomStreams, auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), cfg,
      classes: DEFAULT_CHANNEL_CLASSES, batchLimit: 5, gateCallers: ['gatekeeper'], keepAliveMs: 60_000, clock: () => now,
      metrics: createQueryMetrics({ lag: () => 0, ready: () => true, streams: () => 0, roomStreams: () => 0, users: () => users.size, rooms: () => rooms.size }),
      log: createLogger('query-test', 'silent'),
    });
    const gated = app.listen(0, '127.0.0.1');
    await new Promise((r) => gated.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(gated.address() as AddressInfo).port}/v1/gate?userId=ghost&channel=mobile-push`;
      const as = (u: string) => fetch(url, { headers: { authorization: `Bearer ${tokens[u]}` } });
      expect(await jsonOf(await as('gatekeeper'))).toEqual({ deliver: true, reason: 'online', status: 'Online', userKnown: true, targetGateways: ['gw-g'] });
      const refused = await as('alice');
      expect(refused.status).toBe(403);
      expect(await jsonOf(refused)).toMatchObject({ field: 'authorization' });
    } finally {
      gated.closeAllConnections();
      await new Promise((r) => gated.close(r));
    }
  });

  it('raw snapshots: only a caller in QUERY_SNAPSHOT_CALLERS reads them (visibility unapplied: the gateway applies it); anyone else gets 403', async () => {
    const app = createQueryApp({
      users, rooms, ready: () => true, streams, roomStreams, auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), cfg,
      classes: DEFAULT_CHANNEL_CLASSES, batchLimit: 5, gateCallers: [], snapshotCallers: ['gatekeeper'], keepAliveMs: 60_000, clock: () => now,
      metrics: createQueryMetrics({ lag: () => 0, ready: () => true, streams: () => 0, roomStreams: () => 0, users: () => users.size, rooms: () => rooms.size }),
      log: createLogger('query-test', 'silent'),
    });
    const trusted = app.listen(0, '127.0.0.1');
    await new Promise((r) => trusted.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(trusted.address() as AddressInfo).port}/v1/snapshots:batchGet`;
      const as = (u: string, body: unknown) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${tokens[u]}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const ok = await as('gatekeeper', { userIds: ['ghost', 'nobody-known'] });
      expect(ok.status).toBe(200);
      const body = await jsonOf(ok);
      expect(body.snapshots).toEqual([{ userId: 'ghost', view: users.get('ghost'), watermark: null, contacts: [] }, { userId: 'nobody-known', view: null, watermark: null, contacts: [] }]);
      expect(body.snapshots[0].view.visibility).toBe('nobody');
      for (const [u, b, status, field] of [['alice', { userIds: ['ghost'] }, 403, 'authorization'], ['gatekeeper', { userIds: [] }, 400, 'userIds'], ['gatekeeper', [1], 400, 'body']] as const) {
        const res = await as(u, b);
        expect(res.status).toBe(status);
        expect(await jsonOf(res)).toMatchObject({ field });
      }
    } finally {
      trusted.closeAllConnections();
      await new Promise((r) => trusted.close(r));
    }
  });

  it('devices: a trusted caller gets the live sessions with gateway, platform and active; the user itself too; anyone else 403', async () => {
    const devices = [
      { deviceId: 'laptop', sessionId: 's1', platform: 'web' as const, gatewayId: 'gw-1', active: true },
      { deviceId: 'phone', sessionId: 's2', platform: 'ios' as const, gatewayId: 'gw-2', active: false },
    ];
    users.set('routed', view('routed', { devices }));
    users.set('hidden', view('hidden', { visibility: 'nobody', devices }));
    const app = createQueryApp({
      users, rooms, ready: () => true, streams, roomStreams, auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), cfg,
      classes: DEFAULT_CHANNEL_CLASSES, batchLimit: 5, gateCallers: ['gatekeeper'], keepAliveMs: 60_000, clock: () => now,
      metrics: createQueryMetrics({ lag: () => 0, ready: () => true, streams: () => 0, roomStreams: () => 0, users: () => users.size, rooms: () => rooms.size }),
      log: createLogger('query-test', 'silent'),
    });
    const gated = app.listen(0, '127.0.0.1');
    await new Promise((r) => gated.once('listening', r));
    try {
      const at = `http://127.0.0.1:${(gated.address() as AddressInfo).port}`;
      const as = (u: string | null, path: string) => fetch(`${at}${path}`, { headers: u === null ? {} : { authorization: `Bearer ${tokens[u]}` } });
      expect(await jsonOf(await as('gatekeeper', '/v1/users/routed/devices'))).toEqual({ userId: 'routed', devices });
      // An invisible user's sessions are listed for the pipeline (pushes go to the user), still hidden from others' presence reads.
      expect(await jsonOf(await as('gatekeeper', '/v1/users/hidden/devices'))).toEqual({ userId: 'hidden', devices });
      expect(await jsonOf(await as('alice', '/v1/users/hidden/presence'))).toMatchObject({ status: 'Offline', devices: [] });
      // The user itself.
      expect(await jsonOf(await as('alice', '/v1/users/alice/devices'))).toEqual({ userId: 'alice', devices: [{ deviceId: 'laptop', sessionId: 's1', platform: 'web', gatewayId: null, active: true }] });
      // No live session: nothing to route to (unknown users alike).
      expect(await jsonOf(await as('gatekeeper', '/v1/users/nobody-known/devices'))).toEqual({ userId: 'nobody-known', devices: [] });
      now = T + cfg.offlineAfterMs;
      expect(await jsonOf(await as('gatekeeper', '/v1/users/routed/devices'))).toEqual({ userId: 'routed', devices: [] });
      now = T;
      const refused = await as('alice', '/v1/users/routed/devices');
      expect(refused.status).toBe(403);
      expect(await jsonOf(refused)).toMatchObject({ field: 'authorization' });
      expect((await as(null, '/v1/users/routed/devices')).status).toBe(401);
      const bad = await as('gatekeeper', `/v1/users/${'x'.repeat(cfg.maxIdLength + 1)}/devices`);
      expect(bad.status).toBe(400);
      expect(await jsonOf(bad)).toMatchObject({ field: 'userId' });
    } finally {
      users.delete('routed');
      users.delete('hidden');
      gated.closeAllConnections();
      await new Promise((r) => gated.close(r));
    }
  });

  it('devices: with no trusted callers configured, only the user itself may read its device presence', async () => {
    expect((await get('/v1/users/alice/devices', 'bob')).status).toBe(403);
    expect((await get('/v1/users/alice/devices', 'alice')).status).toBe(200);
  });

  it('gate: the user itself is decided on its real status, invisible or not', async () => {
    const res = await get('/v1/gate?userId=ghost&channel=mobile-push', 'ghost');
    expect(await jsonOf(res)).toEqual({ deliver: true, reason: 'online', status: 'Online', userKnown: true, targetGateways: ['gw-g'] });
    const mail = await get('/v1/gate?userId=ghost&channel=email', 'ghost');
    expect(await jsonOf(mail)).toEqual({ deliver: true, reason: 'store-and-forward', status: 'Online', userKnown: true, targetGateways: null });
  });

  const long = 'x'.repeat(cfg.maxIdLength + 1);
  it.each([
    ['GET', `/v1/users/${long}/presence`, null, 'userId'],
    ['POST', '/v1/presence:batchGet', '{"userIds":[]}', 'userIds'],
    ['POST', '/v1/presence:batchGet', '{"userIds":["a","b","c","d","e","f"]}', 'userIds'],
    ['POST', '/v1/presence:batchGet', '{"userIds":["a",""]}', 'userIds[1]'],
    ['POST', '/v1/presence:batchGet', '{"userIds":"a"}', 'userIds'],
    ['POST', '/v1/presence:batchGet', '{}', 'userIds'],
    ['POST', '/v1/presence:batchGet', '[1]', 'body'],
    ['POST', '/v1/presence:batchGet', '{"userIds":', 'body'],
    ['GET', `/v1/rooms/doc/${long}`, null, 'id'],
    ['GET', `/v1/rooms/${long}/1`, null, 'kind'],
    ['GET', '/v1/gate?channel=email', null, 'userId'],
    ['GET', '/v1/gate?userId=a', null, 'channel'],
    ['GET', '/v1/gate?userId=a&channel=carrier-pigeon', null, 'channel'],
    ['GET', '/v1/gate?userId=a&channel=email&bypassDoNotDisturb=maybe', null, 'bypassDoNotDisturb'],
    ['GET', '/v1/presence/stream', null, 'userIds'],
    ['GET', '/v1/presence/stream?userIds=a,b,c,d,e,f', null, 'userIds'],
    ['GET', '/v1/presence/stream?userIds=a,,b', null, 'userIds[1]'],
  ])('%s %s %s → 400 naming %s', async (method, path, body, field) => {
    const res = method === 'GET' ? await get(path) : await post(path, body as string);
    expect(res.status).toBe(400);
    const json = await jsonOf(res);
    expect(json.field).toBe(field);
    expect(typeof json.error).toBe('string');
    expect(JSON.stringify(json)).not.toMatch(/at .*\.ts:\d+/);
  });

  it.each([
    ['no header', undefined],
    ['not bearer', 'Basic abc'],
    ['garbage token', 'Bearer abc.def'],
    ['wrong secret', 'WRONG'],
    ['expired', 'EXPIRED'],
  ])('every /v1 route answers 401 naming authorization: %s', async (_name, header) => {
    const auth = header === 'WRONG' ? `Bearer ${await mintToken(`${SECRET}-x`, 'alice')}`
      : header === 'EXPIRED' ? `Bearer ${await mintToken(SECRET, 'alice', -60)}` : header;
    for (const [method, path] of [
      ['GET', '/v1/users/alice/presence'], ['POST', '/v1/presence:batchGet'], ['GET', '/v1/rooms/doc/42'],
      ['GET', '/v1/gate?userId=alice&channel=email'], ['GET', '/v1/presence/stream?userIds=alice'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method, headers: auth ? { authorization: auth } : {} });
      expect(res.status).toBe(401);
      expect((await jsonOf(res)).field).toBe('authorization');
    }
  });

  it('the stream accepts ?access_token= (EventSource cannot set headers); other routes do not', async () => {
    expect((await fetch(`${base}/v1/users/alice/presence?access_token=${tokens['alice']}`)).status).toBe(401);
    const ctrl = new AbortController();
    const res = await fetch(`${base}/v1/presence/stream?userIds=alice&access_token=${tokens['alice']}`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    ctrl.abort();
  });

  it('readyz follows the replica; healthz and metrics need no token', async () => {
    ready = false;
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/presence_query_requests_total\{route="\/v1\/users\/:userId\/presence",code="200"\}/);
    expect(metrics).toMatch(/presence_query_sse_clients /);
    // The clock-driven reads above (Away, then Offline, from an Online snapshot) count as decayed.
    expect(metrics).toMatch(/presence_query_decayed_reads_total [1-9]/);
  });

  it('the stream sends current state first, then changes from new snapshots; a client that disconnects is cleaned up', async () => {
    const ctrl = new AbortController();
    const res = await get('/v1/presence/stream?userIds=alice,dnd,newcomer', 'bob', { signal: ctrl.signal });
    const events = sseEvents(res);
    const firstEvents = [await events.next(), await events.next(), await events.next()];
    for (const e of firstEvents) api.checkComponent('Presence', e);
    const first = firstEvents.map((e) => `${e.userId}:${e.status}`);
    expect(first.sort()).toEqual(['alice:Online', 'dnd:DoNotDisturb', 'newcomer:Offline']);
    expect(streams.size).toBe(1);
    users.set('newcomer', view('newcomer'));
    streams.updated('newcomer');
    expect(await events.next()).toMatchObject({ userId: 'newcomer', status: 'Online' });
    users.set('alice', view('alice', { version: 4 })); // nothing a reader sees changed: no event
    streams.updated('alice');
    users.set('alice', view('alice', { override: { status: 'Busy', customText: null, expiresAt: null }, status: 'Busy' }));
    streams.updated('alice');
    expect(await events.next()).toMatchObject({ userId: 'alice', status: 'Busy' });
    ctrl.abort();
    await waitUntil(() => streams.size === 0);
    users.set('alice', view('alice'));
  });

  it('serves its OpenAPI document, and the answers of every route were checked against it', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(QUERY_OPENAPI)));
    for (const answer of [
      'GET /v1/users/{userId}/presence 200', 'GET /v1/users/{userId}/presence 400', 'GET /v1/users/{userId}/presence 401',
      'POST /v1/presence:batchGet 200', 'POST /v1/presence:batchGet 400', 'GET /v1/rooms/{kind}/{id} 200', 'GET /v1/rooms/{kind}/{id} 400',
      'GET /v1/gate 200', 'GET /v1/gate 400', 'GET /v1/gate 403',
      'GET /v1/users/{userId}/devices 200', 'GET /v1/users/{userId}/devices 400', 'GET /v1/users/{userId}/devices 401', 'GET /v1/users/{userId}/devices 403', 'GET /v1/presence/stream 200', 'GET /v1/presence/stream 400',
      'GET /healthz 200', 'GET /readyz 200', 'GET /readyz 503', 'GET /metrics 200',
    ]) expect([answer, api.seen.has(answer)]).toEqual([answer, true]);
    // The checker refuses what the document does not allow.
    expect(() => api.check('GET', '/v1/users/x/presence', 200, 'application/json', { userId: 'x', status: 'Sleeping' })).toThrow(/does not match/);
    expect(() => api.check('GET', '/v1/users/x/presence', 418, 'application/json', {})).toThrow(/status 418 not documented/);
    expect(() => api.check('GET', '/v1/nowhere', 200, 'application/json', {})).toThrow(/no such path/);
  });

  it('unknown paths are 404 JSON', async () => {
    const res = await get('/v2/anything');
    expect(res.status).toBe(404);
    expect(await jsonOf(res)).toEqual({ error: 'not found', field: 'path' });
  });
});

async function waitUntil(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(probe()).toBe(true);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jsonOf = async (res: Response): Promise<any> => res.json();
