/**
 * Activities over the real pipeline (issue 12 part 1): activity events on presence.override.v1
 * (from kafkajs with our serde, and from Python's confluent-kafka with the registered schema) are
 * folded by the processor into the snapshots; the query service shows the activity and the folded
 * status on its routes and SSE, the gate decides on the folded status, the expiry is the clock's,
 * and bad activities are dead letters naming the field.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Producer } from 'kafkajs';
import { DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig } from '../services/core';
import type { ActivityUpdate, DeadLetter, PresenceHeartbeat, PresenceOverride, PresenceSnapshot } from '../services/contract/avro-types';
import type { AvroSerde } from '../services/contract/serde';
import { topicName } from '../services/contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../services/platform/auth';
import { createLogger } from '../services/platform/log';
import { createProcessorMetrics } from '../services/processor/metrics';
import { startProcessor, type Processor } from '../services/processor/processor';
import { MemoryPartitionStore } from '../services/processor/store';
import { startQueryService, type QueryService } from '../services/query/service';
import { env, provisionPrefix, pythonClient as python, testKafka, uniquePrefix, waitFor } from './helpers';
import { sseEvents } from './sse';

const result = validateConfig({ heartbeatIntervalMs: 5_000, offlineAfterMs: 30_000, awayAfterMs: 25_000, refreshLeadMs: 2_000, sessionRetentionMs: 120_000 });
if (!result.ok) throw new Error('bad test config');
const cfg: PresenceConfig = result.config;
const SECRET = 'activities-int-test-secret-0123456789-abc';
const log = createLogger('activities-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

describe('activities over the real pipeline', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let producer: Producer;
  let query: QueryService;
  let token: string;
  const snapshots = new Map<string, PresenceSnapshot>();
  const dlq: DeadLetter[] = [];
  let watch: ReturnType<ReturnType<typeof testKafka>['consumer']>;

  const send = async (topic: 'heartbeat' | 'override', key: string, value: PresenceHeartbeat | PresenceOverride) =>
    producer.send({ topic: topicName(topic, prefix), messages: [{ key, value: await serde.encode(topic, value) }] });
  const heartbeat = (userId: string) =>
    send('heartbeat', userId, { kind: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId: 'tab', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null });
  const wire = (userId: string, kind: PresenceOverride['kind'], o: Partial<PresenceOverride>): PresenceOverride => ({
    kind, userId, eventId: `${userId}-${Math.random()}`, setAt: Date.now(), status: null, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy: null,
    activity: null, actor: null, reason: null, ...o,
  });
  const activity = (userId: string, a: Partial<ActivityUpdate> & Pick<ActivityUpdate, 'activity'>, o: Partial<PresenceOverride> = {}) =>
    send('override', userId, wire(userId, 'activity', { activity: { source: 'manual', customText: null, emoji: null, expiresAt: null, ...a }, ...o }));
  const get = async (path: string) => {
    const res = await fetch(`${query.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    prefix = uniquePrefix('activities');
    ({ serde } = await provisionPrefix(prefix, 2));
    token = await mintToken(SECRET, 'reader');
    watch = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
    await watch.connect();
    await watch.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
    await watch.subscribe({ topic: topicName('dlq', prefix), fromBeginning: true });
    await watch.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === topicName('dlq', prefix)) dlq.push(await serde.decode('dlq', message.value));
        else if (message.value) snapshots.set(message.key?.toString() ?? '', await serde.decode('snapshot', message.value));
      },
    });
    processor = await startProcessor({
      kafka: testKafka('activities-processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    producer = testKafka().producer();
    await producer.connect();
    query = await startQueryService({
      kafka: testKafka('activities-query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
      auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log, host: '127.0.0.1', port: 0,
      batchLimit: 1_000, gateCallers: [], keepAliveMs: 60_000,
    });
    await query.startReplica();
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
  });

  afterAll(async () => {
    await query?.stop();
    await producer?.disconnect();
    await processor?.stop();
    await watch?.disconnect();
  });

  it('folds activities into the status (snapshot, routes, gate); a manual status decides over them; the call ending leaves the meeting', async () => {
    await heartbeat('ana');
    await waitFor(async () => (await get('/v1/users/ana/presence'))['status'] === 'Online', 'ana online');
    await activity('ana', { activity: 'InAMeeting', source: 'calendar', customText: 'Design review', emoji: '📅', expiresAt: Date.now() + 60_000 }, { actor: { kind: 'integration', id: 'calendar-sync' } });
    const busy = await waitFor(async () => { const p = await get('/v1/users/ana/presence'); return p['status'] === 'Busy' && p; }, 'ana Busy in a meeting');
    expect(busy['activity']).toEqual({ activity: 'InAMeeting', source: 'calendar', customText: 'Design review', emoji: '📅', expiresAt: expect.any(Number) });
    expect(snapshots.get('ana')).toMatchObject({ status: 'Busy', activities: [{ activity: 'InAMeeting', source: 'calendar', customText: 'Design review', emoji: '📅' }] });
    expect(await get('/v1/gate?userId=ana&channel=mobile-push')).toMatchObject({ deliver: true, status: 'Busy' });

    await activity('ana', { activity: 'Presenting', source: 'callSystem' });
    await waitFor(async () => (await get('/v1/users/ana/presence'))['status'] === 'DoNotDisturb', 'ana presenting: DoNotDisturb');
    expect(await get('/v1/gate?userId=ana&channel=mobile-push')).toMatchObject({ deliver: false, reason: 'suppressed-dnd', status: 'DoNotDisturb' });
    const both = await get('/v1/users/ana/presence');
    expect((both['activities'] as Array<{ activity: string }>).map((a) => a.activity)).toEqual(['Presenting', 'InAMeeting']);

    // The user's manual Busy says otherwise.
    await send('override', 'ana', wire('ana', 'status', { status: 'Busy', customText: 'ask me' }));
    await waitFor(async () => (await get('/v1/users/ana/presence'))['status'] === 'Busy', 'manual Busy over Presenting');
    expect(await get('/v1/gate?userId=ana&channel=mobile-push')).toMatchObject({ deliver: true, status: 'Busy' });
    // Cleared again (Available), and the call system clears its register: the calendar meeting holds.
    await send('override', 'ana', wire('ana', 'status', { status: 'Available' }));
    await activity('ana', { activity: null, source: 'callSystem' });
    const meeting = await waitFor(async () => {
      const p = await get('/v1/users/ana/presence');
      return p['status'] === 'Busy' && (p['activities'] as unknown[] | undefined)?.length === 1 && p;
    }, 'back to the meeting alone');
    expect(meeting['activity']).toMatchObject({ activity: 'InAMeeting', source: 'calendar' });

    const batch = await fetch(`${query.url}/v1/presence:batchGet`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ userIds: ['ana'] }),
    });
    expect(((await batch.json()) as { presences: unknown[] }).presences).toEqual([expect.objectContaining({ userId: 'ana', status: 'Busy', activity: expect.objectContaining({ activity: 'InAMeeting' }) })]);
  });

  it('SSE shows the activity and the status it folds into, then drops both at the expiry by the clock alone', async () => {
    await heartbeat('bea');
    await waitFor(() => snapshots.get('bea')?.status === 'Online', 'bea online');
    const ctrl = new AbortController();
    const res = await fetch(`${query.url}/v1/presence/stream?userIds=bea`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
    const events = sseEvents(res);
    try {
      expect(await events.next()).toMatchObject({ userId: 'bea', status: 'Online' });
      const expiresAt = Date.now() + 3_000;
      await activity('bea', { activity: 'Focusing', emoji: '🎧', expiresAt });
      expect(await events.next()).toMatchObject({ status: 'DoNotDisturb', activity: { activity: 'Focusing', source: 'manual', emoji: '🎧', expiresAt } });
      // Nothing is published after this: the expiry is the clock's.
      const after = await events.next();
      expect(after).toMatchObject({ status: 'Online' });
      expect(after['activity']).toBeUndefined();
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
      expect(Date.now()).toBeLessThan(expiresAt + 1_500);
      // The processor's timer agrees: its next snapshot is Online without the activity.
      await waitFor(() => snapshots.get('bea')?.status === 'Online' && snapshots.get('bea')?.activities.length === 0, 'the processor expired it too');
    } finally {
      ctrl.abort();
      await events.close();
    }
  });

  it('bad activities on Kafka are dead letters with a reason naming the field; later records are processed', async () => {
    await activity('cy', { activity: 'Custom', customText: 'x'.repeat(101) });
    await activity('cy', { activity: 'Focusing', expiresAt: Date.now() - 60_000 }, { setAt: Date.now() - 120_000 });
    await activity('cy', { activity: 'Custom' });
    await send('override', 'cy', wire('cy', 'activity', {}));
    await heartbeat('cy');
    await activity('cy', { activity: 'InACall', source: 'callSystem' });
    await waitFor(() => snapshots.get('cy')?.status === 'Busy', 'cy in a call after the bad ones');
    await waitFor(() => dlq.length >= 4, 'four dead letters');
    expect(dlq.map((d) => [d.errorCode, d.field]).sort()).toEqual([['rejected', 'activity'], ['rejected', 'customText'], ['rejected', 'customText'], ['rejected', 'expiresAt']]);
    expect(dlq.every((d) => d.sourceTopic === topicName('override', prefix) && d.reason.length > 0)).toBe(true);
    expect(dlq.find((d) => d.field === 'expiresAt')?.reason).toMatch(/in the future/);
  });

  it('a Python confluent-kafka producer sends activities with the registered schema; they fold like ours', async () => {
    if (!existsSync(python)) throw new Error(`${python} missing: run infra/pyclient.sh (make deps does)`);
    const users = ['py-ann', 'py-ben', 'py-cat'];
    for (const u of users) await heartbeat(u);
    await waitFor(() => users.every((u) => snapshots.get(u)?.status === 'Online'), 'python users online');
    const now = Date.now();
    const { stdout } = await promisify(execFile)(
      python,
      [resolve(__dirname, 'independent_activity_producer.py'), env.KAFKA_BROKERS.join(','), env.SCHEMA_REGISTRY_URL, topicName('override', prefix), String(now), String(now + 60_000), ...users],
      // Generous: on a loaded CI box the registry has stalled for ~30 s (the script's stderr, in the error, says where it was).
      { timeout: 90_000 },
    );
    expect(stdout.trim().split('\n')).toHaveLength(users.length);
    await waitFor(() => users.every((u) => snapshots.get(u)?.status === 'Busy'), 'python users Busy in a meeting');
    for (const u of users) {
      expect(snapshots.get(u)?.activities).toEqual([{ activity: 'InAMeeting', source: 'calendar', customText: `sync of ${u}`, emoji: '📅', expiresAt: now + 60_000, setAt: now }]);
      expect(await get(`/v1/users/${u}/presence`)).toMatchObject({ status: 'Busy', activity: { activity: 'InAMeeting', source: 'calendar' } });
    }
  }, 180_000);
});
