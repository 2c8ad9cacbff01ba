/**
 * The adaptive offline rule against the real broker and registry (issue 14): with it on, a session
 * beating every 2 s goes offline well before the fixed 45 s after it stops, at exactly the deadline
 * its history gives; a session with 20 s gaps does not flap when its next beat comes 20 s later.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adaptiveOfflineAfter, arrivalEstimate, readView, validateConfig, type PresenceConfig } from '../core';
import type { PresenceSnapshot } from '../contract/avro-types';
import { viewFromSnapshot } from '../contract/snapshot-codec';
import { topicName } from '../contract/topics';
import { createLogger } from '../platform/log';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor } from './processor';
import { LevelPartitionStore } from './store';

const FIXED_OFFLINE_MS = 45_000;
const checked = validateConfig({ heartbeatIntervalMs: 1_000, refreshLeadMs: 1_000, offlineAfterMs: FIXED_OFFLINE_MS, adaptiveOffline: { enabled: true, minOfflineAfterMs: 5_000 } });
if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
const cfg: PresenceConfig = checked.config;
const rule = cfg.adaptiveOffline as NonNullable<PresenceConfig['adaptiveOffline']>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('adaptive rule on: 2 s beats go offline at their deadline, well before 45 s; 20 s gaps do not flap', async () => {
  const prefix = uniquePrefix('adaptive');
  const { serde } = await provisionPrefix(prefix, 2);
  const dir = mkdtempSync(join(tmpdir(), 'presence-adaptive-'));
  const snapshots: PresenceSnapshot[] = [];
  const consumer = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void snapshots.push(await serde.decode('snapshot', message.value)) });
  const processor = await startProcessor({
    kafka: testKafka('adaptive'), serde, store: await LevelPartitionStore.open(dir), cfg, log: createLogger('adaptive', 'silent'),
    metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
  });
  const producer = testKafka().producer();
  await producer.connect();
  const beat = async (userId: string, observedAt: number) =>
    producer.send({
      topic: topicName('heartbeat', prefix),
      messages: [{ key: userId, value: await serde.encode('heartbeat', { kind: 'heartbeat', userId, deviceId: 'd', sessionId: 's', platform: 'web', observedAt, idleMs: 0, gatewayId: null }) }],
    });
  const of = (userId: string) => snapshots.filter((s) => s.userId === userId);
  try {
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
    const now = Date.now();
    // alice: six beats 2 s apart ending now (stamped by her gateway); bob: six beats 20 s apart.
    const alice = [10, 8, 6, 4, 2, 0].map((s) => now - s * 1_000);
    const bob = [100, 80, 60, 40, 20, 0].map((s) => now - s * 1_000);
    for (const t of alice) await beat('alice', t);
    for (const t of bob) await beat('bob', t);

    const aliceAfter = adaptiveOfflineAfter(arrivalEstimate(alice, rule.maxOfflineAfterMs), rule);
    const bobAfter = adaptiveOfflineAfter(arrivalEstimate(bob, rule.maxOfflineAfterMs), rule);
    expect(aliceAfter).toBeLessThan(FIXED_OFFLINE_MS / 3); // ≈ 7.6 s: mean 2 s + z(8) × the 1 s floor
    expect(bobAfter).toBeGreaterThan(20_000); // ≈ 25.6 s: room for the next 20 s gap

    await waitFor(() => of('alice').some((s) => s.status === 'Offline'), 'alice Offline after her beats stop', 25_000);
    const online = of('alice').filter((s) => s.status === 'Online').at(-1) as PresenceSnapshot;
    const offline = of('alice').find((s) => s.status === 'Offline') as PresenceSnapshot;
    // Recorded at the exact deadline of her history, not at the fixed 45 s.
    expect(offline.statusSince).toBe(now + aliceAfter);
    // The Online snapshot's lease lies between her deadline and the fixed rule's: written after her
    // first beats (too few gaps yet: the fixed 45 s) it is not renewed when the deadline only moves
    // earlier; written after all six (one batch) it is the deadline. Either way a reader holding it
    // alone (the processor gone) decays no later than the fixed rule would, and the processor's
    // Offline record came at the deadline itself.
    expect(online.offlineAt).toBeGreaterThanOrEqual(now + aliceAfter);
    expect(online.offlineAt).toBeLessThanOrEqual((online.lastSeen as number) + FIXED_OFFLINE_MS);
    expect(readView(viewFromSnapshot(online), now + aliceAfter - 1, cfg, 'others').status).toBe('Online');
    expect(readView(viewFromSnapshot(offline), now + aliceAfter, cfg, 'others').status).toBe('Offline');

    // bob's next beat comes after his usual 20 s; he must never have read Offline.
    await sleep(now + 20_000 - Date.now());
    await beat('bob', Date.now());
    const until = now + bobAfter + 1_000; // past the deadline his earlier beats gave
    while (Date.now() < until) {
      const last = of('bob').at(-1);
      if (last !== undefined) expect(readView(viewFromSnapshot(last), Date.now(), cfg, 'others').status).toBe('Online');
      await sleep(250);
    }
    // His first, back-dated beats read Offline when applied (100 s old); from his first Online on, never again.
    const statuses = of('bob').map((s) => s.status);
    expect(statuses).toContain('Online');
    expect(statuses.slice(statuses.indexOf('Online'))).not.toContain('Offline');
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
    await processor.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);
