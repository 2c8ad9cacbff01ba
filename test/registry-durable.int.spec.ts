/**
 * Schema ids are written into every record, so the registry must keep them across a restart: a
 * restarted registry that handed an old record's id to another schema (in-memory storage did)
 * makes old snapshots undecodable for every reader. This test runs its own registry instance
 * (infra/registry.sh, the storage `make up` uses, its own folder and free ports) so restarting it
 * disturbs no other test, writes a snapshot with our serde, restarts the registry, lets another
 * client register a different schema first, and reads the old record with Python's confluent-kafka.
 * And a processor running across a restart: a record whose schema id it first meets while the
 * registry is down is retried until the registry answers, then applied; nothing is dead-lettered.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import type { PresenceSnapshot } from '../services/contract/avro-types';
import { provisionTopics } from '../services/contract/provision';
import { AvroSerde, createRegistry, registerSchemas } from '../services/contract/serde';
import { topicName } from '../services/contract/topics';
import { DEFAULT_CONFIG } from '../services/core';
import { createLogger } from '../services/platform/log';
import { createProcessorMetrics } from '../services/processor/metrics';
import { startProcessor } from '../services/processor/processor';
import { LevelPartitionStore } from '../services/processor/store';
import { env, evolvedHeartbeat, freePort, pythonClient, testKafka, uniquePrefix, waitFor, withAdmin } from './helpers';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');

describe('durable schema registry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'presence-registry-'));
  let instanceEnv: NodeJS.ProcessEnv = {};
  let url = '';
  const registrySh = (cmd: string) => run('bash', [resolve(ROOT, 'infra/registry.sh'), cmd], { env: instanceEnv, timeout: 150_000 });

  beforeAll(async () => {
    if (!existsSync(pythonClient)) throw new Error(`${pythonClient} missing: run infra/pyclient.sh (make deps does)`);
    const [port, management] = [await freePort(), await freePort()];
    instanceEnv = { ...process.env, REGISTRY_INSTANCE_DIR: dir, REGISTRY_PORT: String(port), REGISTRY_MANAGEMENT_PORT: String(management) };
    delete instanceEnv['REGISTRY_STORAGE']; // the default storage is what is under test
    url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    await registrySh('start');
  }, 180_000);

  afterAll(async () => {
    await registrySh('stop').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an old record still decodes after a restart and a foreign registration; ids never change', async () => {
    const prefix = uniquePrefix('durable');
    await withAdmin((admin) => provisionTopics(admin, { prefix, partitions: 1, replicationFactor: env.TOPIC_REPLICATION_FACTOR }));
    const registry = createRegistry(url);
    const ids = await registerSchemas(registry, prefix);
    const serde = await AvroSerde.create(registry, prefix);
    const topic = topicName('snapshot', prefix);
    const snapshot: PresenceSnapshot = {
      userId: 'erin', status: 'Busy', statusSince: 1_790_000_000_000, lastSeen: 1_790_000_010_000, lastActive: 1_790_000_005_000,
      override: { status: 'Busy', customText: 'In a meeting', expiresAt: null }, visibility: 'everyone', lastSeenPrivacy: 'exact', activities: [],
      devices: [{ deviceId: 'erin-laptop', sessionId: 's1', platform: 'web', gatewayId: null, active: true }], version: 3, emittedAt: 1_790_000_010_001, offlineAt: null,
    };
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: 'erin', value: await serde.encode('snapshot', snapshot) }] });
    } finally {
      await producer.disconnect();
    }

    await registrySh('restart');

    // Another client registers something else first: it must get a new id, not one of ours.
    const foreign = await createRegistry(url).register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Foreign', namespace: 'other', fields: [{ name: 'n', type: 'long' }] }) },
      { subject: `${prefix}other-value` },
    );
    expect(Object.values(ids)).not.toContain(foreign.id);
    expect(await registerSchemas(createRegistry(url), prefix)).toEqual(ids);

    const { stdout } = await run(pythonClient, [resolve(__dirname, 'independent_reader.py'), env.KAFKA_BROKERS.join(','), url, topic, '1'], { timeout: 60_000 });
    const record = JSON.parse(stdout.trim().split('\n')[0] ?? '{}') as { key: string; value: Record<string, unknown> };
    expect(record.key).toBe('erin');
    expect(record.value).toMatchObject({ userId: 'erin', status: 'Busy', version: 3, override: { customText: 'In a meeting' } });
  }, 240_000);

  it('a processor keeps its records across a registry restart: one with a schema id first seen while it is down waits, is never dead-lettered', async () => {
    const prefix = uniquePrefix('regrestart');
    await withAdmin((admin) => provisionTopics(admin, { prefix, partitions: 2, replicationFactor: env.TOPIC_REPLICATION_FACTOR }));
    const registry = createRegistry(url);
    const serde = await AvroSerde.create(registry, prefix);
    // Another client registers v2: the processor's client would otherwise hold it in its cache.
    const v2 = await evolvedHeartbeat(createRegistry(url), prefix);
    const dir = mkdtempSync(join(tmpdir(), 'presence-regrestart-'));
    const latest = new Map<string, PresenceSnapshot>();
    const watch = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
    await watch.connect();
    await watch.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
    await watch.run({ eachMessage: async ({ message }) => void latest.set(message.key?.toString() ?? '', await serde.decode('snapshot', message.value)) });
    const producer = testKafka().producer();
    await producer.connect();
    const processor = await startProcessor({
      kafka: testKafka('regrestart'), serde, store: await LevelPartitionStore.open(dir), cfg: DEFAULT_CONFIG, log: createLogger('regrestart', 'silent'),
      metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50, commitIntervalMs: 500,
    });
    const beat = (userId: string) => ({ kind: 'heartbeat' as const, userId, deviceId: `${userId}-laptop`, sessionId: 'tab', platform: 'web' as const, observedAt: Date.now(), idleMs: 0, gatewayId: null });
    const before = ['ann', 'bob', 'cid'];
    const during = ['dan', 'eve', 'fay'];
    try {
      await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready', 30_000);
      await producer.send({ topic: topicName('heartbeat', prefix), messages: before.map((u) => ({ key: u, value: serde.encodeSync('heartbeat', beat(u)) })) });
      await waitFor(() => before.every((u) => latest.get(u)?.status === 'Online'), 'users before the restart Online');
      await registrySh('stop');
      // Written while the registry is down, with a schema version this processor has not read yet.
      await producer.send({ topic: topicName('heartbeat', prefix), messages: during.map((u) => ({ key: u, value: v2.encode(beat(u)) })) });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(during.filter((u) => latest.has(u))).toEqual([]);
      await registrySh('start');
      await waitFor(() => during.every((u) => latest.get(u)?.status === 'Online'), 'users written during the outage Online', 30_000);
      const dlq = await withAdmin(async (admin) => (await admin.fetchTopicOffsets(topicName('dlq', prefix))).reduce((n, p) => n + Number(p.high), 0));
      expect(dlq).toBe(0);
      expect(processor.healthy()).toBe(true);
    } finally {
      await processor.stop();
      await Promise.all([producer.disconnect(), watch.disconnect()]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
