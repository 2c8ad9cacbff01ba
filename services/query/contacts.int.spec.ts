/**
 * Contacts-only visibility over the real pipeline: broker, registry, the processor and two query
 * service replicas. A Python confluent-kafka producer adds a contact with the registered
 * ContactEntry schema; the TypeScript publisher adds and removes others. Single and batch reads,
 * an SSE stream and a room read differ by viewer; the gate still answers trusted callers on the real
 * status; malformed contact events and an add past the (lowered) bound become one dead letter each,
 * written by the validator group, not by each replica.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Producer } from 'kafkajs';
import { contactKey, DEFAULT_CHANNEL_CLASSES, DEFAULT_CONFIG } from '../core';
import type { DeadLetter, PresenceHeartbeat, PresenceOverride, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { PresencePublisher } from '../gateway/publisher';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { consumeMessages, env, provisionPrefix, pythonClient as python, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { sseEvents } from '../../test/sse';
import { startQueryService, type QueryService } from './service';

const cfg = DEFAULT_CONFIG;
const SECRET = 'contacts-int-test-secret-0123456789-abcdef';
const log = createLogger('contacts-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');
const BOUND = 3;

describe('contacts-only visibility over the real pipeline', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let producer: Producer;
  let publisher: PresencePublisher;
  const replicas: QueryService[] = [];
  const tokens: Record<string, string> = {};

  const start = () => startQueryService({
    kafka: testKafka('contacts-query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
    auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log, host: '127.0.0.1', port: 0,
    batchLimit: 100, gateCallers: ['pipeline'], keepAliveMs: 60_000, validateContacts: true, contactsBound: BOUND,
  });
  const get = async (q: QueryService, path: string, as: string) => {
    const res = await fetch(`${q.url}${path}`, { headers: { authorization: `Bearer ${tokens[as]}` } });
    return (await res.json()) as Record<string, unknown>;
  };
  const presenceOf = (q: QueryService, userId: string, as: string) => get(q, `/v1/users/${userId}/presence`, as);
  const send = async (topic: string, key: string | Buffer, value: Buffer | null) => producer.send({ topic: topicName(topic as 'heartbeat', prefix), messages: [{ key, value }] });

  beforeAll(async () => {
    if (!existsSync(python)) throw new Error(`${python} missing: run infra/pyclient.sh (make deps does)`);
    prefix = uniquePrefix('contacts');
    ({ serde } = await provisionPrefix(prefix, 2));
    for (const u of ['alice', 'bob', 'carol', 'dan', 'pipeline']) tokens[u] = await mintToken(SECRET, u);
    processor = await startProcessor({
      kafka: testKafka('contacts-processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    producer = testKafka().producer();
    await producer.connect();
    publisher = await PresencePublisher.connect({ kafka: testKafka('contacts-pub'), serde, prefix });
    for (let i = 0; i < 2; i++) replicas.push(await start());
    await Promise.all(replicas.map((q) => q.startReplica()));
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
  });

  afterAll(async () => {
    await Promise.all(replicas.map((q) => q.stop()));
    await publisher?.close();
    await producer?.disconnect();
    await processor?.stop();
  });

  it('shows a contacts-only user to their contacts, Offline to everyone else, on every read', async () => {
    const [q1, q2] = replicas as [QueryService, QueryService];
    const now = Date.now();
    const hb: PresenceHeartbeat = { kind: 'heartbeat', userId: 'alice', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: now, idleMs: 0, gatewayId: 'gw-1' };
    await send('heartbeat', 'alice', await serde.encode('heartbeat', hb));
    const vis: PresenceOverride = { kind: 'visibility', userId: 'alice', eventId: 'vis-1', setAt: now, status: null, customText: null, expiresAt: null, visibility: 'contacts', lastSeenPrivacy: null, activity: null, actor: null, reason: null };
    await send('override', 'alice', await serde.encode('override', vis));
    const join: RoomEvent = { kind: 'join', roomKind: 'doc', roomId: '7', userId: 'alice', sessionId: 'tab', observedAt: now, metadata: null, ephemeral: null, ephemeralTtlMs: null };
    await send('room', 'doc/7', await serde.encode('room', join));
    await waitFor(async () => (await presenceOf(q1, 'alice', 'alice'))['visibility'] === 'contacts', 'alice contacts-only, seen by herself');

    // bob is added by a Python confluent-kafka producer with the registered ContactEntry schema.
    const { stdout } = await promisify(execFile)(
      python, [resolve(__dirname, '../../test/contact_producer.py'), env.KAFKA_BROKERS.join(','), env.SCHEMA_REGISTRY_URL, topicName('contacts', prefix), String(now), 'alice:bob'],
      { timeout: 90_000 }, // the script bounds its own delivery at 45 s; its stderr says which step was slow
    );
    expect(stdout.trim()).toMatch(/^\d$/);
    for (const q of replicas) await waitFor(() => q.contacts.book.isContact('alice', 'bob'), 'both replicas read bob into alice\'s list');

    const online = { status: 'Online', devices: [{ deviceId: 'laptop', sessionId: 'tab', platform: 'web' }] };
    const hidden = { status: 'Offline', statusSince: null, lastSeen: null, lastActive: null, override: null, devices: [] };
    for (const q of [q1, q2]) {
      expect(await presenceOf(q, 'alice', 'alice')).toMatchObject({ ...online, visibility: 'contacts' });
      expect(await presenceOf(q, 'alice', 'bob')).toMatchObject(online);
      expect(await presenceOf(q, 'alice', 'carol')).toEqual({ userId: 'alice', ...hidden });
    }
    // A batch filters each user for the caller in the one pass.
    const batch = async (as: string) => {
      const res = await fetch(`${q1.url}/v1/presence:batchGet`, { method: 'POST', headers: { authorization: `Bearer ${tokens[as]}`, 'content-type': 'application/json' }, body: JSON.stringify({ userIds: ['alice', 'dan'] }) });
      return ((await res.json()) as { presences: { userId: string; status: string }[] }).presences.map((p) => `${p.userId}:${p.status}`);
    };
    expect(await batch('bob')).toEqual(['alice:Online', 'dan:Offline']);
    expect(await batch('carol')).toEqual(['alice:Offline', 'dan:Offline']);
    // Rooms: alice is listed (the room is its own answer), her times only to those who see her.
    const room = async (as: string) => ((await get(q1, '/v1/rooms/doc/7', as))['members'] as { userId: string; lastSeen: number | null }[] | undefined) ?? [];
    await waitFor(async () => (await room('bob')).length === 1, 'alice in doc/7');
    expect((await room('bob'))[0]?.lastSeen).toBe(now);
    expect((await room('carol'))[0]?.lastSeen).toBeNull();
    // The gate: the trusted pipeline decides on the real status (the notification-gate consumer too: it never applies visibility).
    expect(await get(q1, '/v1/gate?userId=alice&channel=web-push', 'pipeline')).toMatchObject({ deliver: true, status: 'Online' });

    // carol's stream: Offline, then Online once the publisher adds her; bob's turns Offline when he is removed (a tombstone).
    const stream = (as: string) => fetch(`${q2.url}/v1/presence/stream?userIds=alice&access_token=${tokens[as]}`);
    const carol = sseEvents(await stream('carol'));
    const bob = sseEvents(await stream('bob'));
    try {
      expect(await carol.next()).toMatchObject({ userId: 'alice', status: 'Offline', devices: [] });
      expect(await bob.next()).toMatchObject({ userId: 'alice', status: 'Online' });
      await publisher.addContact('alice', 'carol');
      expect(await carol.next()).toMatchObject({ userId: 'alice', status: 'Online', devices: [{ deviceId: 'laptop' }] });
      await publisher.removeContact('alice', 'bob');
      expect(await bob.next()).toMatchObject({ userId: 'alice', status: 'Offline', devices: [] });
    } finally {
      await carol.close();
      await bob.close();
    }
    expect(await presenceOf(q1, 'alice', 'bob')).toMatchObject({ status: 'Offline', devices: [] });
  });

  it('malformed contact events and an add past the bound are one dead letter each, whichever replica read them', async () => {
    const [q1, q2] = replicas as [QueryService, QueryService];
    const topic = topicName('contacts', prefix);
    const t = Date.now();
    const entry = (owner: string, contact: string, addedAt = t) => serde.encode('contacts', { owner, contact, addedAt });
    // erin's list, bound 3: ann, ben, cat fit; dia (added last) is past it.
    for (const [c, dt] of [['ann', 1], ['ben', 2], ['cat', 3]] as const) await send('contacts', contactKey('erin', c), await entry('erin', c, t + dt));
    await waitFor(() => q1.contacts.book.listOf('erin')?.size === 3 && q2.contacts.book.listOf('erin')?.size === 3, 'erin\'s three contacts read');
    await send('contacts', contactKey('erin', 'dia'), await entry('erin', 'dia', t + 4));
    await send('contacts', 'erin/ann', await entry('erin', 'ann')); // no separator in the key
    await send('contacts', contactKey('erin', 'fay'), await entry('mallory', 'fay')); // the value's owner is not the key's
    await producer.send({ topic, messages: [{ key: contactKey('erin', 'gus'), value: Buffer.from('not avro') }] });

    const letters = await Promise.all((await consumeMessages(testKafka(), topicName('dlq', prefix), 4, { timeoutMs: 60_000 }))
      .map(async (m) => serde.decode('dlq', m.value) as Promise<DeadLetter>));
    expect(letters.map((l) => [l.service, l.errorCode, l.field]).sort()).toEqual([
      ['query-contacts-validator', 'rejected', 'contact'],
      ['query-contacts-validator', 'rejected', 'key'],
      ['query-contacts-validator', 'rejected', 'owner'],
      ['query-contacts-validator', 'undecodable', null],
    ]);
    expect(letters.find((l) => l.field === 'contact')?.reason).toContain('at most 3 contacts');
    expect(letters.every((l) => l.sourceTopic === topic)).toBe(true);
    // Every replica leaves dia out by the same rule, and skipped the malformed ones without writing anything.
    for (const q of [q1, q2]) {
      await waitFor(() => q.contacts.book.listOf('erin')?.has('dia'), 'dia read (kept, but past the bound)');
      expect(['ann', 'ben', 'cat', 'dia'].map((c) => q.contacts.book.isContact('erin', c))).toEqual([true, true, true, false]);
      expect(q.contacts.book.isContact('erin', 'fay')).toBe(false);
    }
    // No second copy from the other replica: a marker written after them is read, and still four letters.
    await send('contacts', contactKey('erin', 'zed'), null);
    await send('contacts', 'marker-without-separator', null);
    const after = await consumeMessages(testKafka(), topicName('dlq', prefix), 5, { timeoutMs: 60_000 });
    expect(after).toHaveLength(5);
  });
});
