import { readFileSync } from 'node:fs';
import { GENERATED_TYPES_PATH, generateTypes } from './generate-types';
import { avroType, expandSchema, loadNamedSchemas } from './schemas';
import { checkCoPartitioning, CoPartitioningError } from './provision';
import { SAME_PARTITION_COUNT, TOPICS, topicName, type TopicRole } from './topics';

const named = loadNamedSchemas();
const topLevel = Object.values(TOPICS).flatMap((t) => (t.valueSchema ? [t.valueSchema] : []));

describe('schemas', () => {
  it('generated TypeScript types are up to date (npx tsx services/contract/generate-types.ts)', () => {
    expect(readFileSync(GENERATED_TYPES_PATH, 'utf8')).toBe(generateTypes());
  });

  it.each(topLevel)('%s expands to one self-contained, parseable schema', (name) => {
    const expanded = JSON.stringify(expandSchema(name, named));
    for (const ref of named.keys()) {
      // A named type is defined at most once; later uses are by name.
      expect(expanded.split(`"name":"${ref.split('.').pop()}"`).length - 1).toBeLessThanOrEqual(1);
    }
    expect(() => avroType(name, named)).not.toThrow();
  });

  it.each([...named.values()].map((s) => [s.file, s] as const))('%s documents every field; nullable fields default to null', (_file, schema) => {
    expect(typeof schema.json['doc']).toBe('string');
    expect(schema.json['namespace']).toBe('presence.v1');
    for (const field of (schema.json['fields'] ?? []) as Array<Record<string, unknown>>) {
      expect([field['name'], typeof field['doc']]).toEqual([field['name'], 'string']);
      if (Array.isArray(field['type']) && field['type'][0] === 'null') {
        expect([field['name'], field['default']]).toEqual([field['name'], null]);
      }
    }
  });

  it('timestamps carry the timestamp-millis logical type', () => {
    const heartbeat = JSON.stringify(expandSchema('presence.v1.PresenceHeartbeat', named));
    expect(heartbeat).toContain('"name":"observedAt","type":{"type":"long","logicalType":"timestamp-millis"}');
  });
});

describe('co-partitioning check', () => {
  const counts = (overrides: Partial<Record<TopicRole, number>>) =>
    Object.fromEntries((['heartbeat', 'override', 'room', 'storeChangelog'] as TopicRole[]).map((r) => [topicName(r), overrides[r] ?? 6]));

  it('accepts equal partition counts', () => {
    expect(() => checkCoPartitioning(counts({}))).not.toThrow();
  });
  it.each<[TopicRole, number | undefined]>([['room', 3], ['storeChangelog', 12], ['override', undefined]])('rejects %s with %s partitions', (role, n) => {
    const c = counts({});
    if (n === undefined) delete c[topicName(role)];
    else c[topicName(role)] = n;
    expect(() => checkCoPartitioning(c)).toThrow(CoPartitioningError);
  });
  it('provisioning also checks the snapshot, watermark and journal topics; the processor inputs alone by default', () => {
    const all = { ...counts({}), ...Object.fromEntries((['snapshot', 'roomSnapshot', 'watermark', 'journal'] as TopicRole[]).map((r) => [topicName(r), 6])) };
    expect(() => checkCoPartitioning(all, '', SAME_PARTITION_COUNT)).not.toThrow();
    expect(() => checkCoPartitioning({ ...all, [topicName('watermark')]: 3 }, '', SAME_PARTITION_COUNT)).toThrow(CoPartitioningError);
    expect(() => checkCoPartitioning({ ...all, [topicName('snapshot')]: 12 }, '', SAME_PARTITION_COUNT)).toThrow(/presence\.snapshot\.v1=12/);
    expect(() => checkCoPartitioning({ ...all, [topicName('journal')]: 2 }, '', SAME_PARTITION_COUNT)).toThrow(/presence\.processor-journal\.v1=2/);
    expect(() => checkCoPartitioning(counts({}))).not.toThrow();
  });
});
