/**
 * A client not written here (Python confluent-kafka over librdkafka, with its own Avro
 * deserializer and registry client) reads what our serde wrote, from the registry alone.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { PresenceSnapshot } from '../services/contract/avro-types';
import { topicName } from '../services/contract/topics';
import { env, provisionPrefix, pythonClient as python, testKafka, uniquePrefix } from './helpers';

describe('independent Avro client', () => {
  beforeAll(() => {
    if (!existsSync(python)) throw new Error(`${python} missing: run infra/pyclient.sh (make deps does)`);
  });

  it('decodes presence snapshots through the registry with confluent-kafka', async () => {
    const prefix = uniquePrefix('indep');
    const { serde } = await provisionPrefix(prefix, 1);
    const topic = topicName('snapshot', prefix);
    const snapshot: PresenceSnapshot = {
      userId: 'dana', status: 'DoNotDisturb', statusSince: 1_790_000_000_000, lastSeen: 1_790_000_010_000,
      lastActive: 1_790_000_005_000,
      override: { status: 'DoNotDisturb', customText: 'Focus time', expiresAt: 1_790_003_600_000 },
      visibility: 'everyone',
      devices: [{ deviceId: 'dana-phone', sessionId: 's1', platform: 'ios' }],
      version: 7, emittedAt: 1_790_000_010_001,
    };
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: 'dana', value: await serde.encode('snapshot', snapshot) }] });
    } finally {
      await producer.disconnect();
    }

    const { stdout } = await promisify(execFile)(
      python,
      [resolve(__dirname, 'independent_reader.py'), env.KAFKA_BROKERS.join(','), env.SCHEMA_REGISTRY_URL, topic, '1'],
      { timeout: 60_000 },
    );
    const [line] = stdout.trim().split('\n');
    const record = JSON.parse(line ?? '{}') as { key: string; value: Record<string, unknown> };
    expect(record.key).toBe('dana');
    expect(record.value).toMatchObject({
      userId: 'dana', status: 'DoNotDisturb', version: 7, visibility: 'everyone',
      override: { status: 'DoNotDisturb', customText: 'Focus time' },
      devices: [{ deviceId: 'dana-phone', platform: 'ios' }],
    });
    // fastavro turns timestamp-millis into a datetime: the logical type survived registration.
    expect(String(record.value['lastSeen'])).toMatch(/^2026-/);
  });
});
