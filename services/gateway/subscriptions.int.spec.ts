/**
 * Presence over the gateway socket against the real pipeline: processor, query service (the
 * gateway's source of current snapshots) and gateway on their own prefix. A socket subscribes to
 * users, gets their presence at once, then each change as its user may see it (an invisible user
 * reads Offline); the list is bounded; unsubscribing stops the frames; the gateway decodes only
 * followed users.
 */
import WebSocket from 'ws';
import type { Producer } from 'kafkajs';
import { contactKey, DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig } from '../core';
import type { PresenceHeartbeat, PresenceOverride } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { startQueryService, type QueryService } from '../query/service';
import { provisionPrefix, step, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { startGateway, type Gateway } from './service';

const checked = validateConfig({ heartbeatIntervalMs: 500, offlineAfterMs: 3_000, awayAfterMs: 60_000, roomMemberExpiryMs: 3_000, refreshLeadMs: 500, sessionRetentionMs: 60_000 });
if (!checked.ok) throw new Error('bad test config');
const cfg: PresenceConfig = checked.config;
const SECRET = 'gateway-subscriptions-secret-0123456789';
const log = createLogger('subscriptions-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

type Frame = {
  type: string; id?: number; userId?: string; status?: string; result?: string; following?: number; field?: string; code?: string; visibility?: string;
  activity?: { activity: string; source: string; customText: string | null; emoji: string | null } | null; activities?: Array<{ activity: string }>;
};

/** A socket that records every frame; `request` sends one with an id and awaits its answer. */
class Socket {
  readonly frames: Frame[] = [];
  private next = 1;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => void this.frames.push(JSON.parse(d.toString()) as Frame));
  }
  static async open(url: string, token: string, sessionId: string): Promise<Socket> {
    const ws = new WebSocket(`${url}?deviceId=d&sessionId=${sessionId}&platform=web&access_token=${token}`);
    const s = new Socket(ws);
    await step('socket welcome', waitFor(() => s.frames.some((f) => f.type === 'welcome'), 'welcome', 10_000));
    return s;
  }
  async request(frame: object): Promise<Frame> {
    const id = this.next++;
    this.ws.send(JSON.stringify({ ...frame, id }));
    return waitFor(() => this.frames.find((f) => f.id === id && (f.type === 'ack' || f.type === 'error')), `answer to ${JSON.stringify(frame)}`, 15_000) as Promise<Frame>;
  }
  presence(userId: string): Frame[] {
    return this.frames.filter((f) => f.type === 'presence' && f.userId === userId);
  }
  close(): void {
    this.ws.close(1000);
  }
}

describe('presence subscriptions over the gateway socket', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let query: QueryService;
  let gateway: Gateway;
  let producer: Producer;

  const heartbeat = async (userId: string) => {
    const v: PresenceHeartbeat = { kind: 'heartbeat', userId, deviceId: `${userId}-d`, sessionId: 's', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };
  const invisible = async (userId: string) => {
    const v: PresenceOverride = { kind: 'visibility', userId, eventId: `${userId}-v`, setAt: Date.now(), status: null, customText: null, expiresAt: null, visibility: 'nobody', lastSeenPrivacy: null, activity: null, actor: null, reason: null };
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: userId, value: await serde.encode('override', v) }] });
  };

  const activity = async (userId: string, a: { activity: 'InACall' | 'InAMeeting' | 'Presenting' | 'Focusing' | 'Custom' | null; source: 'manual' | 'calendar' | 'callSystem'; customText?: string; emoji?: string }) => {
    const v: PresenceOverride = {
      kind: 'activity', userId, eventId: `${userId}-a-${Math.random()}`, setAt: Date.now(), status: null, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy: null,
      activity: { activity: a.activity, source: a.source, customText: a.customText ?? null, emoji: a.emoji ?? null, expiresAt: null }, actor: null, reason: null,
    };
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: userId, value: await serde.encode('override', v) }] });
  };

  beforeAll(async () => {
    prefix = uniquePrefix('subs');
    ({ serde } = await step('provisioning', provisionPrefix(prefix, 2)));
    const auth = createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET }));
    processor = await step('processor', startProcessor({
      kafka: testKafka('subs-processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    }));
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
    query = await step('query service', startQueryService({
      kafka: testKafka('subs-query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES, auth, log, host: '127.0.0.1', port: 0,
      batchLimit: 1_000, gateCallers: [], snapshotCallers: ['gateway-svc'], keepAliveMs: 60_000,
    }));
    await query.startReplica();
    gateway = await step('gateway', startGateway({
      kafka: testKafka('subs-gateway'), serde, prefix, cfg, auth, log, host: '127.0.0.1', port: 0, gatewayId: 'gw-subs', coalesceWindowMs: 0,
      reconnectGraceMs: 0, maxFrameBytes: 8_192, pingIntervalMs: 60_000, maxRoomsPerSession: 3, publishTimeoutMs: 5_000, lingerMs: 2,
      commandRateLimit: { perSecond: 100, burst: 100 },
      subscriptions: { queryUrl: query.url, queryToken: await mintToken(SECRET, 'gateway-svc'), maxPerSocket: 3 },
    }));
    producer = testKafka('subs-producer').producer();
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await gateway?.stop();
    await query?.stop();
    await processor?.stop();
  });

  it('current presence at once, then each change as the subscriber may see it; bounded; unsubscribe stops it', async () => {
    await heartbeat('bob');
    await waitFor(async () => ((await (await fetch(`${query.url}/v1/users/bob/presence`, { headers: { authorization: `Bearer ${await mintToken(SECRET, 'x')}` } })).json()) as { status: string }).status === 'Online', 'bob Online in the query service');
    const alice = await Socket.open(gateway.wsUrl, await mintToken(SECRET, 'alice'), 'a1');
    try {
      expect(await alice.request({ type: 'subscribe', userIds: ['bob', 'carol'] })).toMatchObject({ type: 'ack', result: 'subscribed', following: 2 });
      // At once: bob as he is now (from the query service's replica), carol (never seen) Offline.
      expect(alice.presence('bob').at(-1)).toMatchObject({ status: 'Online' });
      expect(alice.presence('carol').at(-1)).toMatchObject({ status: 'Offline' });
      expect(gateway.subscriptions?.size).toMatchObject({ sockets: 1, subscriptions: 2, users: 2 });

      // A change, from the gateway's tail of the snapshot topic.
      await heartbeat('carol');
      await waitFor(() => alice.presence('carol').at(-1)?.status === 'Online', 'carol Online on the socket');
      // bob turns invisible: alice, another user, sees him Offline (no devices).
      await invisible('bob');
      await waitFor(() => alice.presence('bob').at(-1)?.status === 'Offline', 'bob Offline to alice once invisible');
      expect(alice.presence('bob').at(-1)).not.toHaveProperty('visibility');
      // bob himself follows himself and sees the truth.
      const bob = await Socket.open(gateway.wsUrl, await mintToken(SECRET, 'bob'), 'b1');
      try {
        await bob.request({ type: 'subscribe', userIds: ['bob'] });
        expect(bob.presence('bob').at(-1)).toMatchObject({ visibility: 'nobody' });
        expect(gateway.subscriptions?.size).toMatchObject({ sockets: 2, subscriptions: 3, users: 2 });
      } finally {
        bob.close();
      }

      // Bounded (3 per socket here), the field named; a bad id is named by its index.
      expect(await alice.request({ type: 'subscribe', userIds: ['dan', 'erin'] })).toMatchObject({ type: 'error', field: 'userIds', code: 'too-many-entries' });
      expect(await alice.request({ type: 'subscribe', userIds: ['ok', ''] })).toMatchObject({ type: 'error', field: 'userIds.1' });
      expect(await alice.request({ type: 'subscribe', userIds: 'bob' })).toMatchObject({ type: 'error', field: 'userIds' });

      // Unsubscribed: carol's changes no longer reach alice.
      expect(await alice.request({ type: 'unsubscribe', userIds: ['carol'] })).toMatchObject({ type: 'ack', result: 'unsubscribed', following: 1 });
      const before = alice.presence('carol').length;
      await waitFor(() => alice.presence('bob').length > 0 && !gateway.subscriptions?.isFollowed('carol'), 'carol unfollowed');
      // carol goes Offline by the clock (3 s): the processor writes it, the gateway does not decode it.
      await new Promise((r) => setTimeout(r, 4_000));
      expect(alice.presence('carol')).toHaveLength(before);
    } finally {
      alice.close();
    }
    await waitFor(() => gateway.subscriptions?.size.sockets === 0, 'closed sockets drop their subscriptions');
    expect(gateway.subscriptions?.size).toMatchObject({ subscriptions: 0, users: 0 });
  });
  it('a contacts-only user: Online to a socket whose user is in the list (fetched with the snapshot), Offline to others; a list change reaches the socket from the contacts tail', async () => {
    const keepAlive = setInterval(() => void heartbeat('hana'), 500);
    try {
      await heartbeat('hana');
      const v: PresenceOverride = { kind: 'visibility', userId: 'hana', eventId: 'hana-c', setAt: Date.now(), status: null, customText: null, expiresAt: null, visibility: 'contacts', lastSeenPrivacy: null, activity: null, actor: null, reason: null };
      await producer.send({ topic: topicName('override', prefix), messages: [{ key: 'hana', value: await serde.encode('override', v) }] });
      const add = async (contact: string) => producer.send({ topic: topicName('contacts', prefix), messages: [{ key: contactKey('hana', contact), value: await serde.encode('contacts', { owner: 'hana', contact, addedAt: Date.now() }) }] });
      await add('ivan');
      await waitFor(() => query.contacts.book.isContact('hana', 'ivan') && query.replica.users.get('hana')?.visibility === 'contacts', 'hana contacts-only with ivan listed, in the query replica');
      const ivan = await Socket.open(gateway.wsUrl, await mintToken(SECRET, 'ivan'), 'i1');
      const jack = await Socket.open(gateway.wsUrl, await mintToken(SECRET, 'jack'), 'j1');
      try {
        await ivan.request({ type: 'subscribe', userIds: ['hana'] });
        await jack.request({ type: 'subscribe', userIds: ['hana'] });
        expect(ivan.presence('hana').at(-1)).toMatchObject({ status: 'Online' });
        expect(jack.presence('hana').at(-1)).toMatchObject({ status: 'Offline', devices: [] });
        // jack is added, ivan removed (a tombstone): both from the gateway's tail of the contacts topic.
        await add('jack');
        await waitFor(() => jack.presence('hana').at(-1)?.status === 'Online', 'hana Online to jack once listed');
        await producer.send({ topic: topicName('contacts', prefix), messages: [{ key: contactKey('hana', 'ivan'), value: null }] });
        await waitFor(() => ivan.presence('hana').at(-1)?.status === 'Offline', 'hana Offline to ivan once removed');
      } finally {
        ivan.close();
        jack.close();
      }
    } finally {
      clearInterval(keepAlive);
    }
  });

  it("an activity reaches a subscribed socket with the status it folds into, and its end brings the socket back to Online", async () => {
    const keepAlive = setInterval(() => void heartbeat('lena'), 500);
    const mo = await Socket.open(gateway.wsUrl, await mintToken(SECRET, 'mo'), 'm1');
    try {
      await heartbeat('lena');
      await mo.request({ type: 'subscribe', userIds: ['lena'] });
      await waitFor(() => mo.presence('lena').at(-1)?.status === 'Online', 'lena Online on the socket');
      await activity('lena', { activity: 'InACall', source: 'callSystem', emoji: '📞' });
      const call = await waitFor(() => { const f = mo.presence('lena').at(-1); return f?.status === 'Busy' && f; }, 'lena Busy in a call on the socket');
      expect(call.activity).toMatchObject({ activity: 'InACall', source: 'callSystem', emoji: '📞' });
      // Presenting (precedence: Do Not Disturb) beside the call: the socket shows the one that decides.
      await activity('lena', { activity: 'Presenting', source: 'manual', customText: 'Q4 review' });
      const presenting = await waitFor(() => { const f = mo.presence('lena').at(-1); return f?.status === 'DoNotDisturb' && f; }, 'lena presenting on the socket');
      expect(presenting.activity).toMatchObject({ activity: 'Presenting', source: 'manual', customText: 'Q4 review' });
      expect(presenting.activities?.map((a) => a.activity)).toEqual(['Presenting', 'InACall']);
      // Both registers cleared: back to Online with no activity.
      await activity('lena', { activity: null, source: 'manual' });
      await activity('lena', { activity: null, source: 'callSystem' });
      const back = await waitFor(() => { const f = mo.presence('lena').at(-1); return f?.status === 'Online' && !f.activity && f; }, 'lena Online again on the socket');
      expect(back.activities ?? []).toEqual([]);
    } finally {
      clearInterval(keepAlive);
      mo.close();
    }
  });
});
