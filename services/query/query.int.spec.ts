/**
 * The read side over the real pipeline: broker, registry, the processor and the query service,
 * with shortened thresholds. Heartbeats in → HTTP answers; the SSE stream turns Online → Away →
 * Offline by the clock alone; a restarted query service is ready only after catching up, then
 * answers the same.
 */
import type { Producer } from 'kafkajs';
import { DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig } from '../core';
import type { PresenceHeartbeat, PresenceOverride, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { sseEvents } from '../../test/sse';
import { startQueryService, type QueryService } from './service';

const result = validateConfig({ heartbeatIntervalMs: 500, offlineAfterMs: 3_000, awayAfterMs: 1_500, roomMemberExpiryMs: 3_000, refreshLeadMs: 500, sessionRetentionMs: 60_000 });
if (!result.ok) throw new Error('bad test config');
const cfg: PresenceConfig = result.config;
const SECRET = 'query-int-test-secret-0123456789-abcdef';
const log = createLogger('query-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

describe('query service over the real pipeline', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let producer: Producer;
  let query: QueryService;
  let token: string;
  let frozen: number | null = null;
  const clock = () => frozen ?? Date.now();

  const start = async (): Promise<QueryService> =>
    startQueryService({
      kafka: testKafka('query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
      auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log, host: '127.0.0.1', port: 0,
      batchLimit: 1_000, gateCallers: [], keepAliveMs: 60_000, clock,
    });
  const get = async (q: QueryService, path: string) => {
    const res = await fetch(`${q.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const heartbeat = async (userId: string, sessionId: string, idleMs: number, observedAt = Date.now()) => {
    const v: PresenceHeartbeat = { kind: 'heartbeat', userId, deviceId: `${userId}-${sessionId}`, sessionId, platform: 'web', observedAt, idleMs, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };
  const override = async (userId: string, status: PresenceOverride['status']) => {
    const v: PresenceOverride = { kind: 'status', userId, eventId: `${userId}-${status}`, setAt: Date.now(), status, customText: 'heads down', expiresAt: null, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null };
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: userId, value: await serde.encode('override', v) }] });
  };

  beforeAll(async () => {
    prefix = uniquePrefix('query');
    ({ serde } = await provisionPrefix(prefix, 2));
    token = await mintToken(SECRET, 'reader');
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    producer = testKafka().producer();
    await producer.connect();
    query = await start();
    await query.startReplica();
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
  });

  afterAll(async () => {
    await query?.stop();
    await producer?.disconnect();
    await processor?.stop();
  });

  it('heartbeats, an override and a room join are answered by the HTTP routes', async () => {
    // Keep alice and dora alive for the length of this test (the thresholds are short).
    const beat = async () => {
      await heartbeat('alice', 'tab1', 0);
      await heartbeat('alice', 'tab2', 60_000);
      await heartbeat('dora', 'phone', 0);
    };
    await beat();
    const keepAlive = setInterval(() => void beat(), 400);
    try {
      await override('dora', 'DoNotDisturb');
      const join: RoomEvent = { kind: 'join', roomKind: 'doc', roomId: '42', userId: 'alice', sessionId: 'tab1', observedAt: Date.now(), metadata: { cursor: '7' }, ephemeral: null, ephemeralTtlMs: null };
      await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/42', value: await serde.encode('room', join) }] });

      const alice = await waitFor(async () => {
        const r = await get(query, '/v1/users/alice/presence');
        return (r.body['devices'] as unknown[]).length === 2 && r;
      }, 'alice with two devices');
      expect(alice.status).toBe(200);
      expect(alice.body).toMatchObject({ userId: 'alice', status: 'Online', override: null });
      expect(alice.body['lastSeen']).toEqual(expect.any(Number));

      await waitFor(async () => (await get(query, '/v1/users/dora/presence')).body['status'] === 'DoNotDisturb', 'dora in DND');
      expect((await get(query, '/v1/users/dora/presence')).body['override']).toEqual({ status: 'DoNotDisturb', customText: 'heads down', expiresAt: null });

      const room = await waitFor(async () => {
        const r = await get(query, '/v1/rooms/doc/42');
        return (r.body['members'] as unknown[]).length === 1 && r.body;
      }, 'alice in doc/42');
      expect(room['members']).toEqual([expect.objectContaining({ userId: 'alice', sessionId: 'tab1', metadata: { cursor: '7' } })]);

      const res = await fetch(`${query.url}/v1/presence:batchGet`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userIds: ['alice', 'dora', 'nobody'] }),
      });
      const batch = (await res.json()) as { presences: Array<{ userId: string; status: string }> };
      expect(batch.presences.map((p) => `${p.userId}:${p.status}`)).toEqual(['alice:Online', 'dora:DoNotDisturb', 'nobody:Offline']);

      expect((await get(query, '/v1/gate?userId=dora&channel=mobile-push')).body).toMatchObject({ deliver: false, reason: 'suppressed-dnd' });
      expect((await get(query, '/v1/gate?userId=dora&channel=email')).body).toMatchObject({ deliver: true, reason: 'store-and-forward' });
      expect((await get(query, '/v1/gate?userId=dora&channel=mobile-push&bypassDoNotDisturb=true')).body).toMatchObject({ deliver: true, reason: 'bypassed-dnd' });
      expect((await get(query, '/v1/gate?userId=alice&channel=websocket')).body).toMatchObject({ deliver: true, reason: 'online' });
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('typing in a room: the room read and the room stream show it, and the stream drops it at its expiry by the clock', async () => {
    const room = async (kind: RoomEvent['kind'], extra: Partial<RoomEvent> = {}) => {
      const e: RoomEvent = { kind, roomKind: 'doc', roomId: 'typing', userId: 'tess', sessionId: 'tab', observedAt: Date.now(), metadata: null, ephemeral: null, ephemeralTtlMs: null, ...extra };
      await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/typing', value: await serde.encode('room', e) }] });
    };
    await room('join');
    await waitFor(async () => ((await get(query, '/v1/rooms/doc/typing')).body['members'] as unknown[]).length === 1, 'tess in the room');
    const ctrl = new AbortController();
    const res = await fetch(`${query.url}/v1/rooms/doc/typing/stream?access_token=${token}`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    const events = sseEvents(res, 'room');
    try {
      const first = await events.next();
      expect(first['members']).toMatchObject([{ userId: 'tess', ephemeral: null }]);
      await room('ephemeral', { ephemeral: { state: 'typing', target: 'comment-3' }, ephemeralTtlMs: 1_500 });
      const typing = await events.next();
      const member = (typing['members'] as { ephemeral: { state: string; target: string; expiresAt: number } }[])[0];
      expect(member?.ephemeral).toMatchObject({ state: 'typing', target: 'comment-3' });
      expect((await get(query, '/v1/rooms/doc/typing')).body['members']).toMatchObject([{ userId: 'tess', ephemeral: { state: 'typing', target: 'comment-3' } }]);
      // Nobody sends anything more: the lapse comes from the clock (the processor's timer and the reader's).
      const lapsed = await events.next(10_000);
      expect(lapsed['members']).toMatchObject([{ userId: 'tess', ephemeral: null }]);
      expect(Date.now()).toBeGreaterThanOrEqual(member?.ephemeral.expiresAt as number);
    } finally {
      ctrl.abort();
      await events.close();
    }
  });

  it('last-seen privacy is honoured by the single, batch, SSE and room reads of others; the user sees their own exactly', async () => {
    const setPrivacy = async (userId: string, lastSeenPrivacy: 'coarse' | 'hidden') => {
      const v: PresenceOverride = { kind: 'lastSeen', userId, eventId: `${userId}-lsp`, setAt: Date.now(), status: null, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy, activity: null, actor: null, reason: null };
      await producer.send({ topic: topicName('override', prefix), messages: [{ key: userId, value: await serde.encode('override', v) }] });
    };
    const beat = async () => {
      for (const u of ['cara', 'hank', 'ivan']) await heartbeat(u, 'tab', 0);
      const joins = ['cara', 'hank', 'ivan'].map(async (u) => ({
        key: 'doc/7', value: await serde.encode('room', { kind: 'heartbeat', roomKind: 'doc', roomId: '7', userId: u, sessionId: 'tab', observedAt: Date.now(), metadata: null, ephemeral: null, ephemeralTtlMs: null }),
      }));
      await producer.send({ topic: topicName('room', prefix), messages: await Promise.all(joins) });
    };
    for (const u of ['cara', 'hank', 'ivan']) {
      const join: RoomEvent = { kind: 'join', roomKind: 'doc', roomId: '7', userId: u, sessionId: 'tab', observedAt: Date.now(), metadata: null, ephemeral: null, ephemeralTtlMs: null };
      await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/7', value: await serde.encode('room', join) }] });
    }
    await beat();
    const keepAlive = setInterval(() => void beat(), 400);
    const ctrl = new AbortController();
    try {
      await setPrivacy('cara', 'coarse');
      await setPrivacy('hank', 'hidden');
      const noTimes = { status: 'Online', lastSeen: null, lastActive: null, statusSince: null };
      const cara = await waitFor(async () => {
        const r = await get(query, '/v1/users/cara/presence');
        return r.body['lastSeenApprox'] !== undefined && r.body;
      }, 'cara read coarsely');
      expect(cara).toMatchObject({ ...noTimes, lastSeenApprox: 'recently' });
      expect((cara['devices'] as unknown[]).length).toBe(1);
      expect(cara).not.toHaveProperty('lastSeenPrivacy');
      const hank = await waitFor(async () => {
        const r = await get(query, '/v1/users/hank/presence');
        return r.body['lastSeen'] === null && r.body;
      }, 'hank read without times');
      expect(hank).toMatchObject(noTimes);
      expect(hank).not.toHaveProperty('lastSeenApprox');
      expect((await get(query, '/v1/users/ivan/presence')).body['lastSeen']).toEqual(expect.any(Number));

      const res = await fetch(`${query.url}/v1/presence:batchGet`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ userIds: ['cara', 'hank', 'ivan'] }),
      });
      const batch = ((await res.json()) as { presences: Array<Record<string, unknown>> }).presences;
      expect(batch.map((p) => [p['userId'], p['lastSeen'] === null, p['lastSeenApprox'] ?? null])).toEqual([['cara', true, 'recently'], ['hank', true, null], ['ivan', false, null]]);

      const stream = await fetch(`${query.url}/v1/presence/stream?userIds=cara,hank`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
      const events = sseEvents(stream);
      try {
        const first = [await events.next(), await events.next()].sort((a, b) => a.userId.localeCompare(b.userId));
        expect(first[0]).toMatchObject({ userId: 'cara', ...noTimes, lastSeenApprox: 'recently' });
        expect(first[1]).toMatchObject({ userId: 'hank', ...noTimes });
      } finally {
        ctrl.abort();
        await events.close();
      }

      const room = await get(query, '/v1/rooms/doc/7');
      const lastSeenOf = Object.fromEntries((room.body['members'] as Array<{ userId: string; lastSeen: number | null }>).map((m) => [m.userId, m.lastSeen]));
      expect(lastSeenOf).toEqual({ cara: null, hank: null, ivan: expect.any(Number) });

      const own = await fetch(`${query.url}/v1/users/cara/presence`, { headers: { authorization: `Bearer ${await mintToken(SECRET, 'cara')}` } });
      expect(await own.json()).toMatchObject({ userId: 'cara', status: 'Online', lastSeen: expect.any(Number), lastSeenPrivacy: 'coarse' });
      const ownRoom = await fetch(`${query.url}/v1/rooms/doc/7`, { headers: { authorization: `Bearer ${await mintToken(SECRET, 'hank')}` } });
      const ownMembers = ((await ownRoom.json()) as { members: Array<{ userId: string; lastSeen: number | null }> }).members;
      expect(ownMembers.find((m) => m.userId === 'hank')?.lastSeen).toEqual(expect.any(Number));
      expect(ownMembers.find((m) => m.userId === 'cara')?.lastSeen).toBeNull();
    } finally {
      clearInterval(keepAlive);
    }
    await waitFor(() => query.streams.size === 0, 'the stream cleaned up');
  });

  it('the SSE stream delivers Online, then Away and Offline driven only by the clock, each within a second of its threshold', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${query.url}/v1/presence/stream?userIds=sse-user`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
    const events = sseEvents(res);
    try {
      expect(await events.next()).toMatchObject({ userId: 'sse-user', status: 'Offline', lastSeen: null });
      const observedAt = Date.now();
      await heartbeat('sse-user', 'tab1', 0, observedAt);
      expect(await events.next()).toMatchObject({ userId: 'sse-user', status: 'Online', lastSeen: observedAt });
      // Nothing is published after this: Away and Offline come from the clock.
      const away = await events.next();
      const awayAt = Date.now();
      expect(away).toMatchObject({ status: 'Away' });
      expect(awayAt).toBeGreaterThanOrEqual(observedAt + cfg.awayAfterMs);
      expect(awayAt).toBeLessThan(observedAt + cfg.awayAfterMs + 1_000);
      const offline = await events.next();
      const offlineAt = Date.now();
      expect(offline).toMatchObject({ status: 'Offline', devices: [] });
      expect(offlineAt).toBeGreaterThanOrEqual(observedAt + cfg.offlineAfterMs);
      expect(offlineAt).toBeLessThan(observedAt + cfg.offlineAfterMs + 1_000);
    } finally {
      ctrl.abort();
      await events.close();
    }
    await waitFor(() => query.streams.size === 0, 'the stream cleaned up');
  });

  it('a restarted query service answers 503 until it caught up, then the same answers', async () => {
    for (let i = 0; i < 50; i++) await heartbeat(`bulk-${i}`, 's', 0);
    await override('bulk-7', 'Busy');
    await waitFor(async () => (await get(query, '/v1/users/bulk-7/presence')).body['status'] === 'Busy', 'bulk-7 busy');
    await waitFor(() => query.replica.users.size >= 52 && processor.ready(), 'every bulk user replicated');

    const second = await start();
    try {
      expect((await fetch(`${second.url}/readyz`)).status).toBe(503);
      await second.startReplica();
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
      frozen = Date.now();
      const ids = [...query.replica.users.keys()].sort();
      const ask = async (q: QueryService) => {
        const res = await fetch(`${q.url}/v1/presence:batchGet`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ userIds: ids }),
        });
        return res.json();
      };
      expect(ids.length).toBeGreaterThanOrEqual(52);
      expect(await ask(second)).toEqual(await ask(query));
    } finally {
      frozen = null;
      await second.stop();
    }
  });
});
