/**
 * The notification gate over the real broker and registry, fed by the real processor: heartbeats
 * and overrides in, snapshots out of the processor, requests in, decisions (or dead letters) out of
 * the gate. Every test has its own topic prefix and groups.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Consumer, Producer } from 'kafkajs';
import { DEFAULT_CHANNEL_CLASSES, DEFAULT_CONFIG } from '../core';
import type { DeadLetter, NotificationDecision, NotificationRequest, PresenceHeartbeat, PresenceOverride, PresenceSnapshot } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { startOpsServer } from '../platform/http';
import { SnapshotReplica } from '../platform/snapshot-replica';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { withFatalSends } from '../../test/faults';
import { provisionPrefix, testKafka, uniquePrefix, waitFor, withAdmin } from '../../test/helpers';
import { createNotificationGate, type GateReplica, type NotificationGate } from './gate';

const logLevel = process.env['TEST_LOG_LEVEL'] ?? 'silent';

interface Seen<T> { readonly partition: number; readonly offset: number; readonly key: string | null; readonly value: T }

/** Everything the processor and the gate write under one prefix, decoded, in arrival order. */
async function collect(prefix: string, serde: AvroSerde) {
  const out = { decisions: [] as Seen<NotificationDecision>[], dlq: [] as Seen<DeadLetter>[], snapshots: new Map<string, PresenceSnapshot>() };
  const consumer: Consumer = testKafka().consumer({ groupId: `${prefix}collector`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  for (const role of ['notificationDecision', 'dlq', 'snapshot'] as const) await consumer.subscribe({ topic: topicName(role, prefix), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const at = { partition, offset: Number(message.offset), key: message.key?.toString() ?? null };
      if (topic === topicName('notificationDecision', prefix)) out.decisions.push({ ...at, value: await serde.decode('notificationDecision', message.value) });
      else if (topic === topicName('dlq', prefix)) out.dlq.push({ ...at, value: await serde.decode('dlq', message.value) });
      else if (message.value) out.snapshots.set(at.key ?? '', await serde.decode('snapshot', message.value));
    },
  });
  const decisionOf = (requestId: string) => out.decisions.find((d) => d.value.requestId === requestId);
  return { out, decisionOf, stop: () => consumer.disconnect() };
}

interface World {
  prefix: string;
  serde: AvroSerde;
  producer: Producer;
  seen: Awaited<ReturnType<typeof collect>>;
  gates: NotificationGate[];
  servers: Server[];
  processor: Processor | null;
}

async function world(label: string, withProcessor: boolean): Promise<World> {
  const prefix = uniquePrefix(label);
  const { serde } = await provisionPrefix(prefix, 2);
  const producer = testKafka().producer();
  await producer.connect();
  const processor = withProcessor
    ? await startProcessor({
      kafka: testKafka('processor'), serde, store: new MemoryPartitionStore(), cfg: DEFAULT_CONFIG,
      log: createLogger('processor', logLevel), metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    })
    : null;
  return { prefix, serde, producer, seen: await collect(prefix, serde), gates: [], servers: [], processor };
}

async function teardown(w: World | undefined): Promise<void> {
  if (!w) return;
  for (const s of w.servers) s.close();
  for (const g of w.gates) await g.stop();
  await w.processor?.stop();
  await w.producer.disconnect();
  await w.seen.stop();
}

function gate(w: World, name = 'gate', replica?: GateReplica, kafka = testKafka(name)): NotificationGate {
  const g = createNotificationGate({
    kafka, serde: w.serde, prefix: w.prefix, groupId: `${w.prefix}gate`,
    cfg: DEFAULT_CONFIG, classes: DEFAULT_CHANNEL_CLASSES, log: createLogger(name, logLevel), sessionTimeoutMs: 6_000,
    ...(replica ? { replica } : {}),
  });
  w.gates.push(g);
  return g;
}

async function ops(w: World, g: NotificationGate): Promise<string> {
  const server = await startOpsServer({ port: 0, registry: g.metrics.registry, ready: g.ready });
  w.servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A real replica whose readiness the test releases: it reads the topic, but says ready only when told. */
function heldReplica(inner: SnapshotReplica): { replica: GateReplica; readAll: () => boolean; release: () => void } {
  let released = false;
  let readAll = false;
  let release: () => void = () => undefined;
  const hold = new Promise<void>((r) => (release = r));
  void inner.whenReady.then(() => (readAll = true));
  return {
    replica: {
      users: inner.users, lag: () => inner.lag(), start: () => inner.start(), stop: () => inner.stop(),
      ready: () => released && inner.ready(),
      whenReady: Promise.all([inner.whenReady, hold]).then(() => undefined),
    },
    readAll: () => readAll,
    release: () => {
      released = true;
      release();
    },
  };
}

const heartbeat = async (w: World, userId: string, sessionId: string, gatewayId: string | null = null) => {
  const v: PresenceHeartbeat = { kind: 'heartbeat', userId, deviceId: `${userId}-phone`, sessionId, platform: 'ios', observedAt: Date.now(), idleMs: 0, gatewayId };
  await w.producer.send({ topic: topicName('heartbeat', w.prefix), messages: [{ key: userId, value: await w.serde.encode('heartbeat', v) }] });
};
const override = async (w: World, userId: string, eventId: string, status: 'DoNotDisturb' | 'Available') => {
  const v: PresenceOverride = { kind: 'status', userId, eventId, setAt: Date.now(), status, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy: null , activity: null, actor: null, reason: null};
  await w.producer.send({ topic: topicName('override', w.prefix), messages: [{ key: userId, value: await w.serde.encode('override', v) }] });
};
const request = (requestId: string, userId: string, channel: string, bypassDoNotDisturb = false): NotificationRequest =>
  ({ requestId, userId, channel, bypassDoNotDisturb, requestedAt: Date.now() });
const send = async (w: World, records: Array<{ key: string; value: Buffer }>) =>
  w.producer.send({ topic: topicName('notificationRequest', w.prefix), messages: records, acks: -1 });
const encoded = async (w: World, r: NotificationRequest) => ({ key: r.userId, value: await w.serde.encode('notificationRequest', r) });

describe('notification gate with the processor', () => {
  let w: World | undefined;
  afterEach(async () => {
    await teardown(w);
    w = undefined;
  });

  it('suppresses push for Do Not Disturb, delivers store-and-forward and bypassed pushes, decides unknown users as Offline', async () => {
    w = await world('gate', true);
    const t = w;
    // Presence through the input topics; the processor turns it into snapshots.
    await heartbeat(t, 'dora', 's1', 'gw-dora');
    await override(t, 'dora', 'o1', 'DoNotDisturb');
    await heartbeat(t, 'alice', 's1', 'gw-alice');
    await waitFor(() => t.seen.out.snapshots.get('dora')?.status === 'DoNotDisturb' && t.seen.out.snapshots.get('alice')?.status === 'Online', 'snapshots for dora (DND) and alice (Online)');

    // Requests already waiting when the gate starts are decided only after its replica caught up.
    const requests = [
      request('r-dnd-push', 'dora', 'mobile-push'),
      request('r-dnd-email', 'dora', 'email'),
      request('r-dnd-bypass', 'dora', 'mobile-push', true),
      request('r-online-ws', 'alice', 'websocket'),
      request('r-ghost-push', 'ghost', 'web-push'),
      request('r-ghost-sms', 'ghost', 'sms'),
    ];
    await send(t, await Promise.all(requests.map((r) => encoded(t, r))));
    const g = gate(t);
    const url = await ops(t, g);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const before = Date.now();
    await g.start();
    expect(g.ready()).toBe(true);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    await waitFor(() => requests.every((r) => t.seen.decisionOf(r.requestId)), 'a decision for every request');
    const decided = (id: string) => t.seen.decisionOf(id)?.value;
    expect(decided('r-dnd-push')).toMatchObject({ userId: 'dora', channel: 'mobile-push', deliver: false, reason: 'suppressed-dnd', status: 'DoNotDisturb', userKnown: true, targetGateways: null });
    expect(decided('r-dnd-email')).toMatchObject({ userId: 'dora', channel: 'email', deliver: true, reason: 'store-and-forward', status: 'DoNotDisturb', userKnown: true, targetGateways: null });
    expect(decided('r-dnd-bypass')).toMatchObject({ userId: 'dora', channel: 'mobile-push', deliver: true, reason: 'bypassed-dnd', status: 'DoNotDisturb', userKnown: true, targetGateways: ['gw-dora'] });
    expect(decided('r-online-ws')).toMatchObject({ userId: 'alice', deliver: true, reason: 'online', status: 'Online', userKnown: true, targetGateways: ['gw-alice'] });
    expect(decided('r-ghost-push')).toMatchObject({ userId: 'ghost', deliver: false, reason: 'unknown-user-offline', status: 'Offline', userKnown: false, targetGateways: null });
    expect(decided('r-ghost-sms')).toMatchObject({ userId: 'ghost', deliver: true, reason: 'store-and-forward', status: 'Offline', userKnown: false });
    for (const r of requests) {
      const d = t.seen.decisionOf(r.requestId);
      expect(d?.key).toBe(r.userId); // keyed by userId, like the request
      expect(d?.value.decidedAt).toBeGreaterThanOrEqual(before);
    }
    expect(t.seen.out.dlq).toEqual([]);

    // The replica follows live changes: dora clears DND, the next push goes out.
    await override(t, 'dora', 'o2', 'Available');
    await waitFor(() => g.replica.users.get('dora')?.override?.status === 'Available', 'the gate replica to see dora available');
    await send(t, [await encoded(t, request('r-after-dnd', 'dora', 'mobile-push'))]);
    await waitFor(() => t.seen.decisionOf('r-after-dnd'), 'decision after DND cleared');
    expect(t.seen.decisionOf('r-after-dnd')?.value).toMatchObject({ deliver: true, reason: 'online', status: 'Online', targetGateways: ['gw-dora'] });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('presence_gate_decisions_total{reason="suppressed-dnd",deliver="false"} 1');
    expect(metrics).toContain('presence_gate_decisions_total{reason="bypassed-dnd",deliver="true"} 1');
    expect(metrics).toContain('presence_gate_decisions_total{reason="store-and-forward",deliver="true"} 2');
    expect(metrics).toContain('presence_gate_replica_ready 1');
    expect(metrics).toMatch(/presence_gate_replica_lag_records \d+/);
  });
});

describe('notification gate without presence', () => {
  let w: World | undefined;
  afterEach(async () => {
    await teardown(w);
    w = undefined;
  });

  it('dead-letters bad requests with the reason and keeps deciding the partition after them', async () => {
    w = await world('gate-dlq', false);
    const t = w;
    const g = gate(t);
    const url = await ops(t, g);
    await g.start();

    const heartbeatValue = await t.serde.encode('heartbeat', { kind: 'heartbeat', userId: 'erin', deviceId: 'd', sessionId: 's', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null });
    const unknownSchema = Buffer.concat([Buffer.from([0]), Buffer.from([0x7f, 0xff, 0xff, 0x00]), Buffer.from('body')]);
    // All keyed 'erin': one partition, in this order.
    const bad: Array<{ key: string; value: Buffer; code: string; field: string | null; reason: RegExp }> = [
      { key: 'erin', value: Buffer.from('definitely not avro'), code: 'undecodable', field: null, reason: /not a schema-registry framed Avro value/ },
      { key: 'erin', value: unknownSchema, code: 'unknown-schema', field: null, reason: /unknown to the registry/ },
      { key: 'erin', value: heartbeatValue, code: 'wrong-schema', field: null, reason: /PresenceHeartbeat, expected presence.v1.NotificationRequest/ },
      { ...(await encoded(t, request('r-pigeon', 'erin', 'pigeon'))), code: 'rejected', field: 'channel', reason: /^unknown-channel: unknown channel 'pigeon'$/ },
      { ...(await encoded(t, request('', 'erin', 'email'))), code: 'rejected', field: 'requestId', reason: /^empty: / },
      { key: 'erin', value: await t.serde.encode('notificationRequest', request('r-long', 'e'.repeat(DEFAULT_CONFIG.maxIdLength + 1), 'email')), code: 'rejected', field: 'userId', reason: /^too-long: / },
    ];
    await send(t, [...bad.map(({ key, value }) => ({ key, value })), await encoded(t, request('r-after', 'erin', 'in-app'))]);

    await waitFor(() => t.seen.decisionOf('r-after'), 'the request after the bad ones to be decided');
    await waitFor(() => t.seen.out.dlq.length >= bad.length, `${bad.length} dead letters`);
    const letters = [...t.seen.out.dlq].sort((a, b) => a.value.sourceOffset - b.value.sourceOffset).map((d) => d.value);
    expect(letters).toHaveLength(bad.length);
    letters.forEach((letter, i) => {
      const b = bad[i];
      if (!b) throw new Error('more letters than bad records');
      expect(letter).toMatchObject({ sourceTopic: topicName('notificationRequest', t.prefix), errorCode: b.code, field: b.field, service: 'notification-gate' });
      expect(letter.reason).toMatch(b.reason);
      expect(letter.key?.toString()).toBe('erin');
      expect(letter.value?.equals(b.value)).toBe(true);
    });
    const after = t.seen.decisionOf('r-after');
    expect(after?.value).toMatchObject({ userId: 'erin', deliver: true, reason: 'store-and-forward', userKnown: false });
    // Same partition as the good request, and before it: the partition moved past the poison.
    const at = await requestPosition(t, 'r-after');
    expect(letters.every((l) => l.sourcePartition === at.partition && l.sourceOffset < at.offset)).toBe(true);
    expect(t.seen.out.decisions.map((d) => d.value.requestId)).toEqual(['r-after']);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const code of ['undecodable', 'unknown-schema', 'wrong-schema']) expect(metrics).toContain(`presence_gate_dlq_total{code="${code}"} 1`);
    expect(metrics).toContain('presence_gate_dlq_total{code="rejected"} 3');
  });

  it('requests waiting at start are decided only once the replica has caught up', async () => {
    w = await world('gate-catchup', false);
    const t = w;
    // A snapshot written straight to the contract topic, and a request already waiting for it.
    const now = Date.now();
    const dora: PresenceSnapshot = {
      userId: 'dora', status: 'DoNotDisturb', statusSince: now, lastSeen: now, lastActive: now,
      override: { status: 'DoNotDisturb', customText: null, expiresAt: null }, visibility: 'everyone', lastSeenPrivacy: 'exact', activities: [],
      devices: [{ deviceId: 'd', sessionId: 's', platform: 'web', gatewayId: null, active: true }], version: 1, emittedAt: now, offlineAt: null,
    };
    await t.producer.send({ topic: topicName('snapshot', t.prefix), messages: [{ key: 'dora', value: await t.serde.encode('snapshot', dora) }], acks: -1 });
    await send(t, [await encoded(t, request('r-waiting', 'dora', 'mobile-push'))]);

    const replica = heldReplica(new SnapshotReplica({ kafka: testKafka('replica'), serde: t.serde, prefix: t.prefix, rooms: false, log: createLogger('replica', logLevel), groupIdBase: `${t.prefix}gate` }));
    const g = gate(t, 'gate', replica.replica);
    const starting = g.start();
    // The replica has read everything, but says it is not ready: the gate must not have joined
    // the request group, let alone decided the request.
    await waitFor(() => replica.readAll() && replica.replica.users.has('dora'), 'the replica to have read the snapshot topic');
    expect(g.ready()).toBe(false);
    const [group] = (await withAdmin((a) => a.describeGroups([`${t.prefix}gate`]))).groups;
    expect(group?.members ?? []).toEqual([]);
    expect(t.seen.decisionOf('r-waiting')).toBeUndefined();

    replica.release();
    await starting;
    expect(g.ready()).toBe(true);
    await waitFor(() => t.seen.decisionOf('r-waiting'), 'the waiting request to be decided');
    expect(t.seen.decisionOf('r-waiting')?.value).toMatchObject({ deliver: false, reason: 'suppressed-dnd', status: 'DoNotDisturb', userKnown: true });
  });

  it('a burst larger than one produce slice is decided once per request', async () => {
    w = await world('gate-burst', false);
    const t = w;
    const ids = Array.from({ length: 1_500 }, (_, i) => `burst-${i}`);
    const records = await Promise.all(ids.map((id, i) => encoded(t, request(id, `user-${i % 7}`, i % 2 === 0 ? 'mobile-push' : 'in-app'))));
    await send(t, records); // waiting before the gate starts, so fetches return large batches
    const g = gate(t);
    await g.start();
    await waitFor(() => t.seen.out.decisions.length >= ids.length, `${ids.length} decisions`, 60_000);
    expect(t.seen.out.decisions.map((d) => d.value.requestId).sort()).toEqual([...ids].sort());
    expect(t.seen.out.decisions.filter((d) => d.value.deliver)).toHaveLength(ids.length / 2);
  });

  it('a producer that dies on a send (as after a broker failover) is replaced: every request is decided, the gate stays healthy', async () => {
    w = await world('gate-fatal', false);
    const t = w;
    const injected = withFatalSends(testKafka('gate-fatal'), topicName('notificationDecision', t.prefix), 2);
    const g = gate(t, 'gate-fatal', undefined, injected.kafka);
    const url = await ops(t, g);
    await g.start();
    injected.arm();
    const ids = Array.from({ length: 40 }, (_, i) => `fatal-${i}`);
    for (let i = 0; i < ids.length; i += 10) {
      await send(t, await Promise.all(ids.slice(i, i + 10).map((id, j) => encoded(t, request(id, `user-${j}`, 'in-app')))));
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(() => ids.every((id) => t.seen.decisionOf(id)), 'every request decided', 60_000);
    expect(injected.killed()).toBe(2);
    expect(g.healthy()).toBe(true);
    expect(g.ready()).toBe(true);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/presence_gate_send_failures_total \d+/);
    // Nothing stalled: the group commits every request.
    await waitFor(async () => {
      const [committed] = await withAdmin((a) => a.fetchOffsets({ groupId: `${t.prefix}gate`, topics: [topicName('notificationRequest', t.prefix)] }));
      const ends = await withAdmin((a) => a.fetchTopicOffsets(topicName('notificationRequest', t.prefix)));
      return ends.every((e) => Number(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= Number(e.high));
    }, 'request offsets committed to the end');
  });

  it('a restart in the same group resumes after the committed offsets: a graceful stop decides nothing twice', async () => {
    w = await world('gate-restart', false);
    const t = w;
    const first = gate(t, 'gate-1');
    await first.start();
    await send(t, [await encoded(t, request('r1', 'frank', 'chat')), await encoded(t, request('r2', 'frank', 'sse'))]);
    await waitFor(() => t.seen.decisionOf('r2'), 'r2 decided by the first gate');
    await first.stop();
    expect(first.ready()).toBe(false);

    await send(t, [await encoded(t, request('r3', 'frank', 'websocket'))]);
    const second = gate(t, 'gate-2');
    await second.start();
    await waitFor(() => t.seen.decisionOf('r3'), 'r3 decided by the second gate');
    // Same key, same partition, in order: a re-decided r1/r2 would have arrived before r3.
    expect(t.seen.out.decisions.map((d) => d.value.requestId)).toEqual(['r1', 'r2', 'r3']);
    expect(t.seen.decisionOf('r3')?.value).toMatchObject({ deliver: false, reason: 'unknown-user-offline', userKnown: false });
  });
});

/** Where the request with `requestId` was written (read back from the topic). */
async function requestPosition(w: World, requestId: string): Promise<{ partition: number; offset: number }> {
  const consumer = testKafka().consumer({ groupId: `${w.prefix}offsets-${requestId}`, maxWaitTimeInMs: 50 });
  let found: { partition: number; offset: number } | null = null;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: topicName('notificationRequest', w.prefix), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const r = await w.serde.decode('notificationRequest', message.value).catch(() => null);
        if (r?.requestId === requestId) found = { partition, offset: Number(message.offset) };
      },
    });
    return await waitFor(() => found ?? undefined, `the offset of ${requestId}`);
  } finally {
    await consumer.disconnect();
  }
}
