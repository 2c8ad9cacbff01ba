/**
 * Watermark lease mode against the real broker: a continuously online user gets one snapshot, not
 * one per lease; the processor's watermarks keep it Online for a reader; when its heartbeats stop,
 * the Offline snapshot comes from the processor's timer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readView, validateConfig, type PresenceConfig } from '../core';
import type { PresenceSnapshot, ProcessorWatermark } from '../contract/avro-types';
import { viewFromSnapshot } from '../contract/snapshot-codec';
import { topicName } from '../contract/topics';
import { createLogger } from '../platform/log';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor, type Guarantee } from './processor';
import { LevelPartitionStore } from './store';

const base = { heartbeatIntervalMs: 300, offlineAfterMs: 1_500, awayAfterMs: 60_000, roomMemberExpiryMs: 1_500, refreshLeadMs: 300, sessionRetentionMs: 60_000, watermarkGraceMs: 500 };

describe.each<[Guarantee, 'watermark' | 'per-user']>([
  ['at-least-once', 'watermark'], ['exactly-once', 'watermark'], ['at-least-once', 'per-user'],
])('%s, %s leases', (guarantee, snapshotLeases) => {
  it('a user beating for 4 s: snapshots and what a reader with the watermark reads', async () => {
    const checked = validateConfig({ ...base, snapshotLeases });
    if (!checked.ok) throw new Error(JSON.stringify(checked));
    const cfg: PresenceConfig = checked.config;
    const prefix = uniquePrefix('wm');
    const { serde } = await provisionPrefix(prefix, 2);
    const dir = mkdtempSync(join(tmpdir(), 'presence-wm-'));
    const snapshots: PresenceSnapshot[] = [];
    const watermarks = new Map<number, number>();
    const consumer = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
    await consumer.subscribe({ topic: topicName('watermark', prefix), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (topic === topicName('snapshot', prefix)) snapshots.push(await serde.decode('snapshot', message.value));
        else {
          const w: ProcessorWatermark = await serde.decode('watermark', message.value);
          expect(w.partition).toBe(partition);
          watermarks.set(partition, Math.max(watermarks.get(partition) ?? 0, w.watermark));
        }
      },
    });
    const processor = await startProcessor({
      kafka: testKafka('wm'), serde, store: await LevelPartitionStore.open(dir), cfg, log: createLogger('wm', 'silent'),
      metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee, timerResolutionMs: 50, watermarkIntervalMs: 200,
    });
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
      const beat = async () => producer.send({
        topic: topicName('heartbeat', prefix),
        messages: [{ key: 'alice', value: await serde.encode('heartbeat', { kind: 'heartbeat', userId: 'alice', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null }) }],
      });
      const started = Date.now();
      while (Date.now() - started < 4_000) {
        await beat();
        await new Promise((r) => setTimeout(r, 300));
      }
      const online = snapshots.filter((s) => s.status === 'Online');
      const last = snapshots.at(-1) as PresenceSnapshot;
      const partition = [...watermarks.keys()].find((p) => processor.task(p)?.user('alice')) as number;
      const view = readView(viewFromSnapshot(last), Date.now(), cfg, 'others', snapshotLeases === 'watermark' ? (watermarks.get(partition) ?? null) : null);
      expect(view.status).toBe('Online');
      if (snapshotLeases === 'watermark') {
        // One snapshot for 4 s of beats, though its lastSeen lease (1.5 s) ran out long ago.
        expect(online).toHaveLength(1);
        expect(Date.now() - (last.lastSeen as number)).toBeGreaterThan(cfg.offlineAfterMs);
        expect((watermarks.get(partition) as number) > Date.now() - 2_000).toBe(true);
      } else {
        expect(online.length).toBeGreaterThan(2); // lease refreshes
      }
      // Silence: the processor's own timer writes Offline.
      await waitFor(() => snapshots.at(-1)?.status === 'Offline', 'Offline snapshot after the heartbeats stop', 10_000);
    } finally {
      await producer.disconnect();
      await consumer.disconnect();
      await processor.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
