/**
 * The processor watermark on the read side, against the real broker and registry: a snapshot whose
 * lastSeen lease ran out long ago still reads Online (HTTP, /v1/gate, SSE) while watermarks for its
 * partition keep arriving, and reads Offline once they stop for longer than watermarkGraceMs. A user
 * in a partition without watermarks decays by its lease alone, as before. The test writes the
 * snapshots and the watermark records itself, as the processor will (watermarkMessage).
 */
import type { Producer } from 'kafkajs';
import { DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig, type UserView } from '../core';
import type { AvroSerde } from '../contract/serde';
import { toSnapshot } from '../contract/snapshot-codec';
import { topicName } from '../contract/topics';
import { watermarkMessage } from '../contract/watermark-codec';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { KeyHashPartitioner } from '../platform/partitioner';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { sseEvents } from '../../test/sse';
import { startQueryService, type QueryService } from './service';

const GRACE = 1_500;
const result = validateConfig({ heartbeatIntervalMs: 500, offlineAfterMs: 3_000, awayAfterMs: 60_000, roomMemberExpiryMs: 3_000, refreshLeadMs: 500, sessionRetentionMs: 60_000, watermarkGraceMs: GRACE });
if (!result.ok) throw new Error('bad test config');
const cfg: PresenceConfig = result.config;
const SECRET = 'watermark-int-test-secret-0123456789-abcdef';
const log = createLogger('watermark-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

describe('query service with processor watermarks (real broker)', () => {
  let prefix: string;
  let serde: AvroSerde;
  let producer: Producer;
  let query: QueryService;
  let token: string;

  const get = async (path: string) => {
    const res = await fetch(`${query.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as Record<string, unknown>;
  };
  const status = async (userId: string) => (await get(`/v1/users/${userId}/presence`))['status'];
  /** An Online snapshot, emitted at lastSeen (its lease was fine then). Returns its partition. */
  const snapshot = async (userId: string, lastSeen: number): Promise<number> => {
    const view: UserView = {
      userId, status: 'Online', statusSince: lastSeen - 1_000, lastSeen, lastActive: lastSeen, override: null, visibility: 'everyone', lastSeenPrivacy: 'exact',
      devices: [{ deviceId: `${userId}-d`, sessionId: 's', platform: 'web', gatewayId: null, active: true }], version: 1, emittedAt: lastSeen,
    };
    const [meta] = await producer.send({ topic: topicName('snapshot', prefix), messages: [{ key: userId, value: serde.encodeSync('snapshot', toSnapshot(view, lastSeen)) }] });
    return (meta as { partition: number }).partition;
  };
  const watermark = async (partition: number, w: number) => {
    await producer.send({ topic: topicName('watermark', prefix), messages: [watermarkMessage(serde, partition, w, Date.now())] });
  };

  beforeAll(async () => {
    prefix = uniquePrefix('wmark');
    ({ serde } = await provisionPrefix(prefix, 2));
    token = await mintToken(SECRET, 'reader');
    producer = testKafka('watermark-writer').producer({ createPartitioner: KeyHashPartitioner });
    await producer.connect();
    query = await startQueryService({
      kafka: testKafka('query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
      auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log, host: '127.0.0.1', port: 0,
      batchLimit: 100, gateCallers: [], keepAliveMs: 60_000,
    });
    await query.startReplica();
  });

  afterAll(async () => {
    await query?.stop();
    await producer?.disconnect();
  });

  it('reads an old snapshot Online while its partition watermark is fresh, Offline once it stops for longer than the grace', async () => {
    // Two users in different partitions (2 partitions): find ids whose murmur2 partitions differ.
    const held = 'alice';
    const heldPartition = query.replica.partitionOf(held) as number;
    const other = ['bob', 'carol', 'dave', 'erin', 'frank'].find((u) => query.replica.partitionOf(u) !== heldPartition) as string;
    const lastSeen = Date.now() - 10_000; // far older than offlineAfterMs (3 s)
    // The replica computes the partition the producer's murmur2 partitioner chose.
    expect(await snapshot(held, lastSeen)).toBe(heldPartition);
    expect(await snapshot(other, lastSeen)).toBe(query.replica.partitionOf(other));

    // Without a watermark: the lease rule, Offline (as today).
    await waitFor(() => query.replica.users.has(held) && query.replica.users.has(other), 'both snapshots in the replica');
    expect(await status(held)).toBe('Offline');

    // The processor (this test) publishes a watermark for alice's partition every 300 ms.
    await watermark(heldPartition, Date.now());
    const writer = setInterval(() => void watermark(heldPartition, Date.now()).catch(() => undefined), 300);
    let stoppedAt = 0;
    try {
      await waitFor(async () => (await status(held)) === 'Online', 'alice held Online by the watermark');
      expect(query.replica.watermarkOf(held)).toEqual(expect.any(Number));
      expect(query.replica.watermarkOf(other)).toBeNull();
      const stream = await fetch(`${query.url}/v1/presence/stream?userIds=${held}`, { headers: { authorization: `Bearer ${token}` } });
      const events = sseEvents(stream);
      try {
        expect(await events.next()).toMatchObject({ userId: held, status: 'Online' });
        // For several offline thresholds, alice stays Online on every route; bob (no watermark) is Offline.
        for (const until = Date.now() + 4_000; Date.now() < until; ) {
          expect(await status(held)).toBe('Online');
          expect(await get(`/v1/gate?userId=${held}&channel=mobile-push`)).toMatchObject({ deliver: true, status: 'Online' });
          expect(await status(other)).toBe('Offline');
          await new Promise((r) => setTimeout(r, 250));
        }
        // The processor stops: Offline within the grace after the last watermark (plus delivery slack).
        clearInterval(writer);
        stoppedAt = Date.now();
        expect(await events.next(GRACE + 3_000)).toMatchObject({ userId: held, status: 'Offline', devices: [] });
        const last = query.replica.watermarkOf(held) as number;
        expect(Date.now()).toBeGreaterThanOrEqual(last + GRACE);
        expect(Date.now() - stoppedAt).toBeLessThan(GRACE + 2_000);
        expect(await status(held)).toBe('Offline');
        expect(await get(`/v1/gate?userId=${held}&channel=mobile-push`)).toMatchObject({ deliver: false, status: 'Offline' });

        // Watermarks resume: the stream re-evaluates the partition once and alice is Online again.
        await watermark(heldPartition, Date.now());
        expect(await events.next()).toMatchObject({ userId: held, status: 'Online' });
      } finally {
        await events.close();
      }
    } finally {
      clearInterval(writer);
    }
  });
});
