/**
 * The history service over the real broker and registry, fed by the real processor: a scripted
 * (compressed) day of heartbeats, overrides and room events for a few users, then the history
 * answers checked against the changes read back from the topics (the processor stamps transitions
 * with its own clock, so the instants come from what it wrote; statuses and causes are the script's),
 * a room's members at three instants, one visibility case, and a restart that resumes from the
 * offsets stored in the index. Every answer is checked against the service's OpenAPI document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Producer } from 'kafkajs';
import { validateConfig, type PresenceConfig } from '../core';
import type { PresenceChange, PresenceHeartbeat, PresenceOverride, RoomChange, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { LevelPartitionStore } from '../processor/store';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { OpenApiChecker } from '../../test/openapi';
import { HISTORY_OPENAPI } from './openapi';
import { startHistoryService, type HistoryService } from './service';

const cfgResult = validateConfig({
  heartbeatIntervalMs: 300, offlineAfterMs: 1_500, awayAfterMs: 2_500, roomMemberExpiryMs: 1_500,
  refreshLeadMs: 300, sessionRetentionMs: 60_000,
});
if (!cfgResult.ok) throw new Error('bad test config');
const cfg: PresenceConfig = cfgResult.config;
const SECRET = 'history-test-secret-0123456789-abcdefghij';
const api = new OpenApiChecker(HISTORY_OPENAPI);

describe('history service', () => {
  const log = createLogger('history-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let producer: Producer;
  let reader: Consumer;
  let history: HistoryService | null = null;
  let processorDir: string;
  let historyDir: string;
  const changes: PresenceChange[] = [];
  const roomChanges: RoomChange[] = [];
  const tokens: Record<string, string> = {};
  let T0 = 0;

  const startHistory = async () => {
    const s = await startHistoryService({
      kafka: testKafka('history'), serde, prefix, cfg, auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log,
      host: '127.0.0.1', port: 0, dataDir: historyDir, maxWindowDays: 31,
    });
    await s.startIndexer();
    return s;
  };
  const get = async (path: string, as: string | null = 'ann') => {
    const res = await api.fetch(`${(history as HistoryService).url}${path}`, { headers: as ? { authorization: `Bearer ${tokens[as]}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    prefix = uniquePrefix('hist');
    ({ serde } = await provisionPrefix(prefix, 2));
    processorDir = mkdtempSync(join(tmpdir(), 'presence-hist-proc-'));
    historyDir = mkdtempSync(join(tmpdir(), 'presence-hist-index-'));
    for (const u of ['ann', 'bob', 'cat']) tokens[u] = await mintToken(SECRET, u);
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: await LevelPartitionStore.open(processorDir), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    producer = testKafka().producer();
    await producer.connect();
    reader = testKafka().consumer({ groupId: `${prefix}reader`, maxWaitTimeInMs: 50 });
    await reader.connect();
    await reader.subscribe({ topics: [topicName('changes', prefix), topicName('roomChanges', prefix)], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === topicName('changes', prefix)) changes.push(await serde.decode('changes', message.value));
        else roomChanges.push(await serde.decode('roomChanges', message.value));
      },
    });
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
  });

  afterAll(async () => {
    await history?.stop();
    await producer?.disconnect();
    await reader?.disconnect();
    await processor?.stop();
    rmSync(processorDir, { recursive: true, force: true });
    rmSync(historyDir, { recursive: true, force: true });
  });

  const beat = async (userId: string, kind: 'heartbeat' | 'disconnect' = 'heartbeat') => {
    const v: PresenceHeartbeat = { kind, userId, deviceId: `${userId}-dev`, sessionId: `${userId}-s`, platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };
  const override = async (userId: string, o: Partial<PresenceOverride>) => {
    const v: PresenceOverride = {
      kind: 'status', userId, eventId: `${userId}-${Date.now()}-${Math.random()}`, setAt: Date.now(), status: null, customText: null, expiresAt: null,
      visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null, ...o,
    };
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: userId, value: await serde.encode('override', v) }] });
  };
  const room = async (kind: RoomEvent['kind'], userId: string) => {
    const e: RoomEvent = { kind, roomKind: 'doc', roomId: '42', userId, sessionId: `${userId}-s`, observedAt: Date.now(), metadata: null, ephemeral: null, ephemeralTtlMs: null };
    await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/42', value: await serde.encode('room', e) }] });
  };
  const changesOf = (userId: string) => changes.filter((c) => c.userId === userId).sort((a, b) => a.at - b.at);
  const waitChange = (userId: string, n: number, to: string) =>
    waitFor(() => changesOf(userId).length >= n && changesOf(userId)[n - 1]?.to === to, `${userId} change #${n} to ${to} (got ${changesOf(userId).map((c) => c.to).join(',')})`);
  /** Waits for a room change with exactly these members, then returns an instant while it holds. */
  const roomNow = async (members: string[]) => {
    await waitFor(() => roomChanges.some((c) => c.members.map((m) => m.userId).sort().join(',') === members.join(',')), `room change with [${members.join(',')}]`);
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    return t;
  };

  it('indexes a scripted day: exact intervals and causes, members at three instants, visibility, restart', async () => {
    T0 = Date.now() - 1;
    // cat hides first, then comes online: nobody else may see it.
    await override('cat', { kind: 'visibility', visibility: 'nobody' });
    await beat('cat');
    // ann: online, Do Not Disturb, available again, signs off cleanly. bob: online, then silence (the clock takes him offline).
    await beat('ann');
    await waitChange('ann', 1, 'Online');
    await beat('bob');
    await room('join', 'ann');
    const t1 = await roomNow(['ann']);
    await room('join', 'bob');
    const t2 = await roomNow(['ann', 'bob']);
    await override('ann', { status: 'DoNotDisturb' });
    await waitChange('ann', 2, 'DoNotDisturb');
    await room('leave', 'ann');
    const t3 = await roomNow(['bob']);
    await override('ann', { status: 'Available' });
    await waitChange('ann', 3, 'Online');
    await beat('ann', 'disconnect');
    await waitChange('ann', 4, 'Offline');
    await waitChange('bob', 2, 'Offline');
    await waitFor(() => roomChanges.some((c) => c.members.length === 0), 'the room emptied (bob expired)');
    await waitChange('cat', 1, 'Online');

    history = await startHistory();
    const now = Date.now();
    const q = `from=${T0}&to=${now}`;

    // ann: exactly the changes the processor wrote, statuses and causes as scripted.
    const ann = changesOf('ann');
    expect(ann.map((c) => [c.to, c.cause])).toEqual([['Online', 'event'], ['DoNotDisturb', 'event'], ['Online', 'event'], ['Offline', 'event']]);
    const annAt = ann.map((c) => c.at);
    const annHistory = await get(`/v1/users/ann/history?${q}`, 'bob');
    expect(annHistory.status).toBe(200);
    // setBy: the manual status settings that began an interval (these producers record no actor).
    const setBy = (status: string) => ({ at: expect.any(Number), status, actor: null, reason: null });
    expect(annHistory.body['intervals']).toEqual([
      { status: 'Offline', from: T0, to: annAt[0], cause: null, setBy: null },
      { status: 'Online', from: annAt[0], to: annAt[1], cause: 'event', setBy: null },
      { status: 'DoNotDisturb', from: annAt[1], to: annAt[2], cause: 'event', setBy: setBy('DoNotDisturb') },
      { status: 'Online', from: annAt[2], to: annAt[3], cause: 'event', setBy: setBy('Available') },
      { status: 'Offline', from: annAt[3], to: now, cause: 'event', setBy: null },
    ]);
    expect((annHistory.body['settings'] as Array<{ value: string }>).map((x) => x.value)).toEqual(['DoNotDisturb', 'Available']);
    // bob went offline by the clock.
    const bob = changesOf('bob');
    expect(bob.map((c) => [c.to, c.cause])).toEqual([['Online', 'event'], ['Offline', 'clock']]);
    expect((await get(`/v1/users/bob/history?${q}`)).body['intervals']).toEqual([
      { status: 'Offline', from: T0, to: bob[0]?.at, cause: null, setBy: null },
      { status: 'Online', from: bob[0]?.at, to: bob[1]?.at, cause: 'event', setBy: null },
      { status: 'Offline', from: bob[1]?.at, to: now, cause: 'clock', setBy: null },
    ]);

    // at: inside the Do Not Disturb interval, and at its first instant.
    const mid = Math.floor(((annAt[1] as number) + (annAt[2] as number)) / 2);
    expect((await get(`/v1/users/ann/at?t=${mid}`, 'bob')).body).toEqual({ userId: 'ann', t: mid, status: 'DoNotDisturb', since: annAt[1], until: annAt[2], cause: 'event', setBy: setBy('DoNotDisturb') });
    expect((await get(`/v1/users/ann/at?t=${annAt[1]}`)).body['status']).toBe('DoNotDisturb');

    // totals: the window's milliseconds by status add up to the window (one UTC day, or two around midnight).
    const totals = await get(`/v1/users/ann/totals?${q}`);
    const days = totals.body['days'] as Array<{ day: string; ms: Record<string, number> }>;
    const sum = (s: string) => days.reduce((n, d) => n + (d.ms[s] ?? 0), 0);
    expect(sum('DoNotDisturb')).toBe((annAt[2] as number) - (annAt[1] as number));
    expect(sum('Online')).toBe((annAt[1] as number) - (annAt[0] as number) + (annAt[3] as number) - (annAt[2] as number));
    expect(['Online', 'Away', 'Busy', 'DoNotDisturb', 'Offline'].reduce((n, s) => n + sum(s), 0)).toBe(now - T0);

    // The room at three instants, and after it emptied.
    const members = async (t: number) => ((await get(`/v1/rooms/doc/42/at?t=${t}`)).body['members'] as Array<{ userId: string }>).map((m) => m.userId);
    expect(await members(t1)).toEqual(['ann']);
    expect(await members(t2)).toEqual(['ann', 'bob']);
    expect(await members(t3)).toEqual(['bob']);
    expect(await members(now)).toEqual([]);
    expect(await members(T0)).toEqual([]);

    // Visibility: cat is invisible, so ann sees Offline throughout; cat sees its own Online.
    const catFor = (as: string) => get(`/v1/users/cat/history?${q}`, as).then((r) => r.body['intervals']);
    expect(await catFor('ann')).toEqual([{ status: 'Offline', from: T0, to: now, cause: null, setBy: null }]);
    // Nor does ann see cat's settings (the visibility change is cat's alone); cat sees it.
    expect((await get(`/v1/users/cat/history?${q}`, 'ann')).body['settings']).toEqual([]);
    expect((await get(`/v1/users/cat/history?${q}`, 'cat')).body['settings']).toEqual([{ at: expect.any(Number), kind: 'visibility', value: 'nobody', actor: null, reason: null }]);
    // cat itself sees what the processor wrote (Online by its heartbeat, then Offline by the clock once it went silent).
    const cat = changesOf('cat').filter((c) => c.at < now);
    expect(cat[0]?.to).toBe('Online');
    expect(await catFor('cat')).toEqual([
      { status: 'Offline', from: T0, to: cat[0]?.at, cause: null, setBy: null },
      ...cat.map((c, i) => ({ status: c.to, from: c.at, to: cat[i + 1]?.at ?? now, cause: c.cause, setBy: null })),
    ]);
    expect((await get(`/v1/users/cat/at?t=${now}`, 'ann')).body).toEqual({ userId: 'cat', t: now, status: 'Offline', since: null, until: null, cause: null, setBy: null });

    // Bad input names the field; no token is a 401.
    expect(await get(`/v1/users/ann/history?from=${now}&to=${T0}`)).toEqual({ status: 400, body: { error: 'to must be after from', field: 'to' } });
    expect((await get('/v1/users/ann/history?to=1')).body['field']).toBe('from');
    expect((await get('/v1/users/ann/at?t=soon')).body['field']).toBe('t');
    expect((await get(`/v1/users/ann/at?t=${Date.now() + 60_000}`)).status).toBe(400);
    expect((await get(`/v1/users/ann/history?${q}`, null)).status).toBe(401);
    expect((await get('/openapi.json')).status).toBe(200);

    // A restart resumes from the offsets in the index and answers the same.
    await history.stop();
    history = await startHistory();
    expect((await get(`/v1/users/ann/history?${q}`, 'bob')).body).toEqual(annHistory.body);
  });

  it('hides the history of another user whose last-seen privacy is not exact (403), not from themselves', async () => {
    await override('bob', { kind: 'lastSeen', lastSeenPrivacy: 'hidden' });
    await waitFor(async () => (await get('/v1/users/bob/at?t=' + Date.now(), 'ann')).status === 403, 'bob hidden from ann');
    const res = await get(`/v1/users/bob/history?from=${T0}&to=${Date.now()}`, 'ann');
    expect(res).toEqual({ status: 403, body: { error: expect.any(String), field: 'userId', code: 'last-seen-privacy' } });
    expect((await get(`/v1/users/bob/history?from=${T0}&to=${Date.now()}`, 'bob')).status).toBe(200);
  });
});
