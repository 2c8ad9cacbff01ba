/**
 * Crash recovery against the real broker: the same input is processed by an uninterrupted
 * processor (in this process) and by a processor process that is killed with SIGKILL mid-stream and
 * restarted, with its LevelDB store kept or deleted. Their final snapshots must be equal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Consumer, Producer } from 'kafkajs';
import { DEFAULT_CONFIG } from '../core';
import type { PresenceHeartbeat, PresenceOverride, PresenceSnapshot, RoomEvent, RoomSnapshot } from '../contract/avro-types';
import { createTopicsAndWait } from '../contract/provision';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { createLogger } from '../platform/log';
import { env, provisionPrefix, testKafka, uniquePrefix, waitFor, withAdmin } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor, type Guarantee } from './processor';
import { LevelPartitionStore } from './store';

const ROOT = resolve(__dirname, '../..');
type Input = { role: 'heartbeat'; value: PresenceHeartbeat } | { role: 'override'; value: PresenceOverride } | { role: 'room'; value: RoomEvent };

/** A deterministic busy minute for `users` users: tabs, idle reports, overrides, disconnects, rooms. */
function script(users: number, t0: number): Input[] {
  const out: Input[] = [];
  for (let round = 0; round < 4; round++) {
    for (let u = 0; u < users; u++) {
      const userId = `user-${u}`;
      const at = t0 + round * 100 + u;
      for (const tab of ['tab-a', 'tab-b']) {
        out.push({ role: 'heartbeat', value: { kind: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId: tab, platform: 'web', observedAt: at, idleMs: tab === 'tab-a' ? 0 : 40_000 * round, gatewayId: null } });
      }
      if (round === 1 && u % 5 === 0) {
        out.push({ role: 'override', value: { kind: 'status', userId, eventId: `o-${u}`, setAt: at, status: u % 10 === 0 ? 'DoNotDisturb' : 'Busy', customText: `meeting ${u}`, expiresAt: null, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null } });
      }
      if (round === 2 && u % 7 === 0) {
        out.push({ role: 'override', value: { kind: 'visibility', userId, eventId: `v-${u}`, setAt: at, status: null, customText: null, expiresAt: null, visibility: 'nobody', lastSeenPrivacy: null, activity: null, actor: null, reason: null } });
      }
      if (round === 3 && u % 3 === 0) {
        out.push({ role: 'heartbeat', value: { kind: 'disconnect', userId, deviceId: `${userId}-laptop`, sessionId: 'tab-b', platform: 'web', observedAt: at + 50, idleMs: 0, gatewayId: null } });
      }
      if (u % 4 === 0) {
        const kind = round === 3 && u % 8 === 0 ? 'leave' : round === 0 ? 'join' : 'heartbeat';
        out.push({ role: 'room', value: { kind, roomKind: 'document', roomId: `doc-${u % 3}`, userId, sessionId: 'tab-a', observedAt: at, metadata: kind === 'join' ? { cursor: `c${u}` } : null, ephemeral: null, ephemeralTtlMs: null } });
      }
    }
  }
  return out;
}

async function publish(producer: Producer, serde: AvroSerde, prefix: string, inputs: Input[]): Promise<void> {
  const messages = await Promise.all(inputs.map(async (i) => ({
    topic: topicName(i.role, prefix),
    key: i.role === 'room' ? `${i.value.roomKind}/${i.value.roomId}` : i.value.userId,
    value: i.role === 'heartbeat' ? await serde.encode('heartbeat', i.value) : i.role === 'override' ? await serde.encode('override', i.value) : await serde.encode('room', i.value),
  })));
  for (let i = 0; i < messages.length; i += 200) {
    const chunk = messages.slice(i, i + 200);
    const topics = [...new Set(chunk.map((m) => m.topic))];
    await producer.sendBatch({ topicMessages: topics.map((topic) => ({ topic, messages: chunk.filter((m) => m.topic === topic).map(({ key, value }) => ({ key, value })) })) });
  }
}

/** The latest snapshot per key, reduced to what a reader sees (not emittedAt or lease times). */
async function watchFinal(prefix: string, serde: AvroSerde) {
  const users = new Map<string, unknown>();
  const rooms = new Map<string, unknown>();
  const consumer: Consumer = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
  await consumer.subscribe({ topic: topicName('roomSnapshot', prefix), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const key = message.key?.toString() ?? '';
      if (topic === topicName('snapshot', prefix)) {
        const s: PresenceSnapshot = await serde.decode('snapshot', message.value);
        users.set(key, { status: s.status, override: s.override, visibility: s.visibility, devices: s.devices });
      } else {
        const r: RoomSnapshot | null = message.value ? await serde.decode('roomSnapshot', message.value) : null;
        rooms.set(key, r && r.members.map((m) => [m.userId, m.sessionId, m.joinedAt, m.metadata]));
      }
    },
  });
  const view = () => ({ users: Object.fromEntries([...users].sort()), rooms: Object.fromEntries([...rooms].sort()) });
  return { view, users, rooms, stop: () => consumer.disconnect() };
}

function spawnProcessor(prefix: string, dataDir: string, guarantee: Guarantee, streamThreads = 1): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/processor/main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env, TOPIC_PREFIX: prefix, PROCESSOR_DATA_DIR: dataDir, PROCESSOR_GROUP_ID: `${prefix}processor`,
      PROCESSOR_GUARANTEE: guarantee, PROCESSOR_HTTP_PORT: '0', LOG_LEVEL: 'error', PROCESSOR_SESSION_TIMEOUT_MS: '6000',
      PROCESSOR_STREAM_THREADS: String(streamThreads),
      KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL,
    },
  });
}

const killed = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

describe.each<[Guarantee, 'kept' | 'deleted', number]>([
  ['at-least-once', 'kept', 1], ['at-least-once', 'deleted', 1], ['exactly-once', 'kept', 1], ['exactly-once', 'deleted', 1],
  // Stream threads: the whole process dies; each thread restores its own store (or the changelog).
  ['at-least-once', 'kept', 2], ['exactly-once', 'deleted', 2],
])('kill -9 and restart (%s, local store %s, %i stream thread(s))', (guarantee, storeAfterCrash, streamThreads) => {
  it('ends with the same snapshots as an uninterrupted run', async () => {
    const reference = uniquePrefix('ref');
    const crashed = uniquePrefix('crash');
    const [{ serde: refSerde }, { serde }] = await Promise.all([provisionPrefix(reference, 2), provisionPrefix(crashed, 2)]);
    const refDir = mkdtempSync(join(tmpdir(), 'presence-ref-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'presence-crash-'));
    const producer = testKafka().producer();
    await producer.connect();
    const refWatch = await watchFinal(reference, refSerde);
    const watch = await watchFinal(crashed, serde);
    const refProcessor = await startProcessor({
      kafka: testKafka('ref'), serde: refSerde, store: await LevelPartitionStore.open(refDir), cfg: DEFAULT_CONFIG,
      log: createLogger('ref', 'silent'), metrics: createProcessorMetrics(), prefix: reference,
      groupId: `${reference}processor`, guarantee, timerResolutionMs: 50,
    });
    let child = spawnProcessor(crashed, dataDir, guarantee, streamThreads);
    try {
      const inputs = script(120, Date.now());
      const half = Math.floor(inputs.length / 2);
      await publish(producer, refSerde, reference, inputs);
      await publish(producer, serde, crashed, inputs.slice(0, half));
      await waitFor(() => watch.users.size >= 20, 'the crashing processor to have written snapshots', 30_000);
      child.kill('SIGKILL');
      await killed(child);
      await publish(producer, serde, crashed, inputs.slice(half));
      if (storeAfterCrash === 'deleted') rmSync(dataDir, { recursive: true, force: true });
      child = spawnProcessor(crashed, dataDir, guarantee, streamThreads);

      await waitFor(() => refWatch.users.size === 120 && refWatch.view(), 'reference run to finish', 30_000);
      const expected = JSON.stringify(refWatch.view());
      await waitFor(() => JSON.stringify(watch.view()) === expected, 'crashed run to converge to the reference snapshots', 45_000)
        .catch(() => expect(watch.view()).toEqual(refWatch.view()));
      expect(watch.view()).toEqual(refWatch.view());
      expect(Object.keys(watch.view().rooms).length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
      await killed(child);
      await refProcessor.stop();
      await Promise.all([producer.disconnect(), refWatch.stop(), watch.stop()]);
      rmSync(refDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('two processors in one group', () => {
  it('when one stops, the other takes its partitions, restores them and carries on', async () => {
    const reference = uniquePrefix('ref2');
    const shared = uniquePrefix('pair');
    const [{ serde: refSerde }, { serde }] = await Promise.all([provisionPrefix(reference, 3), provisionPrefix(shared, 3)]);
    const dirs = [mkdtempSync(join(tmpdir(), 'presence-a-')), mkdtempSync(join(tmpdir(), 'presence-b-')), mkdtempSync(join(tmpdir(), 'presence-r-'))];
    const producer = testKafka().producer();
    await producer.connect();
    const refWatch = await watchFinal(reference, refSerde);
    const watch = await watchFinal(shared, serde);
    const start = async (prefix: string, s: AvroSerde, dir: string, name: string) => startProcessor({
      kafka: testKafka(name), serde: s, store: await LevelPartitionStore.open(dir), cfg: DEFAULT_CONFIG,
      log: createLogger(name, 'silent'), metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`,
      guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    const ref = await start(reference, refSerde, dirs[2] as string, 'ref');
    const a = await start(shared, serde, dirs[0] as string, 'a');
    const b = await start(shared, serde, dirs[1] as string, 'b');
    let aStopped = false;
    try {
      await waitFor(() => a.assigned().length + b.assigned().length === 3 && a.assigned().length > 0 && b.assigned().length > 0, 'both members to own partitions');
      const inputs = script(90, Date.now());
      const half = Math.floor(inputs.length / 2);
      await publish(producer, refSerde, reference, inputs);
      await publish(producer, serde, shared, inputs.slice(0, half));
      await waitFor(() => watch.users.size === 90, 'first half processed by both members');
      const movedPartitions = a.assigned();
      await a.stop();
      aStopped = true;
      await waitFor(() => b.assigned().length === 3 && b.ready(), 'b to own and restore every partition');
      expect(movedPartitions.every((p) => (b.task(p)?.size ?? 0) > 0)).toBe(true);
      await publish(producer, serde, shared, inputs.slice(half));
      await waitFor(() => refWatch.users.size === 90, 'reference run');
      const expected = JSON.stringify(refWatch.view());
      await waitFor(() => JSON.stringify(watch.view()) === expected, 'snapshots after failover to equal the reference')
        .catch(() => expect(watch.view()).toEqual(refWatch.view()));
      expect(watch.view()).toEqual(refWatch.view());
    } finally {
      if (!aStopped) await a.stop();
      await b.stop();
      await ref.stop();
      await Promise.all([producer.disconnect(), refWatch.stop(), watch.stop()]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('rebuild', () => {
  it('re-running from offset zero with an empty store and changelog gives the same final snapshots', async () => {
    const prefix = uniquePrefix('rebuild');
    const { serde } = await provisionPrefix(prefix, 2);
    const dirs = [mkdtempSync(join(tmpdir(), 'presence-first-')), mkdtempSync(join(tmpdir(), 'presence-rebuild-'))];
    const producer = testKafka().producer();
    await producer.connect();
    let watch = await watchFinal(prefix, serde);
    const run = async (dir: string, group: string) => startProcessor({
      kafka: testKafka(group), serde, store: await LevelPartitionStore.open(dir), cfg: DEFAULT_CONFIG,
      log: createLogger(group, 'silent'), metrics: createProcessorMetrics(), prefix, groupId: `${prefix}${group}`,
      guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    try {
      await publish(producer, serde, prefix, script(60, Date.now()));
      const first = await run(dirs[0] as string, 'first');
      await waitFor(() => watch.users.size === 60 && first.ready(), 'first run');
      // Quiet means: no snapshot for a while after the last input was applied.
      let seen = -1;
      await waitFor(async () => {
        const now = JSON.stringify(watch.view()).length;
        const stable = now === seen;
        seen = now;
        await new Promise((r) => setTimeout(r, 500));
        return stable;
      }, 'first run to settle');
      const before = JSON.stringify(watch.view());
      await first.stop();

      // A rebuild: new group (offsets from zero), empty local store, empty changelog and outputs
      // (a processor restoring over outputs it already wrote takes them as what readers were told
      // and does not repeat them).
      await watch.stop();
      const recreated = (['storeChangelog', 'snapshot', 'roomSnapshot'] as const).map((role) => topicName(role, prefix));
      await withAdmin(async (admin) => {
        await admin.deleteTopics({ topics: recreated });
        await waitFor(async () => !(await admin.listTopics()).some((t) => recreated.includes(t)), 'topics deleted');
        await createTopicsAndWait(admin, recreated.map((topic) => ({ topic, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })));
      });
      watch = await watchFinal(prefix, serde);
      const rebuilt = await run(dirs[1] as string, 'rebuild');
      try {
        await waitFor(() => watch.users.size === 60 && JSON.stringify(watch.view()) === before, 'rebuilt snapshots to equal the first run', 30_000)
          .catch(() => expect(JSON.parse(JSON.stringify(watch.view()))).toEqual(JSON.parse(before)));
      } finally {
        await rebuilt.stop();
      }
    } finally {
      await Promise.all([producer.disconnect(), watch.stop()]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
