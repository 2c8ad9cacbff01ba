/**
 * The processor over the real broker and registry, with shortened thresholds: a scripted day for a
 * few users and a room, and poison records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Producer } from 'kafkajs';
import { validateConfig, type PresenceConfig } from '../core';
import type { DeadLetter, PresenceChange, PresenceHeartbeat, PresenceOverride, PresenceSnapshot, RoomEvent, RoomSnapshot } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { createLogger } from '../platform/log';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor, type Guarantee, type Processor } from './processor';
import { LevelPartitionStore } from './store';

const cfgResult = validateConfig({
  heartbeatIntervalMs: 300, offlineAfterMs: 1_500, awayAfterMs: 2_500, roomMemberExpiryMs: 1_500,
  refreshLeadMs: 300, sessionRetentionMs: 60_000,
});
if (!cfgResult.ok) throw new Error('bad test config');
const cfg: PresenceConfig = cfgResult.config;

interface Outputs {
  snapshots: Array<{ key: string; value: PresenceSnapshot }>;
  rooms: Array<{ key: string; value: RoomSnapshot | null }>;
  changes: PresenceChange[];
  dlq: DeadLetter[];
}

async function collectOutputs(prefix: string, serde: AvroSerde): Promise<{ out: Outputs; consumer: Consumer }> {
  const out: Outputs = { snapshots: [], rooms: [], changes: [], dlq: [] };
  const consumer = testKafka().consumer({ groupId: `${prefix}outputs`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  for (const role of ['snapshot', 'roomSnapshot', 'changes', 'dlq'] as const) await consumer.subscribe({ topic: topicName(role, prefix), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const key = message.key?.toString() ?? '';
      if (topic === topicName('snapshot', prefix)) out.snapshots.push({ key, value: await serde.decode('snapshot', message.value) });
      else if (topic === topicName('roomSnapshot', prefix)) out.rooms.push({ key, value: message.value ? await serde.decode('roomSnapshot', message.value) : null });
      else if (topic === topicName('changes', prefix)) out.changes.push(await serde.decode('changes', message.value));
      else out.dlq.push(await serde.decode('dlq', message.value));
    },
  });
  return { out, consumer };
}

describe.each<Guarantee>(['at-least-once', 'exactly-once'])('processor (%s)', (guarantee) => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let producer: Producer;
  let outputs: { out: Outputs; consumer: Consumer };
  let dataDir: string;
  const metrics = createProcessorMetrics();

  beforeAll(async () => {
    prefix = uniquePrefix('proc');
    ({ serde } = await provisionPrefix(prefix, 2));
    dataDir = mkdtempSync(join(tmpdir(), 'presence-proc-'));
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: await LevelPartitionStore.open(dataDir), cfg,
      log: createLogger('processor', process.env['TEST_LOG_LEVEL'] ?? 'silent'), metrics, prefix,
      groupId: `${prefix}processor`, guarantee, timerResolutionMs: 50,
    });
    producer = testKafka().producer();
    await producer.connect();
    outputs = await collectOutputs(prefix, serde);
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
  });

  afterAll(async () => {
    await producer?.disconnect();
    await outputs?.consumer.disconnect();
    await processor?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const heartbeat = async (userId: string, sessionId: string, idleMs: number, kind: 'heartbeat' | 'disconnect' = 'heartbeat') => {
    const v: PresenceHeartbeat = { kind, userId, deviceId: `${userId}-dev`, sessionId, platform: 'web', observedAt: Date.now(), idleMs, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };
  const latest = (userId: string) => [...outputs.out.snapshots].reverse().find((s) => s.key === userId)?.value;
  const statusesOf = (userId: string) => outputs.out.changes.filter((c) => c.userId === userId).map((c) => c.to);

  it('two tabs, one idle: Online; then silence: Away never, Offline by the clock', async () => {
    await heartbeat('alice', 'tab-active', 0);
    await heartbeat('alice', 'tab-background', 40_000);
    await waitFor(() => latest('alice')?.devices.length === 2 && latest('alice'), 'alice with two devices');
    expect(latest('alice')?.status).toBe('Online');
    await waitFor(() => latest('alice')?.status === 'Offline', 'alice offline by the clock', 10_000);
    // Snapshots and changes are separate topics, read by separate fetches: wait for both.
    await waitFor(() => statusesOf('alice').length >= 2, 'alice offline on the changes topic');
    expect(statusesOf('alice')).toEqual(['Online', 'Offline']);
    const offline = outputs.out.changes.find((c) => c.userId === 'alice' && c.to === 'Offline');
    expect(offline?.cause).toBe('clock');
  });

  it('metrics: transitions by cause (an expiry is Offline by the clock) and the gateway-to-processor delay of sampled heartbeats', async () => {
    for (let i = 0; i < 40; i++) await heartbeat('metrics-user', `tab-${i % 2}`, 0);
    await waitFor(async () => ((await metrics.eventDelay.get()).values.find((v) => v.metricName === 'presence_processor_event_delay_seconds_count')?.value ?? 0) >= 2, 'sampled delays');
    const transitions = (await metrics.transitions.get()).values;
    expect(transitions.find((v) => v.labels['to'] === 'Offline' && v.labels['cause'] === 'clock')?.value).toBeGreaterThanOrEqual(1); // alice, above
    expect(transitions.find((v) => v.labels['to'] === 'Online' && v.labels['cause'] === 'event')?.value).toBeGreaterThanOrEqual(1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/presence_processor_event_delay_seconds_bucket\{le="60"\} \d+/);
  });

  it('a heartbeat that changes nothing visible emits nothing', async () => {
    await heartbeat('erin', 's1', 0);
    await waitFor(() => latest('erin')?.status === 'Online', 'erin online');
    const before = outputs.out.snapshots.filter((s) => s.key === 'erin').length;
    await heartbeat('erin', 's1', 0);
    await heartbeat('erin', 's1', 10);
    await heartbeat('marker', 's1', 0); // same input topic; once it shows, erin's were processed
    await waitFor(() => latest('marker'), 'marker snapshot');
    expect(outputs.out.snapshots.filter((s) => s.key === 'erin').length).toBe(before);
  });

  it('Do Not Disturb wins over activity; a clean disconnect of the last session is Offline at once', async () => {
    const override: PresenceOverride = { kind: 'status', userId: 'carol', eventId: 'e1', setAt: Date.now(), status: 'DoNotDisturb', customText: 'Focus', expiresAt: null, visibility: null, lastSeenPrivacy: null , activity: null, actor: null, reason: null};
    await heartbeat('carol', 's1', 0);
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: 'carol', value: await serde.encode('override', override) }] });
    await waitFor(() => latest('carol')?.status === 'DoNotDisturb', 'carol in DND');
    expect(latest('carol')?.override).toEqual({ status: 'DoNotDisturb', customText: 'Focus', expiresAt: null });

    await heartbeat('dave', 'phone', 0);
    await heartbeat('dave', 'laptop', 0);
    await waitFor(() => latest('dave')?.devices.length === 2, 'dave on two devices');
    await heartbeat('dave', 'phone', 0, 'disconnect');
    await waitFor(() => latest('dave')?.devices.length === 1, 'dave on one device');
    expect(latest('dave')?.status).toBe('Online');
    const t0 = Date.now();
    await heartbeat('dave', 'laptop', 0, 'disconnect');
    await waitFor(() => latest('dave')?.status === 'Offline', 'dave offline after the last disconnect');
    expect(Date.now() - t0).toBeLessThan(cfg.offlineAfterMs);
  });

  it('rooms: join shows members, leave of the last member writes a tombstone', async () => {
    const room = (kind: RoomEvent['kind'], userId: string, sessionId: string): RoomEvent => ({
      kind, roomKind: 'document', roomId: '42', userId, sessionId, observedAt: Date.now(), metadata: kind === 'join' ? { color: 'teal' } : null, ephemeral: null, ephemeralTtlMs: null,
    });
    const send = async (e: RoomEvent) =>
      producer.send({ topic: topicName('room', prefix), messages: [{ key: 'document/42', value: await serde.encode('room', e) }] });
    await send(room('join', 'alice', 'a1'));
    await send(room('join', 'bob', 'b1'));
    const last = () => [...outputs.out.rooms].reverse().find((r) => r.key === 'document/42');
    await waitFor(() => last()?.value?.members.length === 2, 'two members in the room');
    expect(last()?.value?.members.map((m) => [m.userId, m.metadata])).toEqual([['alice', { color: 'teal' }], ['bob', { color: 'teal' }]]);
    await send(room('leave', 'alice', 'a1'));
    await send(room('leave', 'bob', 'b1'));
    await waitFor(() => last() !== undefined && last()?.value === null, 'room tombstone');
  });

  it('an override past its expiry stops applying, and a silent room member expires, both by the clock', async () => {
    const expiresAt = Date.now() + 800;
    await heartbeat('fay', 's1', 0);
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: 'fay', value: await serde.encode('override', {
      kind: 'status', userId: 'fay', eventId: 'busy-1', setAt: Date.now(), status: 'Busy', customText: null, expiresAt, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null,
    }) }] });
    await waitFor(() => latest('fay')?.status === 'Busy', 'fay busy');
    // Keep fay's session alive so only the expiry can change the status.
    const keepAlive = setInterval(() => void heartbeat('fay', 's1', 0), 250);
    try {
      await waitFor(() => latest('fay')?.status === 'Online', 'fay back to Online after the override expired', 5_000);
    } finally {
      clearInterval(keepAlive);
    }
    await waitFor(() => statusesOf('fay').at(-1) === 'Online', 'fay back to Online on the changes topic');
    expect(statusesOf('fay').slice(-2)).toEqual(['Busy', 'Online']);
    expect(latest('fay')?.override).toBeNull();

    const join: RoomEvent = { kind: 'join', roomKind: 'call', roomId: '7', userId: 'gus', sessionId: 'g1', observedAt: Date.now(), metadata: null, ephemeral: null, ephemeralTtlMs: null };
    await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'call/7', value: await serde.encode('room', join) }] });
    const last = () => [...outputs.out.rooms].reverse().find((r) => r.key === 'call/7');
    await waitFor(() => last()?.value?.members.length === 1, 'gus in the call');
    await waitFor(() => last() !== undefined && last()?.value === null, 'room tombstone after member expiry', 5_000);
    // Not before the member's expiry, counted from the join's own instant (the snapshot showing it
    // may arrive late on a busy machine, so the instant it was seen is no reference).
    expect(Date.now() - join.observedAt).toBeGreaterThanOrEqual(cfg.roomMemberExpiryMs);
  });

  it('a scripted day for one user gives exactly the expected sequences of snapshots and changes', async () => {
    const U = 'gil';
    const beat = (sessionId: string, idleMs: number, observedAt = Date.now()) => {
      const v: PresenceHeartbeat = { kind: 'heartbeat', userId: U, deviceId: `${U}-${sessionId}`, sessionId, platform: 'web', observedAt, idleMs, gatewayId: null };
      return serde.encode('heartbeat', v).then((value) => producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: U, value }] }));
    };
    const bye = async (sessionId: string) => {
      const v: PresenceHeartbeat = { kind: 'disconnect', userId: U, deviceId: `${U}-${sessionId}`, sessionId, platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
      await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: U, value: await serde.encode('heartbeat', v) }] });
    };
    // Both tabs keep beating every 250 ms (offline is at 1.5 s). `idleSince` is null while the user
    // works (idle 0 in every beat, so a slow machine cannot make them Away underneath the DND and
    // turn its expiry into an event-driven change), else the instant they stopped.
    let idleSince: number | null = null;
    const idleMs = (now: number) => (idleSince === null ? 0 : now - idleSince);
    const keepAlive = setInterval(() => {
      const now = Date.now();
      void beat('tab1', idleMs(now));
      void beat('tab2', idleMs(now) + 40_000);
    }, 250);
    try {
      await beat('tab1', 0); // morning: Online
      await waitFor(() => latest(U)?.status === 'Online', 'gil online');
      await beat('tab2', 40_000); // a background tab: a second device, still Online
      await waitFor(() => latest(U)?.devices.length === 2, 'gil on two tabs');
      await producer.send({ topic: topicName('override', prefix), messages: [{ key: U, value: await serde.encode('override', {
        kind: 'status', userId: U, eventId: 'dnd-1', setAt: Date.now(), status: 'DoNotDisturb', customText: 'standup', expiresAt: Date.now() + 1_000, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null,
      }) }] });
      await waitFor(() => latest(U)?.status === 'DoNotDisturb', 'gil in DND');
      // still working through the meeting
      await waitFor(() => latest(U)?.status === 'Online', 'DND expired by the clock', 5_000);
      idleSince = Date.now(); // then idle: tabs keep beating with growing idle time
      await waitFor(() => latest(U)?.status === 'Away', 'gil away by the clock', 8_000);
      idleSince = null; // back at the keyboard
      await waitFor(() => latest(U)?.status === 'Online', 'gil back online');
    } finally {
      clearInterval(keepAlive);
    }
    await bye('tab1');
    await waitFor(() => latest(U)?.devices.length === 1, 'gil on one tab');
    await bye('tab2');
    await waitFor(() => latest(U)?.status === 'Offline', 'gil offline at once after the last disconnect');

    await waitFor(() => statusesOf(U).length >= 6, 'every change of the day on the changes topic');
    const changes = outputs.out.changes.filter((c) => c.userId === U);
    expect(changes.map((c) => `${c.from}→${c.to}:${c.cause}`)).toEqual([
      'Offline→Online:event', 'Online→DoNotDisturb:event', 'DoNotDisturb→Online:clock', 'Online→Away:clock', 'Away→Online:event', 'Online→Offline:event',
    ]);
    // Snapshots: what a reader sees, with lease refreshes (same visible fields, later lastSeen) folded.
    const snapshots = outputs.out.snapshots.filter((x) => x.key === U).map((x) => x.value);
    const visible = snapshots.map((v) => `${v.status}/${v.devices.length}/${v.override?.status ?? '-'}`);
    expect(visible.filter((x, i) => x !== visible[i - 1])).toEqual([
      'Online/1/-', 'Online/2/-', 'DoNotDisturb/2/DoNotDisturb', 'Online/2/-', 'Away/2/-', 'Online/2/-', 'Online/1/-', 'Offline/0/-',
    ]);
    const versions = snapshots.map((v) => v.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(changes.map((c) => c.version)).size).toBe(changes.length);
  });

  it('poison records go to the DLQ with a reason; later records are processed', async () => {
    const topic = topicName('heartbeat', prefix);
    const wrongSchema = await serde.encode('changes', { userId: 'x', from: 'Online', to: 'Away', at: 1, cause: 'event', version: 1 });
    const emptyUser = await serde.encode('heartbeat', { kind: 'heartbeat', userId: '', deviceId: 'd', sessionId: 's', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null });
    const unknownId = Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2, 3]);
    await producer.send({
      topic,
      messages: [
        { key: 'zed', value: Buffer.from('garbage bytes, not avro') },
        { key: 'zed', value: wrongSchema },
        { key: 'zed', value: unknownId },
        { key: '', value: emptyUser },
      ],
    });
    // Close to the broker's 1 MiB limit: its dead letter must be cut, or the broker refuses it and the partition stalls.
    await producer.send({ topic, messages: [{ key: 'zed', value: Buffer.alloc(1_048_400, 0x61) }] });
    await heartbeat('zed', 's1', 0);
    await waitFor(() => latest('zed')?.status === 'Online', 'zed processed after the poison');
    await waitFor(() => outputs.out.dlq.length >= 5 && outputs.out.dlq, 'five dead letters');
    expect(outputs.out.dlq.map((d) => [d.errorCode, d.field]).sort()).toEqual(
      [['rejected', 'userId'], ['undecodable', null], ['undecodable', null], ['unknown-schema', null], ['wrong-schema', null]],
    );
    expect(outputs.out.dlq.every((d) => d.sourceTopic === topic && d.reason.length > 0)).toBe(true);
    const big = outputs.out.dlq.find((d) => d.reason.includes('value cut'));
    expect(big?.value?.length).toBe(64 * 1024);
    expect(big?.reason).toMatch(/value cut from 1048400 to 65536 bytes/);
  });
});
