/**
 * Device presence for routing over the real broker and registry: heartbeats of two devices
 * through two gateways go through the real processor; the query service's trusted devices route
 * lists both with their gateway and active flag (the processor's timer turns a device idle at its
 * threshold), and the notification gate's push decisions name the target gateways, active first;
 * once the sessions end there is no target (offline delivery).
 */
import type { Consumer, Producer } from 'kafkajs';
import { DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig } from '../services/core';
import type { NotificationDecision, NotificationRequest, PresenceHeartbeat, PresenceOverride } from '../services/contract/avro-types';
import type { AvroSerde } from '../services/contract/serde';
import { topicName } from '../services/contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../services/platform/auth';
import { createLogger } from '../services/platform/log';
import { createNotificationGate, type NotificationGate } from '../services/notification-gate/gate';
import { createProcessorMetrics } from '../services/processor/metrics';
import { startProcessor, type Processor } from '../services/processor/processor';
import { MemoryPartitionStore } from '../services/processor/store';
import { startQueryService, type QueryService } from '../services/query/service';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from './helpers';

// Short thresholds: idle after 2 s without activity, offline after 3 s without a heartbeat.
const result = validateConfig({ heartbeatIntervalMs: 500, offlineAfterMs: 3_000, awayAfterMs: 2_000, roomMemberExpiryMs: 3_000, refreshLeadMs: 500, sessionRetentionMs: 60_000 });
if (!result.ok) throw new Error('bad test config');
const cfg: PresenceConfig = result.config;
const SECRET = 'device-routing-int-secret-0123456789-abc';
const DELIVERY = 'delivery-worker';
const log = createLogger('device-routing-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

interface Route { deviceId: string; sessionId: string; platform: string; gatewayId: string | null; active: boolean }

describe('device routing through the pipeline', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let producer: Producer;
  let query: QueryService;
  let gate: NotificationGate;
  let decisions: Consumer;
  const decided = new Map<string, NotificationDecision>();
  const tokens: Record<string, string> = {};

  const devicesOf = async (userId: string, as = DELIVERY) => {
    const res = await fetch(`${query.url}/v1/users/${userId}/devices`, { headers: { authorization: `Bearer ${tokens[as]}` } });
    return { status: res.status, body: (await res.json()) as { userId: string; devices: Route[] } };
  };
  const heartbeat = async (userId: string, deviceId: string, gatewayId: string, idleMs: number, platform: PresenceHeartbeat['platform']) => {
    const v: PresenceHeartbeat = { kind: 'heartbeat', userId, deviceId, sessionId: 's1', platform, observedAt: Date.now(), idleMs, gatewayId };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };
  const disconnect = async (userId: string, deviceId: string) => {
    const v: PresenceHeartbeat = { kind: 'disconnect', userId, deviceId, sessionId: 's1', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };
  const busy = async (userId: string) => {
    const v: PresenceOverride = { kind: 'status', userId, eventId: `${userId}-busy`, setAt: Date.now(), status: 'Busy', customText: null, expiresAt: null, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null };
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: userId, value: await serde.encode('override', v) }] });
  };
  const ask = async (requestId: string, userId: string, channel: string): Promise<NotificationDecision> => {
    const r: NotificationRequest = { requestId, userId, channel, bypassDoNotDisturb: false, requestedAt: Date.now() };
    await producer.send({ topic: topicName('notificationRequest', prefix), messages: [{ key: userId, value: await serde.encode('notificationRequest', r) }], acks: -1 });
    return waitFor(() => decided.get(requestId), `the decision of ${requestId}`);
  };

  beforeAll(async () => {
    prefix = uniquePrefix('routing');
    ({ serde } = await provisionPrefix(prefix, 2));
    for (const u of [DELIVERY, 'rita', 'sam']) tokens[u] = await mintToken(SECRET, u);
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    producer = testKafka().producer();
    await producer.connect();
    query = await startQueryService({
      kafka: testKafka('query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
      auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log, host: '127.0.0.1', port: 0,
      batchLimit: 1_000, gateCallers: [DELIVERY], keepAliveMs: 60_000,
    });
    await query.startReplica();
    gate = createNotificationGate({
      kafka: testKafka('gate'), serde, prefix, groupId: `${prefix}gate`, cfg, classes: DEFAULT_CHANNEL_CLASSES, log, sessionTimeoutMs: 6_000,
    });
    await gate.start();
    decisions = testKafka().consumer({ groupId: `${prefix}decisions`, maxWaitTimeInMs: 50 });
    await decisions.connect();
    await decisions.subscribe({ topic: topicName('notificationDecision', prefix), fromBeginning: true });
    await decisions.run({
      eachMessage: async ({ message }) => {
        const d: NotificationDecision = await serde.decode('notificationDecision', message.value);
        decided.set(d.requestId, d);
      },
    });
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
  });

  afterAll(async () => {
    await decisions?.disconnect();
    await gate?.stop();
    await query?.stop();
    await producer?.disconnect();
    await processor?.stop();
  });

  it('two devices through two gateways, one idle: the devices route, the decisions\' target gateways, and none once the sessions end', async () => {
    // rita's laptop is in use through gw-b; her phone, through gw-a, has been idle for a minute.
    // Both keep heart-beating; the laptop's idle time is set per beat below.
    let laptopIdleMs = 0;
    let laptopIdleFrom: number | null = null;
    const beat = async () => {
      const idle = laptopIdleFrom === null ? laptopIdleMs : Date.now() - laptopIdleFrom;
      await heartbeat('rita', 'laptop', 'gw-b', idle, 'web');
      await heartbeat('rita', 'phone', 'gw-a', 60_000, 'ios');
    };
    await beat();
    const keepAlive = setInterval(() => void beat(), 400);
    try {
      const both = await waitFor(async () => {
        const r = await devicesOf('rita');
        return r.body.devices.length === 2 && r.body.devices.every((d) => d.gatewayId !== null) && r;
      }, 'rita\'s two devices in the devices route');
      expect(both.status).toBe(200);
      expect(both.body).toEqual({
        userId: 'rita',
        devices: [
          { deviceId: 'laptop', sessionId: 's1', platform: 'web', gatewayId: 'gw-b', active: true },
          { deviceId: 'phone', sessionId: 's1', platform: 'ios', gatewayId: 'gw-a', active: false },
        ],
      });
      // Trusted callers only: another user gets 403; public presence shows no gateway.
      expect((await devicesOf('rita', 'sam')).status).toBe(403);
      const presence = (await (await fetch(`${query.url}/v1/users/rita/presence`, { headers: { authorization: `Bearer ${tokens['sam']}` } })).json()) as { devices: object[] };
      expect(presence.devices).toEqual([{ deviceId: 'laptop', sessionId: 's1', platform: 'web' }, { deviceId: 'phone', sessionId: 's1', platform: 'ios' }]);

      // A push goes out and names the gateways: the active laptop's first, though gw-a sorts before it.
      expect(await ask('r-push-1', 'rita', 'mobile-push')).toMatchObject({ deliver: true, reason: 'online', targetGateways: ['gw-b', 'gw-a'] });
      expect(await ask('r-mail-1', 'rita', 'email')).toMatchObject({ deliver: true, reason: 'store-and-forward', targetGateways: null });

      // The laptop stops reporting activity: the processor's timer turns it idle at the threshold,
      // with no heartbeat saying so, and the heartbeats that follow change nothing.
      laptopIdleFrom = Date.now();
      const idleSince = laptopIdleFrom;
      const allIdle = await waitFor(async () => {
        const r = await devicesOf('rita');
        return r.body.devices.length === 2 && r.body.devices.every((d) => !d.active) && r;
      }, 'the laptop turning idle', 10_000);
      expect(Date.now() - idleSince).toBeGreaterThanOrEqual(cfg.awayAfterMs - 200);
      expect(allIdle.body.devices.map((d) => [d.deviceId, d.gatewayId, d.active])).toEqual([['laptop', 'gw-b', false], ['phone', 'gw-a', false]]);
      expect(await ask('r-push-2', 'rita', 'web-push')).toMatchObject({ deliver: true, reason: 'away', status: 'Away', targetGateways: ['gw-a', 'gw-b'] });

      // Busy still lets pushes through; once both sessions end there is nowhere to push: offline delivery.
      await busy('rita');
    } finally {
      clearInterval(keepAlive);
    }
    await disconnect('rita', 'laptop');
    await disconnect('rita', 'phone');
    await waitFor(async () => (await devicesOf('rita')).body.devices.length === 0 && gate.replica.users.get('rita')?.devices.length === 0, 'rita\'s sessions ended in the route and the gate');
    expect(await ask('r-push-3', 'rita', 'mobile-push')).toMatchObject({ deliver: true, reason: 'busy', status: 'Busy', targetGateways: [] });
    // A user the gate never heard of: suppressed, nothing to route.
    expect(await ask('r-push-4', 'nobody', 'mobile-push')).toMatchObject({ deliver: false, reason: 'unknown-user-offline', targetGateways: null });
  });
});
