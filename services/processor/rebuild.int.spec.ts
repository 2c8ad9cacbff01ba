/**
 * The exact rebuild against the real broker and registry: a recorded live run (the real processor,
 * short thresholds, a script of heartbeats, overrides, a disconnect and room events with pauses, so
 * clock-driven Away, Offline, override expiry and room member expiry happen on the processor's
 * timers), then `presence rebuild` (the bin, as a user runs it) into a second prefix. Every user's
 * transitions (from, to, at, cause, version) and snapshots, and every room's changes and snapshots,
 * must be the live run's exactly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Producer } from 'kafkajs';
import { validateConfig, type PresenceConfig } from '../core';
import type { PresenceChange, PresenceHeartbeat, PresenceOverride, ProcessorJournalEntry, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName, type TopicRole } from '../contract/topics';
import { createLogger } from '../platform/log';
import { PartitionReader } from '../platform/partition-reader';
import { env, provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor, type Processor } from './processor';
import type { RebuildSummary } from './rebuild';
import { LevelPartitionStore } from './store';

const THRESHOLDS = {
  heartbeatIntervalMs: 200, offlineAfterMs: 1_200, awayAfterMs: 1_500, roomMemberExpiryMs: 1_200,
  refreshLeadMs: 200, sessionRetentionMs: 60_000,
};
const checked = validateConfig(THRESHOLDS);
if (!checked.ok) throw new Error('bad test config');
const cfg: PresenceConfig = checked.config;
const ROOT = resolve(__dirname, '../..');
const BIN = resolve(ROOT, 'services/cli/presence.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every record of a topic under `prefix`, decoded, grouped by key in offset order (tombstones as null). */
async function readByKey(prefix: string, role: Extract<TopicRole, 'changes' | 'snapshot' | 'roomSnapshot' | 'roomChanges' | 'journal'>, serde: AvroSerde): Promise<Map<string, unknown[]>> {
  const kafka = testKafka('rebuild-reader');
  const topic = topicName(role, prefix);
  const admin = kafka.admin();
  await admin.connect();
  const partitions = (await admin.fetchTopicOffsets(topic)).map((o) => o.partition);
  await admin.disconnect();
  const reader = new PartitionReader({ kafka, partitions: partitions.map((partition) => ({ topic, partition, from: 'earliest' as const })) });
  const out = new Map<string, unknown[]>();
  try {
    await reader.run(async ({ messages }) => {
      for (const m of messages) {
        const key = m.key?.toString() ?? '';
        const value = m.value === null ? null : await serde.decode(role, m.value);
        out.set(key, [...(out.get(key) ?? []), value]);
      }
    }, { until: 'end' });
  } finally {
    await reader.stop();
  }
  return out;
}

/** Runs the presence bin with --json; resolves with its exit code and output. */
function presence(args: string[], extra: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'], HOME: process.env['HOME'], KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL,
      CLI_TIMEOUT_MS: '20000', ...Object.fromEntries(Object.entries(THRESHOLDS).map(([k, v]) => [`PRESENCE_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, String(v)])), ...extra,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((r) => child.once('close', (code) => r({ code, stdout, stderr })));
}

describe('presence rebuild', () => {
  const live = uniquePrefix('rebuild-live');
  const rebuilt = uniquePrefix('rebuild-out');
  let serde: AvroSerde;
  let processor: Processor | null = null;
  let producer: Producer;
  let dataDir: string;

  beforeAll(async () => {
    ({ serde } = await provisionPrefix(live, 2));
    dataDir = mkdtempSync(join(tmpdir(), 'presence-rebuild-'));
    producer = testKafka('rebuild-gateway').producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await processor?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives the live run\'s transitions and snapshots exactly', async () => {
    // A backlog before the processor starts, read in small batches: its first batches catch up
    // (outputs deferred, steps journaled with flushed false and sent with the next output).
    for (let i = 0; i < 40; i++) {
      const users = [0, 1, 2].map((j) => `early-${(i * 3 + j) % 24}`);
      await producer.send({
        topic: topicName('heartbeat', live),
        messages: await Promise.all(users.map(async (userId) => ({ key: userId, value: await serde.encode('heartbeat', { kind: 'heartbeat', userId, deviceId: 'd', sessionId: 's', platform: 'ios', observedAt: Date.now(), idleMs: 0, gatewayId: null }) }))),
      });
    }
    processor = await startProcessor({
      kafka: testKafka('rebuild-processor'), serde, store: await LevelPartitionStore.open(dataDir), cfg,
      log: createLogger('processor', process.env['TEST_LOG_LEVEL'] ?? 'silent'), metrics: createProcessorMetrics(), prefix: live,
      groupId: `${live}processor`, guarantee: 'at-least-once', timerResolutionMs: 50, commitIntervalMs: 500, watermarkIntervalMs: 200,
      fetchMaxBytesPerPartition: 1_024, catchUpLagRecords: 5,
    });
    await waitFor(() => processor?.ready() && processor.assigned().length === 2, 'live processor ready');

    const t0 = Date.now();
    const hb = async (userId: string, idleMs = 0, kind: 'heartbeat' | 'disconnect' = 'heartbeat') => {
      const v: PresenceHeartbeat = { kind, userId, deviceId: `${userId}-laptop`, sessionId: `${userId}-s1`, platform: 'web', observedAt: Date.now(), idleMs, gatewayId: null };
      return { topic: topicName('heartbeat', live), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] };
    };
    const override = async (userId: string, status: PresenceOverride['status'], expiresInMs: number | null = null) => {
      const setAt = Date.now();
      const v: PresenceOverride = { kind: 'status', userId, eventId: `${userId}-${setAt}`, setAt, status, customText: null, expiresAt: expiresInMs === null ? null : setAt + expiresInMs, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null };
      return { topic: topicName('override', live), messages: [{ key: userId, value: await serde.encode('override', v) }] };
    };
    const room = async (userId: string, kind: RoomEvent['kind']) => {
      const v: RoomEvent = { kind, roomKind: 'doc', roomId: '42', userId, sessionId: `${userId}-s1`, observedAt: Date.now(), metadata: kind === 'join' ? { cursor: '1' } : null, ephemeral: null, ephemeralTtlMs: null };
      return { topic: topicName('room', live), messages: [{ key: 'doc/42', value: await serde.encode('room', v) }] };
    };
    const send = async (...batches: Array<Promise<{ topic: string; messages: Array<{ key: string; value: Buffer }> }>>) => {
      await producer.sendBatch({ topicMessages: await Promise.all(batches) });
    };

    // The script: 3 s of beats (alice idle from t0 on: Away by the clock), overrides with and without
    // expiry, a clean disconnect, room joins and a leave; then silence, and a late comeback for dave.
    await send(hb('alice'), hb('bob'), hb('carol'), hb('dave'), room('alice', 'join'), room('bob', 'join'));
    for (let i = 1; i <= 15; i++) {
      await sleep(200);
      const beats = [hb('alice', Date.now() - t0), hb('carol'), room('alice', 'heartbeat')];
      if (i <= 9) beats.push(hb('bob'), room('bob', 'heartbeat'));
      if (i === 3) beats.push(override('bob', 'DoNotDisturb'));
      if (i === 4) beats.push(override('carol', 'Busy', 500));
      if (i === 6) beats.push(override('bob', 'Available'));
      if (i === 9) beats.push(hb('bob', 0, 'disconnect'), room('bob', 'leave'));
      await send(...beats);
    }
    // Silence: alice and carol go Offline by the clock, alice's room membership expires.
    await waitFor(async () => {
      const changes = [...(await readByKey(live, 'changes', serde)).values()].flat() as PresenceChange[];
      return ['alice', 'carol', 'dave'].every((u) => changes.some((c) => c.userId === u && c.to === 'Offline' && c.cause === 'clock'));
    }, 'alice, carol and dave Offline by the clock', 15_000);
    await send(hb('dave')); // back after being Offline: an event-driven transition after clock-driven ones
    await sleep(1_800); // and gone again by the clock
    await processor.stop();
    processor = null;

    const r = await presence(['rebuild', '--to-prefix', rebuilt], { TOPIC_PREFIX: live });
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    const summary = JSON.parse(r.stdout) as RebuildSummary;
    expect(summary).toMatchObject({ fromPrefix: live, toPrefix: rebuilt, partitions: 2, journal: true, unjournaled: 0, badSteps: 0, deadLetters: 0, rerouted: 0 });

    const [liveChanges, rebuiltChanges] = [await readByKey(live, 'changes', serde), await readByKey(rebuilt, 'changes', serde)];
    const all = [...liveChanges.values()].flat() as PresenceChange[];
    // The live run did what the script is for: clock-driven and event-driven transitions of each kind.
    const seen = (u: string, from: string, to: string, cause: string) => all.some((c) => c.userId === u && c.from === from && c.to === to && c.cause === cause);
    expect([
      seen('alice', 'Online', 'Away', 'clock'), seen('alice', 'Away', 'Offline', 'clock'),
      seen('bob', 'Online', 'DoNotDisturb', 'event'), seen('bob', 'DoNotDisturb', 'Online', 'event'), seen('bob', 'Online', 'Offline', 'event'),
      seen('carol', 'Online', 'Busy', 'event'), seen('carol', 'Busy', 'Online', 'clock'), seen('carol', 'Online', 'Offline', 'clock'),
      seen('dave', 'Offline', 'Online', 'event'), (liveChanges.get('dave') ?? []).length >= 4,
    ]).toEqual(Array(10).fill(true));
    expect(summary.transitions).toBe(all.length);
    const steps = [...(await readByKey(live, 'journal', serde)).values()].flat() as ProcessorJournalEntry[];
    expect(summary.steps).toBe(steps.length);
    expect(steps.some((e) => e.step === 'batch' && !e.flushed)).toBe(true); // the backlog was caught up, outputs deferred
    expect(steps.some((e) => e.step === 'tick')).toBe(true);
    // Every backlog user got its first snapshot (Online or, when the deferred flush came later than
    // the offline threshold, already Offline: timing, the same in both runs).
    expect([...(await readByKey(live, 'snapshot', serde)).keys()].filter((k) => k.startsWith('early-'))).toHaveLength(24);

    // Equal, key by key, record by record: transitions (from, to, at, cause, version), snapshots
    // (status, statusSince, devices, override, lastSeen, version, emittedAt...), rooms.
    expect(Object.fromEntries(rebuiltChanges)).toEqual(Object.fromEntries(liveChanges));
    for (const role of ['snapshot', 'roomSnapshot', 'roomChanges'] as const) {
      const [a, b] = [await readByKey(live, role, serde), await readByKey(rebuilt, role, serde)];
      expect(a.size).toBeGreaterThan(0);
      expect({ role, records: Object.fromEntries(b) }).toEqual({ role, records: Object.fromEntries(a) });
    }
    // The room emptied twice over (bob left, alice expired): its last snapshot is a tombstone in both.
    expect((await readByKey(rebuilt, 'roomSnapshot', serde)).get('doc/42')?.at(-1)).toBeNull();

    // A second rebuild into the same prefix is refused: its outputs are not fresh.
    const again = await presence(['rebuild', '--to-prefix', rebuilt], { TOPIC_PREFIX: live });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds records/);
  }, 120_000);
});
