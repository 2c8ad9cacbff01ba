/**
 * Shared helpers for integration tests against the real broker and registry (started by infra/).
 * Every test gets its own topic prefix and consumer groups, and disconnects every client it makes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Admin, Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { kafkaEnv, parseEnv, withConnectionFile, type KafkaEnv } from '../services/platform/config';
import { createKafka } from '../services/platform/kafka';
import { SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import * as avro from 'avsc';
import type { PresenceHeartbeat } from '../services/contract/avro-types';
import { provisionTopics } from '../services/contract/provision';
import { expandSchema, loadNamedSchemas } from '../services/contract/schemas';
import { AvroSerde, createRegistry } from '../services/contract/serde';
import { TOPICS, valueSubject } from '../services/contract/topics';

/** The test broker and registry: the environment's, else what `make up` started (connection.env), else the defaults. */
export const env: KafkaEnv = parseEnv(kafkaEnv, { ...withConnectionFile(process.env), LOG_LEVEL: 'silent' });

/** A fresh prefix for topics, subjects and groups: tests never share a name. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
}

export function testKafka(clientId = 'presence-test'): Kafka {
  return createKafka({ brokers: env.KAFKA_BROKERS, clientId });
}

/** Creates every contract topic under `prefix` and registers the schemas under prefixed subjects. */
export async function provisionPrefix(prefix: string, partitions = 3): Promise<{ serde: AvroSerde }> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await provisionTopics(admin, { prefix, partitions, replicationFactor: 1 });
  } finally {
    await admin.disconnect();
  }
  return { serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), prefix) };
}

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Awaits one setup step with a deadline that names it: a step with no deadline of its own (a
 * registry call, a socket handshake) would otherwise only end at jest's test timeout, saying nothing.
 */
export async function step<T>(what: string, p: Promise<T>, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` until it returns a value other than undefined/false, or fails naming `what`. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a consumer group over `topic` from the earliest offset until `count` messages arrived. */
export async function consumeMessages(
  kafka: Kafka,
  topic: string,
  count: number,
  opts: { groupId?: string; readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<EachMessagePayload['message'][]> {
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId ?? `${topic}-reader-${randomBytes(3).toString('hex')}`,
    readUncommitted: opts.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
  });
  // By position: a group rebalance under load may deliver a record twice (at-least-once), and the
  // callers count records, not deliveries.
  const messages = new Map<string, EachMessagePayload['message']>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void messages.set(`${partition}:${message.offset}`, message) });
    await waitFor(() => messages.size >= count, `${count} messages on ${topic} (got ${messages.size})`, opts.timeoutMs);
    return [...messages.values()];
  } finally {
    await consumer.disconnect();
  }
}

const ROOT = resolve(__dirname, '..');

/** A service's main.ts as a child process against the test broker and registry; stderr kept for asserts. */
export function spawnService(main: string, extra: Record<string, string>): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, main)], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL, LOG_LEVEL: 'error', ...extra },
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => stderr, exited };
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The independent Python client (infra/pyclient.sh): PYCLIENT_PYTHON, else the venv under INFRA_DIR (or .infra). */
export const pythonClient = process.env['PYCLIENT_PYTHON']
  ?? resolve(process.env['INFRA_DIR'] ?? resolve(ROOT, '.infra'), 'pyclient/bin/python');

/**
 * Registers a second, BACKWARD-compatible version of the heartbeat schema under `prefix` (one extra
 * optional field) and returns an encoder for it: records a reader has never seen the id of, so it
 * must ask the registry for the writer schema the first time one arrives.
 */
export async function evolvedHeartbeat(registry: SchemaRegistry, prefix: string): Promise<{ id: number; encode: (v: PresenceHeartbeat) => Buffer }> {
  const base = expandSchema(TOPICS.heartbeat.valueSchema as string, loadNamedSchemas()) as { fields: unknown[] };
  const schema = { ...base, fields: [...base.fields, { name: 'testNote', type: ['null', 'string'], default: null }] };
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: valueSubject('heartbeat', prefix) });
  const type = avro.Type.forSchema(schema as avro.Schema);
  return {
    id,
    encode: (v) => {
      const header = Buffer.alloc(5);
      header.writeInt32BE(id, 1);
      return Buffer.concat([header, type.toBuffer({ ...v, testNote: 'v2' })]);
    },
  };
}
