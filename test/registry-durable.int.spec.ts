/**
 * Schema ids are written into every record, so the registry must keep them across a restart: a
 * restarted registry that handed an old record's id to another schema (in-memory storage did)
 * makes old snapshots undecodable for every reader. This test runs its own registry instance
 * (infra/registry.sh, the storage `make up` uses, its own folder and free ports) so restarting it
 * disturbs no other test, writes a snapshot with our serde, restarts the registry, lets another
 * client register a different schema first, and reads the old record with Python's confluent-kafka.
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
import { env, freePort, pythonClient, testKafka, uniquePrefix, withAdmin } from './helpers';

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
      override: { status: 'Busy', customText: 'In a meeting', expiresAt: null }, visibility: 'everyone',
      devices: [{ deviceId: 'erin-laptop', sessionId: 's1', platform: 'web' }], version: 3, emittedAt: 1_790_000_010_001,
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
});
