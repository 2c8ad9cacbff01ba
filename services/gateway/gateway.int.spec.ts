/**
 * The reference gateway against the real broker and registry: what a socket or an HTTP client
 * sends is what lands on the input topics (keys, kinds, order), bursts are coalesced, a closed
 * socket ends its session, bad input is refused naming the field and the connection stays usable.
 * Each test has its own topic prefix and gateway.
 */
import type { Consumer } from 'kafkajs';
import WebSocket from 'ws';
import { DEFAULT_CONFIG, type PresenceConfig } from '../core';
import type { PresenceHeartbeat, PresenceOverride, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { provisionPrefix, step, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { OpenApiChecker } from '../../test/openapi';
import { GATEWAY_OPENAPI } from './openapi';
import { startGateway, type Gateway, type GatewayOptions } from './service';

const SECRET = 'gateway-test-secret-0123456789-abcdef';
// Every HTTP answer these tests get is checked against the gateway's OpenAPI document.
const api = new OpenApiChecker(GATEWAY_OPENAPI);
const fetch = (url: string, init?: RequestInit) => api.fetch(url, init);
const cfg: PresenceConfig = { ...DEFAULT_CONFIG };
const log = createLogger('gateway-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

interface Inputs {
  heartbeats: Array<PresenceHeartbeat & { key: string }>;
  overrides: Array<PresenceOverride & { key: string }>;
  rooms: Array<RoomEvent & { key: string }>;
}

interface Fixture {
  gateway: Gateway;
  inputs: Inputs;
  token(userId: string): Promise<string>;
  close(): Promise<void>;
}

const open: Fixture[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

/** A provisioned prefix, a gateway on a free port, and a reader of the three input topics. */
async function fixture(label: string, overrides: Partial<GatewayOptions> = {}): Promise<Fixture> {
  const prefix = uniquePrefix(label);
  const { serde } = await step(`provisioning ${prefix}`, provisionPrefix(prefix, 1));
  const gateway = await step('starting the gateway', startGateway({
    kafka: testKafka('gateway'), serde, prefix, cfg, auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log,
    host: '127.0.0.1', port: 0, gatewayId: 'gw-test', coalesceWindowMs: 1_500, reconnectGraceMs: 0, maxFrameBytes: 2_048,
    pingIntervalMs: 60_000, maxRoomsPerSession: 3, publishTimeoutMs: 15_000, lingerMs: 2, ...overrides,
  }));
  const inputs: Inputs = { heartbeats: [], overrides: [], rooms: [] };
  const consumer = await step('starting the input reader', tail(serde, prefix, inputs));
  const f: Fixture = {
    gateway, inputs,
    token: (userId) => mintToken(SECRET, userId),
    close: async () => {
      await gateway.stop();
      await consumer.disconnect();
    },
  };
  open.push(f);
  return f;
}

async function tail(serde: AvroSerde, prefix: string, inputs: Inputs): Promise<Consumer> {
  const consumer = testKafka('gateway-test-reader').consumer({ groupId: `${prefix}reader`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  const topics = { heartbeat: topicName('heartbeat', prefix), override: topicName('override', prefix), room: topicName('room', prefix) };
  for (const topic of Object.values(topics)) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const key = message.key?.toString() ?? '';
      if (topic === topics.heartbeat) inputs.heartbeats.push({ ...(await serde.decode('heartbeat', message.value)), key });
      else if (topic === topics.override) inputs.overrides.push({ ...(await serde.decode('override', message.value)), key });
      else inputs.rooms.push({ ...(await serde.decode('room', message.value)), key });
    },
  });
  return consumer;
}

type Answer = { type: string; id?: unknown; result?: string; code?: string; field?: string | null; error?: string; retriable?: boolean };

/** A test client: opens, waits for the welcome, and sends frames that expect an answer by id. */
class Client {
  private nextId = 1;
  readonly answers = new Map<unknown, Answer>();
  readonly unsolicited: Answer[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket, readonly welcome: Record<string, unknown>) {
    this.closed = new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Answer;
      if (msg.id !== undefined && msg.id !== null) this.answers.set(msg.id, msg);
      else this.unsolicited.push(msg);
    });
  }

  static async connect(url: string, query: Record<string, string>, headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(`${url}?${new URLSearchParams(query)}`, { headers });
    const welcome = await step(`the welcome of ${url}`, new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed with ${code} before the welcome`)));
    }));
    return new Client(ws, welcome);
  }

  async request(frame: Record<string, unknown>): Promise<Answer> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...frame, id }));
    return waitFor(() => this.answers.get(id), `an answer to frame ${id}`);
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000, 'done');
    return step('the close handshake', this.closed);
  }
}

/** Refused upgrades: the HTTP status and JSON body the gateway answered with. */
async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { field: string | null } }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { field: string | null } }));
    });
  });
}

const session = { deviceId: 'laptop', platform: 'web' };

describe('gateway over WebSocket', () => {
  it('publishes heartbeats keyed by the token user, coalesces a burst, and a close ends the session with its rooms', async () => {
    const f = await fixture('gw-ws');
    const c = await Client.connect(f.gateway.wsUrl, { ...session, sessionId: 'tab-1', access_token: await f.token('ana') });
    expect(c.welcome).toMatchObject({ type: 'welcome', userId: 'ana', deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', heartbeatIntervalMs: cfg.heartbeatIntervalMs });

    expect(await c.request({ type: 'heartbeat', idleMs: 60_000 })).toMatchObject({ type: 'ack', result: 'published' });
    expect(await c.request({ type: 'join', roomKind: 'doc', roomId: '42', metadata: { color: 'teal' } })).toMatchObject({ result: 'published' });
    // A burst inside the 1.5 s window (wide enough for four round trips on a busy machine): one held beat with the newest activity goes out at its end.
    for (const idleMs of [50_000, 0, 30_000, 90_000]) expect((await c.request({ type: 'heartbeat', idleMs })).result).toBe('coalesced');
    await waitFor(() => f.inputs.heartbeats.length >= 2 && f.inputs.rooms.length >= 2, 'the held heartbeat and its room renewal');
    await c.close();

    await waitFor(() => f.inputs.heartbeats.some((h) => h.kind === 'disconnect'), 'the clean disconnect');
    await waitFor(() => f.inputs.rooms.some((r) => r.kind === 'sessionEnded'), 'the session leaving its room');
    const hb = f.inputs.heartbeats;
    expect(hb.map((h) => [h.key, h.kind, h.userId, h.sessionId, h.deviceId, h.platform, h.gatewayId])).toEqual([
      ['ana', 'heartbeat', 'ana', 'tab-1', 'laptop', 'web', 'gw-test'],
      ['ana', 'heartbeat', 'ana', 'tab-1', 'laptop', 'web', 'gw-test'],
      ['ana', 'disconnect', 'ana', 'tab-1', 'laptop', 'web', 'gw-test'],
    ]);
    const [first, held] = hb as unknown as [PresenceHeartbeat, PresenceHeartbeat];
    expect(first.idleMs).toBe(60_000);
    expect(held.observedAt - held.idleMs).toBeGreaterThan(first.observedAt - first.idleMs); // the idle 0 beat's activity
    expect(held.idleMs).toBeLessThan(1_000);
    expect(f.inputs.rooms.map((r) => [r.key, r.kind, r.userId, r.sessionId])).toEqual([
      ['doc/42', 'join', 'ana', 'tab-1'],
      ['doc/42', 'heartbeat', 'ana', 'tab-1'],
      ['doc/42', 'sessionEnded', 'ana', 'tab-1'],
    ]);
    expect(f.inputs.rooms[0]?.metadata).toEqual({ color: 'teal' });
  });

  it('answers bad frames with an error naming the field and keeps the socket usable', async () => {
    const f = await fixture('gw-bad');
    const c = await Client.connect(f.gateway.wsUrl, { ...session, access_token: await f.token('bo') });
    c.ws.send('not json');
    await waitFor(() => c.unsolicited.find((m) => m.type === 'error'), 'an error for the unparseable frame');
    expect(c.unsolicited.find((m) => m.type === 'error')).toMatchObject({ field: '(frame)', code: 'wrong-type' });
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ type: 'dance' }, 'type', 'unknown-type'],
      [{ type: 'heartbeat', idleMs: -5 }, 'idleMs', 'negative'],
      [{ type: 'override', status: 'Asleep' }, 'status', 'not-allowed'],
      [{ type: 'override', status: 'Busy', userId: 'someone-else' }, 'userId', 'not-allowed'],
      // Who acts is the token's to say: a frame claiming an actor is refused, not trusted.
      [{ type: 'override', status: 'Busy', actor: { kind: 'admin', id: 'root' } }, 'actor', 'not-allowed'],
      [{ type: 'activity', activity: 'Napping' }, 'activity', 'not-allowed'],
      [{ type: 'activity', activity: 'Custom', emoji: '🎉'.repeat(20) }, 'emoji', 'too-long'],
      [{ type: 'activity', activity: 'Presenting', expiresAt: 1 }, 'expiresAt', 'invalid-range'],
      [{ type: 'join', roomKind: 'doc' }, 'roomId', 'missing'],
      [{ type: 'join', roomKind: 'doc', roomId: '1', metadata: { big: 'x'.repeat(1_500) } }, 'metadata', 'too-large'],
    ];
    for (const [frame, field, code] of cases) expect(await c.request(frame)).toMatchObject({ type: 'error', field, code });
    for (const roomId of ['1', '2', '3']) expect(await c.request({ type: 'join', roomKind: 'doc', roomId })).toMatchObject({ result: 'published' });
    expect(await c.request({ type: 'join', roomKind: 'doc', roomId: '4' })).toMatchObject({ type: 'error', code: 'too-many-entries', field: 'roomId' });
    // Still usable: a good override goes through, and nothing refused reached Kafka.
    expect(await c.request({ type: 'override', status: 'DoNotDisturb', customText: 'focus', reason: 'deadline' })).toMatchObject({ type: 'ack', result: 'published' });
    expect(await c.request({ type: 'activity', activity: 'Presenting' })).toMatchObject({ type: 'ack', result: 'published' });
    await waitFor(() => f.inputs.overrides.length === 2 && f.inputs.rooms.length === 3, 'the override, the activity and three joins');
    expect(f.inputs.overrides[0]).toMatchObject({ key: 'bo', kind: 'status', userId: 'bo', status: 'DoNotDisturb', customText: 'focus', actor: { kind: 'user', id: 'bo' }, reason: 'deadline' });
    expect(f.inputs.overrides[1]).toMatchObject({ key: 'bo', kind: 'activity', activity: { source: 'manual', activity: 'Presenting', customText: null, emoji: null, expiresAt: null }, actor: { kind: 'user', id: 'bo' } });
    expect(f.inputs.heartbeats).toEqual([]);
    await c.close();
  });

  it('closes the socket on an oversize frame (1009) and ends its session', async () => {
    const f = await fixture('gw-big');
    const c = await Client.connect(f.gateway.wsUrl, { ...session, sessionId: 's-big', access_token: await f.token('cy') });
    expect(await c.request({ type: 'heartbeat', idleMs: 0 })).toMatchObject({ result: 'published' });
    c.ws.send(JSON.stringify({ type: 'heartbeat', idleMs: 0, pad: 'x'.repeat(4_000) }));
    expect((await c.closed).code).toBe(1009);
    await waitFor(() => f.inputs.heartbeats.some((h) => h.kind === 'disconnect' && h.sessionId === 's-big'), 'the disconnect');
  });

  it('refuses upgrades without a valid token (401) or with a bad session (400), naming the field', async () => {
    const f = await fixture('gw-auth');
    expect(await refusedUpgrade(`${f.gateway.wsUrl}?deviceId=d`)).toEqual({ status: 401, body: expect.objectContaining({ field: 'authorization' }) });
    expect(await refusedUpgrade(`${f.gateway.wsUrl}?deviceId=d&access_token=not.a.jwt`)).toMatchObject({ status: 401, body: { field: 'authorization' } });
    const wrongKey = await mintToken('another-secret-0123456789-0123456789', 'dee');
    expect(await refusedUpgrade(`${f.gateway.wsUrl}?deviceId=d`, { authorization: `Bearer ${wrongKey}` })).toMatchObject({ status: 401 });
    const token = await f.token('dee');
    expect(await refusedUpgrade(`${f.gateway.wsUrl}?access_token=${token}`)).toMatchObject({ status: 400, body: { field: 'deviceId' } });
    expect(await refusedUpgrade(`${f.gateway.wsUrl}?deviceId=d&platform=toaster&access_token=${token}`)).toMatchObject({ status: 400, body: { field: 'platform' } });
    // The header works as well as the query parameter.
    const c = await Client.connect(f.gateway.wsUrl, session, { authorization: `Bearer ${token}` });
    expect(c.welcome['userId']).toBe('dee');
    await c.close();
  });

  it('a second socket of the same session replaces the first without ending the session', async () => {
    const f = await fixture('gw-replace');
    const token = await f.token('eve');
    const a = await Client.connect(f.gateway.wsUrl, { ...session, sessionId: 'tab', access_token: token });
    expect(await a.request({ type: 'heartbeat', idleMs: 0 })).toMatchObject({ result: 'published' });
    const b = await Client.connect(f.gateway.wsUrl, { ...session, sessionId: 'tab', access_token: token });
    expect((await a.closed).code).toBe(4001);
    expect(f.gateway.sessions.socketCount).toBe(1);
    // The session lives on: the next frame is a join, then b's clean close ends it once.
    expect(await b.request({ type: 'join', roomKind: 'doc', roomId: '7' })).toMatchObject({ result: 'published' });
    await b.close();
    await waitFor(() => f.inputs.heartbeats.some((h) => h.kind === 'disconnect'), 'the disconnect');
    await waitFor(() => f.inputs.rooms.length === 2, 'join and sessionEnded');
    expect(f.inputs.heartbeats.map((h) => h.kind)).toEqual(['heartbeat', 'disconnect']);
    expect(f.inputs.rooms.map((r) => r.kind)).toEqual(['join', 'sessionEnded']);
  });

  it('a socket that dies without a close handshake may come back within the grace; stopping the gateway ends every session', async () => {
    const f = await fixture('gw-grace', { reconnectGraceMs: 10_000 });
    const token = await f.token('fay');
    const a = await Client.connect(f.gateway.wsUrl, { ...session, sessionId: 'phone-1', access_token: token });
    expect(await a.request({ type: 'heartbeat', idleMs: 0 })).toMatchObject({ result: 'published' });
    a.ws.terminate(); // no close frame: the gateway sees 1006
    await waitFor(() => f.gateway.sessions.socketCount === 0, 'the gateway noticing the dead socket');
    const back = await Client.connect(f.gateway.wsUrl, { ...session, sessionId: 'phone-1', access_token: token });
    expect(Number(await f.gateway.metrics.reconnects.get().then((m) => m.values[0]?.value ?? 0))).toBe(1);
    expect(Number(await f.gateway.metrics.connects.get().then((m) => m.values[0]?.value ?? 0))).toBeGreaterThanOrEqual(2); // the first socket and this one
    const other = await Client.connect(f.gateway.wsUrl, { ...session, deviceId: 'tablet', sessionId: 'tab-9', access_token: token });
    expect(await other.request({ type: 'join', roomKind: 'doc', roomId: '1' })).toMatchObject({ result: 'published' });

    await f.gateway.stop();
    expect((await back.closed).code).toBe(1001);
    expect((await other.closed).code).toBe(1001);
    // One partition, one key: everything published before the last disconnect is already here.
    await waitFor(() => f.inputs.heartbeats.some((h) => h.kind === 'disconnect' && h.sessionId === 'tab-9'), 'tab-9 ended');
    expect(f.inputs.heartbeats.map((h) => [h.kind, h.sessionId])).toEqual([['heartbeat', 'phone-1'], ['disconnect', 'phone-1'], ['disconnect', 'tab-9']]);
    await waitFor(() => f.inputs.rooms.some((r) => r.kind === 'sessionEnded' && r.sessionId === 'tab-9'), 'tab-9 leaving its room');
  });
});

describe('gateway rate limit', () => {
  it('limits commands other than heartbeats per user, over both transports, with a retriable error', async () => {
    const f = await fixture('gw-limit', { commandRateLimit: { perSecond: 1, burst: 2 } });
    const token = await f.token('jo');
    const c = await Client.connect(f.gateway.wsUrl, { ...session, access_token: token });
    expect(await c.request({ type: 'override', status: 'Busy' })).toMatchObject({ result: 'published' });
    expect(await c.request({ type: 'join', roomKind: 'doc', roomId: '1' })).toMatchObject({ result: 'published' });
    const limited = await c.request({ type: 'override', status: 'DoNotDisturb' });
    expect(limited).toMatchObject({ type: 'error', code: 'rate-limited', retriable: true });
    expect((limited as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    // Heartbeats are not limited (coalescing bounds them), and HTTP shares the user's bucket.
    expect(await c.request({ type: 'heartbeat', idleMs: 0 })).toMatchObject({ result: 'published' });
    const res = await fetch(`${f.gateway.url}/v1/status`, {
      signal: AbortSignal.timeout(20_000), method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'Busy' }),
    });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ code: 'rate-limited', retriable: true });
    await waitFor(() => f.inputs.overrides.length >= 1 && f.inputs.rooms.length >= 2 && f.inputs.heartbeats.length >= 1, 'what was allowed');
    expect(f.inputs.overrides.map((o) => o.status)).toEqual(['Busy']);
    expect(f.inputs.rooms.map((r) => r.kind)).toEqual(['join', 'heartbeat']); // the heartbeat renews the joined room
    await c.close();
  });
});

describe('gateway over HTTP', () => {
  it('accepts the same commands as the socket and refuses bad ones naming the field', async () => {
    const f = await fixture('gw-http');
    const auth = { authorization: `Bearer ${await f.token('gus')}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body: unknown, headers: Record<string, string> = auth) => {
      const res = await fetch(`${f.gateway.url}${path}`, { method, headers, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await call('POST', '/v1/heartbeat', { deviceId: 'phone', sessionId: 'app-1', platform: 'ios', idleMs: 10 })).toEqual({ status: 202, body: { result: 'published' } });
    expect(await call('POST', '/v1/heartbeat', { deviceId: 'phone', sessionId: 'app-1', platform: 'ios', idleMs: 0 })).toEqual({ status: 202, body: { result: 'coalesced' } });
    expect(await call('PUT', '/v1/status', { status: 'Busy', customText: 'in a call', expiresAt: Date.now() + 60_000 })).toMatchObject({ status: 202 });
    expect(await call('PUT', '/v1/visibility', { visibility: 'nobody' })).toMatchObject({ status: 202 });
    expect(await call('PUT', '/v1/last-seen-privacy', { lastSeenPrivacy: 'coarse' })).toMatchObject({ status: 202 });
    expect(await call('PUT', '/v1/last-seen-privacy', { lastSeenPrivacy: 'friends' })).toMatchObject({ status: 400, body: { field: 'lastSeenPrivacy', code: 'not-allowed' } });
    const meetingEnds = Date.now() + 60_000;
    expect(await call('PUT', '/v1/activity', { activity: 'InAMeeting', source: 'calendar', customText: 'Design review', emoji: '📅', expiresAt: meetingEnds, reason: 'sync' })).toEqual({ status: 202, body: { result: 'published' } });
    expect(await call('PUT', '/v1/activity', { activity: 'Sleeping' })).toMatchObject({ status: 400, body: { field: 'activity', code: 'not-allowed' } });
    expect(await call('PUT', '/v1/activity', { activity: 'Custom', customText: 'x'.repeat(101) })).toMatchObject({ status: 400, body: { field: 'customText', code: 'too-long' } });
    expect(await call('PUT', '/v1/activity', { activity: 'Focusing', expiresAt: Date.now() - 1_000 })).toMatchObject({ status: 400, body: { field: 'expiresAt', code: 'invalid-range' } });
    expect(await call('PUT', '/v1/activity', { activity: 'Focusing', source: 'crm' })).toMatchObject({ status: 400, body: { field: 'source', code: 'not-allowed' } });
    expect(await call('PUT', '/v1/activity', { activity: 'Focusing', actor: { kind: 'admin', id: 'x' } })).toMatchObject({ status: 400, body: { field: 'actor' } });
    expect(await call('POST', '/v1/rooms/doc/99/join', { sessionId: 'app-1', metadata: { mode: 'view' } })).toMatchObject({ status: 202 });
    expect(await call('PUT', '/v1/rooms/doc/99/ephemeral', { sessionId: 'app-1', ephemeral: { state: 'typing', target: 'c-1' }, ephemeralTtlMs: 3_000 })).toMatchObject({ status: 202 });
    expect(await call('PUT', '/v1/rooms/doc/99/ephemeral', { sessionId: 'app-1', ephemeral: { state: 'hi there' } })).toMatchObject({ status: 400, body: { field: 'ephemeral.state', code: 'invalid-character' } });
    expect(await call('PUT', '/v1/rooms/doc/99/ephemeral', { sessionId: 'app-1', ephemeral: { state: 'typing' }, ephemeralTtlMs: 60_000 })).toMatchObject({ status: 400, body: { field: 'ephemeralTtlMs' } });
    expect(await call('POST', '/v1/rooms/doc/99/leave', { sessionId: 'app-1' })).toMatchObject({ status: 202 });
    expect(await call('POST', '/v1/disconnect', { deviceId: 'phone', sessionId: 'app-1', platform: 'ios' })).toMatchObject({ status: 202 });

    expect(await call('POST', '/v1/heartbeat', { deviceId: 'phone', sessionId: 'app-1', idleMs: 'long' })).toMatchObject({ status: 400, body: { field: 'idleMs', code: 'wrong-type' } });
    expect(await call('POST', '/v1/heartbeat', { sessionId: 'app-1' })).toMatchObject({ status: 400, body: { field: 'deviceId' } });
    expect(await call('PUT', '/v1/status', { status: 'Busy', userId: 'hal' })).toMatchObject({ status: 403, body: { field: 'userId' } });
    expect(await call('PUT', '/v1/status', '{"status":')).toMatchObject({ status: 400, body: { field: 'body' } });
    expect(await call('PUT', '/v1/status', [1])).toMatchObject({ status: 400, body: { field: 'body' } });
    expect(await call('POST', '/v1/rooms/a%2Fb/1/join', { sessionId: 's' })).toMatchObject({ status: 400, body: { field: 'roomKind' } });
    expect(await call('PUT', '/v1/status', { status: 'Busy', customText: 'x'.repeat(3_000) })).toMatchObject({ status: 413, body: { field: 'body' } });
    expect(await call('PUT', '/v1/status', { status: 'Busy' }, { 'content-type': 'application/json' })).toMatchObject({ status: 401, body: { field: 'authorization' } });

    await waitFor(() => f.inputs.heartbeats.some((h) => h.kind === 'disconnect') && f.inputs.overrides.length === 4 && f.inputs.rooms.length === 3, 'every accepted command');
    // The held beat (newer activity) goes out before the disconnect ends the session.
    expect(f.inputs.heartbeats.map((h) => [h.kind, h.userId, h.sessionId, h.platform])).toEqual([
      ['heartbeat', 'gus', 'app-1', 'ios'], ['heartbeat', 'gus', 'app-1', 'ios'], ['disconnect', 'gus', 'app-1', 'ios'],
    ]);
    expect(f.inputs.overrides.map((o) => [o.kind, o.status, o.visibility, o.lastSeenPrivacy])).toEqual([
      ['status', 'Busy', null, null], ['visibility', null, 'nobody', null], ['lastSeen', null, null, 'coarse'], ['activity', null, null, null],
    ]);
    expect(f.inputs.overrides[3]).toMatchObject({
      key: 'gus', userId: 'gus', actor: { kind: 'user', id: 'gus' }, reason: 'sync',
      activity: { source: 'calendar', activity: 'InAMeeting', customText: 'Design review', emoji: '📅', expiresAt: meetingEnds },
    });
    expect(f.inputs.rooms.map((r) => [r.key, r.kind, r.metadata, r.ephemeral, r.ephemeralTtlMs])).toEqual([
      ['doc/99', 'join', { mode: 'view' }, null, null], ['doc/99', 'ephemeral', null, { state: 'typing', target: 'c-1' }, 3_000], ['doc/99', 'leave', null, null, null],
    ]);
  });

  it('an HTTP disconnect of a session held by a socket ends it once and closes that socket', async () => {
    const f = await fixture('gw-http-ws');
    const token = await f.token('ivy');
    const c = await Client.connect(f.gateway.wsUrl, { ...session, sessionId: 'tab-3', access_token: token });
    expect(await c.request({ type: 'heartbeat', idleMs: 0 })).toMatchObject({ result: 'published' });
    const res = await fetch(`${f.gateway.url}/v1/disconnect`, {
      signal: AbortSignal.timeout(20_000), method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId: 'laptop', sessionId: 'tab-3', platform: 'web' }),
    });
    expect(res.status).toBe(202);
    expect(await c.closed).toEqual({ code: 4002, reason: 'session ended by a disconnect request' });
    expect(f.gateway.sessions.socketCount).toBe(0);
    await waitFor(() => f.inputs.heartbeats.some((h) => h.kind === 'disconnect'), 'the disconnect');
    expect(f.inputs.heartbeats.map((h) => h.kind)).toEqual(['heartbeat', 'disconnect']);
  });

  it('serves the browser client module to any origin', async () => {
    const f = await fixture('gw-client');
    const res = await fetch(`${f.gateway.url}/client/presence-client.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(await res.text()).toContain('export function connectPresence');
  });
});

describe('gateway OpenAPI document', () => {
  it('is served, and the HTTP answers the tests above got were checked against it', async () => {
    const f = await fixture('gw-openapi');
    const res = await fetch(`${f.gateway.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(GATEWAY_OPENAPI)));
    for (const answer of [
      'POST /v1/heartbeat 202', 'POST /v1/heartbeat 400', 'POST /v1/disconnect 202', 'PUT /v1/status 202', 'PUT /v1/status 400', 'PUT /v1/status 401',
      'PUT /v1/status 403', 'PUT /v1/status 413', 'PUT /v1/status 429', 'PUT /v1/visibility 202', 'PUT /v1/last-seen-privacy 202', 'PUT /v1/last-seen-privacy 400',
      'PUT /v1/activity 202', 'PUT /v1/activity 400',
      'POST /v1/rooms/{roomKind}/{roomId}/join 202', 'POST /v1/rooms/{roomKind}/{roomId}/join 400', 'POST /v1/rooms/{roomKind}/{roomId}/leave 202',
      'GET /client/presence-client.js 200',
    ]) expect([answer, api.seen.has(answer)]).toEqual([answer, true]);
  });
});
