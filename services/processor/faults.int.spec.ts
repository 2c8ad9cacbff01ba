/**
 * Short fault tests against the real broker: a member paused past its session timeout writes
 * nothing when it resumes (both guarantees), and a record a producer sent to the wrong partition is
 * re-sent to its own and applied there, never on the wrong task.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type PresenceConfig } from '../core';
import type { PresenceSnapshot } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { createLogger } from '../platform/log';
import { keyHash } from '../platform/partitioner';
import { provisionPrefix, spawnService, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor, type Guarantee } from './processor';
import { LevelPartitionStore } from './store';

const OFFLINE_MS = 8_000;
const checked = validateConfig({ heartbeatIntervalMs: 1_000, offlineAfterMs: OFFLINE_MS, awayAfterMs: 60_000, roomMemberExpiryMs: 5_000, refreshLeadMs: 1_000, sessionRetentionMs: 120_000 });
if (!checked.ok) throw new Error('bad test config');
const cfg: PresenceConfig = checked.config;

async function watchSnapshots(prefix: string, serde: AvroSerde) {
  const seen: Array<{ key: string; value: PresenceSnapshot; partition: number }> = [];
  const consumer = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
  await consumer.run({ eachMessage: async ({ partition, message }) => { seen.push({ key: message.key?.toString() ?? '', value: await serde.decode('snapshot', message.value), partition }); } });
  return { seen, stop: () => consumer.disconnect() };
}

const heartbeat = async (serde: AvroSerde, userId: string, observedAt: number) =>
  serde.encode('heartbeat', { kind: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId: 'tab', platform: 'web', observedAt, idleMs: 0, gatewayId: null });

describe.each<Guarantee>(['at-least-once', 'exactly-once'])('a member paused past its session timeout (%s)', (guarantee) => {
  it('writes nothing when it resumes', async () => {
    const prefix = uniquePrefix('zombie');
    const { serde } = await provisionPrefix(prefix, 2);
    const dirs = [mkdtempSync(join(tmpdir(), 'presence-zombie-a-')), mkdtempSync(join(tmpdir(), 'presence-zombie-b-'))];
    const watch = await watchSnapshots(prefix, serde);
    const producer = testKafka().producer();
    await producer.connect();
    const groupId = `${prefix}processor`;
    const a = spawnService('services/processor/main.ts', {
      TOPIC_PREFIX: prefix, PROCESSOR_DATA_DIR: dirs[0] as string, PROCESSOR_GROUP_ID: groupId, PROCESSOR_GUARANTEE: guarantee,
      PROCESSOR_HTTP_PORT: '0', PROCESSOR_SESSION_TIMEOUT_MS: '6000', PROCESSOR_COMMIT_INTERVAL_MS: '500',
      PRESENCE_HEARTBEAT_INTERVAL_MS: '1000', PRESENCE_OFFLINE_AFTER_MS: String(OFFLINE_MS), PRESENCE_AWAY_AFTER_MS: '60000',
      PRESENCE_ROOM_MEMBER_EXPIRY_MS: '5000', PRESENCE_REFRESH_LEAD_MS: '1000', PRESENCE_SESSION_RETENTION_MS: '120000',
    });
    let b: Awaited<ReturnType<typeof startProcessor>> | null = null;
    try {
      const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
      const now = Date.now();
      await producer.send({ topic: topicName('heartbeat', prefix), messages: await Promise.all(users.map(async (u) => ({ key: u, value: await heartbeat(serde, u, now) }))) });
      await waitFor(() => new Set(watch.seen.filter((s) => s.value.status === 'Online').map((s) => s.key)).size === 20, 'A emits every user Online', 30_000);
      a.child.kill('SIGSTOP');
      b = await startProcessor({
        kafka: testKafka('b'), serde, store: await LevelPartitionStore.open(dirs[1] as string), cfg, log: createLogger('b', 'silent'),
        metrics: createProcessorMetrics(), prefix, groupId, guarantee, timerResolutionMs: 50, sessionTimeoutMs: 6_000, commitIntervalMs: 500,
      });
      const bb = b;
      await waitFor(() => bb.ready() && bb.assigned().length === 2, 'B takes both partitions', 30_000);
      // B's timers turn everyone Offline; then nothing is left to write.
      const latest = () => new Map(watch.seen.map((s) => [s.key, s.value]));
      await waitFor(() => [...latest().values()].filter((v) => v.status === 'Offline').length === 20, 'B emits every user Offline', 30_000);
      await new Promise((r) => setTimeout(r, 1_500));
      const before = watch.seen.length;
      const resumedAt = Date.now();
      a.child.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, 5_000));
      const after = watch.seen.slice(before);
      expect(after.filter((s) => s.value.emittedAt >= resumedAt)).toEqual([]);
      // Versions per key never went back.
      const last = new Map<string, number>();
      for (const s of watch.seen) {
        expect(s.value.version).toBeGreaterThanOrEqual(last.get(s.key) ?? 0);
        last.set(s.key, s.value.version);
      }
    } finally {
      a.child.kill('SIGCONT');
      a.child.kill('SIGKILL');
      await a.exited;
      await b?.stop();
      await producer.disconnect();
      await watch.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('the partitioning contract', () => {
  it('a heartbeat on the wrong partition is re-sent to its own and applied there', async () => {
    const prefix = uniquePrefix('route');
    const { serde } = await provisionPrefix(prefix, 2);
    const dir = mkdtempSync(join(tmpdir(), 'presence-route-'));
    const watch = await watchSnapshots(prefix, serde);
    const producer = testKafka().producer();
    await producer.connect();
    const processor = await startProcessor({
      kafka: testKafka('route'), serde, store: await LevelPartitionStore.open(dir), cfg, log: createLogger('route', 'silent'),
      metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    try {
      await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
      const right = (keyHash('misrouted-user') & 0x7fffffff) % 2;
      const wrong = 1 - right;
      await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: 'misrouted-user', partition: wrong, value: await heartbeat(serde, 'misrouted-user', Date.now()) }] });
      await waitFor(() => watch.seen.some((s) => s.key === 'misrouted-user' && s.value.status === 'Online'), 'the user Online');
      expect(processor.task(right)?.user('misrouted-user')?.state.sessions).toHaveLength(1);
      expect(processor.task(wrong)?.user('misrouted-user')).toBeUndefined();
      expect(watch.seen.find((s) => s.key === 'misrouted-user')?.partition).toBe(right);
    } finally {
      await processor.stop();
      await producer.disconnect();
      await watch.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
