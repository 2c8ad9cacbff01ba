/**
 * Short fault tests against the real broker: a member paused past its session timeout writes
 * nothing when it resumes (both guarantees), a record a producer sent to the wrong partition is
 * re-sent to its own and applied there, never on the wrong task, and a fatal producer error on the
 * at-least-once output path is recovered with nothing lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type PresenceConfig } from '../core';
import type { PresenceSnapshot } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { createLogger } from '../platform/log';
import { keyHash } from '../platform/partitioner';
import { withFatalSends } from '../../test/faults';
import { provisionPrefix, spawnService, testKafka, uniquePrefix, waitFor, withAdmin } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor, type Guarantee } from './processor';
import { LevelPartitionStore, MemoryPartitionStore, StoreError, type PartitionStore } from './store';

const OFFLINE_MS = 8_000;
const checked = validateConfig({ heartbeatIntervalMs: 1_000, offlineAfterMs: OFFLINE_MS, awayAfterMs: 60_000, roomMemberExpiryMs: 5_000, refreshLeadMs: 1_000, sessionRetentionMs: 120_000 });
if (!checked.ok) throw new Error('bad test config');
const cfg: PresenceConfig = checked.config;

async function watchSnapshots(prefix: string, serde: AvroSerde) {
  const seen: Array<{ key: string; value: PresenceSnapshot; partition: number }> = [];
  const consumer = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
  await consumer.run({ eachMessage: async ({ partition, message }) => { seen.push({ key: message.key?.toString() ?? '', value: await serde.decode('snapshot', message.value), partition }); } });
  return { seen, stop: () => consumer.disconnect() };
}

const heartbeat = async (serde: AvroSerde, userId: string, observedAt: number) =>
  serde.encode('heartbeat', { kind: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId: 'tab', platform: 'web', observedAt, idleMs: 0, gatewayId: null });

describe.each<Guarantee>(['at-least-once', 'exactly-once'])('a member paused past its session timeout (%s)', (guarantee) => {
  it('writes nothing when it resumes', async () => {
    const prefix = uniquePrefix('zombie');
    const { serde } = await provisionPrefix(prefix, 2);
    const dirs = [mkdtempSync(join(tmpdir(), 'presence-zombie-a-')), mkdtempSync(join(tmpdir(), 'presence-zombie-b-'))];
    const watch = await watchSnapshots(prefix, serde);
    const producer = testKafka().producer();
    await producer.connect();
    const groupId = `${prefix}processor`;
    const a = spawnService('services/processor/main.ts', {
      TOPIC_PREFIX: prefix, PROCESSOR_DATA_DIR: dirs[0] as string, PROCESSOR_GROUP_ID: groupId, PROCESSOR_GUARANTEE: guarantee,
      PROCESSOR_HTTP_PORT: '0', PROCESSOR_SESSION_TIMEOUT_MS: '6000', PROCESSOR_COMMIT_INTERVAL_MS: '500',
      PRESENCE_HEARTBEAT_INTERVAL_MS: '1000', PRESENCE_OFFLINE_AFTER_MS: String(OFFLINE_MS), PRESENCE_AWAY_AFTER_MS: '60000',
      PRESENCE_ROOM_MEMBER_EXPIRY_MS: '5000', PRESENCE_REFRESH_LEAD_MS: '1000', PRESENCE_SESSION_RETENTION_MS: '120000',
    });
    let b: Awaited<ReturnType<typeof startProcessor>> | null = null;
    try {
      const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
      // Beat every second as a gateway does until A shows everyone Online: A's start (a tsx child on a
      // busy CI box) can outlast OFFLINE_MS, and a single early beat would then be stale on arrival.
      let lastBeat = 0;
      await waitFor(async () => {
        if (Date.now() - lastBeat >= 1_000) {
          lastBeat = Date.now();
          await producer.send({ topic: topicName('heartbeat', prefix), messages: await Promise.all(users.map(async (u) => ({ key: u, value: await heartbeat(serde, u, lastBeat) }))) });
        }
        return new Set(watch.seen.filter((s) => s.value.status === 'Online').map((s) => s.key)).size === 20;
      }, 'A emits every user Online', 60_000);
      a.child.kill('SIGSTOP');
      b = await startProcessor({
        kafka: testKafka('b'), serde, store: await LevelPartitionStore.open(dirs[1] as string), cfg, log: createLogger('b', 'silent'),
        metrics: createProcessorMetrics(), prefix, groupId, guarantee, timerResolutionMs: 50, sessionTimeoutMs: 6_000, commitIntervalMs: 500,
      });
      const bb = b;
      await waitFor(() => bb.ready() && bb.assigned().length === 2, 'B takes both partitions', 30_000);
      // B's timers turn everyone Offline; then nothing is left to write.
      const latest = () => new Map(watch.seen.map((s) => [s.key, s.value]));
      await waitFor(() => [...latest().values()].filter((v) => v.status === 'Offline').length === 20, 'B emits every user Offline', 30_000);
      await new Promise((r) => setTimeout(r, 1_500));
      const before = watch.seen.length;
      const resumedAt = Date.now();
      a.child.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, 5_000));
      const after = watch.seen.slice(before);
      expect(after.filter((s) => s.value.emittedAt >= resumedAt)).toEqual([]);
      // Versions per key never went back.
      const last = new Map<string, number>();
      for (const s of watch.seen) {
        expect(s.value.version).toBeGreaterThanOrEqual(last.get(s.key) ?? 0);
        last.set(s.key, s.value.version);
      }
    } finally {
      a.child.kill('SIGCONT');
      a.child.kill('SIGKILL');
      await a.exited;
      await b?.stop();
      await producer.disconnect();
      await watch.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('the partitioning contract', () => {
  it('a heartbeat on the wrong partition is re-sent to its own and applied there', async () => {
    const prefix = uniquePrefix('route');
    const { serde } = await provisionPrefix(prefix, 2);
    const dir = mkdtempSync(join(tmpdir(), 'presence-route-'));
    const watch = await watchSnapshots(prefix, serde);
    const producer = testKafka().producer();
    await producer.connect();
    const processor = await startProcessor({
      kafka: testKafka('route'), serde, store: await LevelPartitionStore.open(dir), cfg, log: createLogger('route', 'silent'),
      metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    try {
      await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
      const right = (keyHash('misrouted-user') & 0x7fffffff) % 2;
      const wrong = 1 - right;
      await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: 'misrouted-user', partition: wrong, value: await heartbeat(serde, 'misrouted-user', Date.now()) }] });
      await waitFor(() => watch.seen.some((s) => s.key === 'misrouted-user' && s.value.status === 'Online'), 'the user Online');
      expect(processor.task(right)?.user('misrouted-user')?.state.sessions).toHaveLength(1);
      expect(processor.task(wrong)?.user('misrouted-user')).toBeUndefined();
      expect(watch.seen.find((s) => s.key === 'misrouted-user')?.partition).toBe(right);
    } finally {
      await processor.stop();
      await producer.disconnect();
      await watch.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a fatal producer error (at-least-once)', () => {
  it('the first sends of snapshots fail once; the processor recovers and every user ends right, versions never go back', async () => {
    const prefix = uniquePrefix('fatalsend');
    const { serde } = await provisionPrefix(prefix, 2);
    const dir = mkdtempSync(join(tmpdir(), 'presence-fatalsend-'));
    const watch = await watchSnapshots(prefix, serde);
    const producer = testKafka().producer();
    await producer.connect();
    const injected = withFatalSends(testKafka('fatalsend'), topicName('snapshot', prefix), 3);
    const processor = await startProcessor({
      kafka: injected.kafka, serde, store: await LevelPartitionStore.open(dir), cfg, log: createLogger('fatalsend', 'silent'),
      metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50, commitIntervalMs: 500,
    });
    try {
      await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready', 30_000);
      injected.arm();
      const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
      const now = Date.now();
      const hb = (u: string, sessionId: string, kind: 'heartbeat' | 'disconnect', at: number) =>
        serde.encode('heartbeat', { kind, userId: u, deviceId: `${u}-laptop`, sessionId, platform: 'web', observedAt: at, idleMs: 0, gatewayId: null });
      // Three rounds sent one after another, so later rounds meet the replaced producer.
      const rounds = [
        await Promise.all(users.flatMap((u) => [{ key: u, value: hb(u, 'tab-a', 'heartbeat', now) }, { key: u, value: hb(u, 'tab-b', 'heartbeat', now) }])
          .map(async (m) => ({ key: m.key, value: await m.value }))),
        await Promise.all(users.map(async (u, i) => ({ key: u, value: await serde.encode('override', {
          kind: 'status', userId: u, eventId: `o-${u}`, setAt: now + 10, status: i % 2 ? 'Busy' : 'DoNotDisturb', customText: `note ${u}`, expiresAt: null, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null,
        }) }))),
        await Promise.all(users.filter((_, i) => i % 3 === 0).map(async (u) => ({ key: u, value: await hb(u, 'tab-b', 'disconnect', now + 20) }))),
      ];
      await producer.send({ topic: topicName('heartbeat', prefix), messages: rounds[0] ?? [] });
      await new Promise((r) => setTimeout(r, 300));
      await producer.send({ topic: topicName('override', prefix), messages: rounds[1] ?? [] });
      await new Promise((r) => setTimeout(r, 300));
      await producer.send({ topic: topicName('heartbeat', prefix), messages: rounds[2] ?? [] });

      const expected = (i: number) => ({ status: i % 2 ? 'Busy' : 'DoNotDisturb', customText: `note user-${i}`, devices: i % 3 === 0 ? 1 : 2 });
      const actual = () => {
        const latest = new Map(watch.seen.map((s) => [s.key, s.value]));
        return users.map((u) => {
          const v = latest.get(u);
          return v ? { status: v.status, customText: v.override?.customText ?? null, devices: v.devices.length } : null;
        });
      };
      await waitFor(() => JSON.stringify(actual()) === JSON.stringify(users.map((_, i) => expected(i))), 'every user to end with its override and devices', 30_000)
        .catch(() => expect(actual()).toEqual(users.map((_, i) => expected(i))));
      expect(injected.killed()).toBe(3);
      expect(injected.failed()).toBeGreaterThanOrEqual(3);
      expect(processor.healthy()).toBe(true);
      // Versions per key never went back (a duplicate repeats a version at most).
      const last = new Map<string, number>();
      for (const s of watch.seen) {
        expect(s.value.version).toBeGreaterThanOrEqual(last.get(s.key) ?? 0);
        last.set(s.key, s.value.version);
      }
      // Nothing stalled: the group commits every input record.
      await waitFor(async () => {
        const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId: `${prefix}processor`, topics: [topicName('heartbeat', prefix), topicName('override', prefix)] }));
        const ends = await withAdmin(async (admin) => [
          ...(await admin.fetchTopicOffsets(topicName('heartbeat', prefix))).map((p) => ({ topic: topicName('heartbeat', prefix), ...p })),
          ...(await admin.fetchTopicOffsets(topicName('override', prefix))).map((p) => ({ topic: topicName('override', prefix), ...p })),
        ]);
        return ends.every((e) => Number(committed.find((t) => t.topic === e.topic)?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= Number(e.high));
      }, 'input offsets committed to the end', 20_000);
    } finally {
      await processor.stop();
      await producer.disconnect();
      await watch.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a restore that fails (a broker away mid-restore)', () => {
  it('is retried until it succeeds: the partition is not left paused', async () => {
    const prefix = uniquePrefix('restorefail');
    const { serde } = await provisionPrefix(prefix, 2);
    // The restore's first store writes fail, as a restore fails while a leader election is under way.
    const inner = new MemoryPartitionStore();
    let failuresLeft = 3;
    const store: PartitionStore = {
      load: (p) => inner.load(p),
      scan: (p, onEntry) => inner.scan(p, onEntry),
      write: async (p, changes, position) => {
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new StoreError('STORE_IO', 'injected: store write failed during restore');
        }
        return inner.write(p, changes, position);
      },
      drop: (p) => inner.drop(p),
      held: () => inner.held(),
      close: () => inner.close(),
    };
    const watch = await watchSnapshots(prefix, serde);
    const processor = await startProcessor({
      kafka: testKafka('restorefail'), serde, store, cfg, log: createLogger('restorefail', 'silent'),
      metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50, commitIntervalMs: 500,
    });
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await waitFor(() => processor.ready() && processor.assigned().length === 2, 'both partitions restored despite the failures', 30_000);
      expect(failuresLeft).toBe(0);
      const users = ['rf-a', 'rf-b', 'rf-c', 'rf-d'];
      await producer.send({ topic: topicName('heartbeat', prefix), messages: await Promise.all(users.map(async (u) => ({ key: u, value: await heartbeat(serde, u, Date.now()) }))) });
      await waitFor(() => users.every((u) => watch.seen.some((s) => s.key === u && s.value.status === 'Online')), 'every user Online');
    } finally {
      await processor.stop();
      await producer.disconnect();
      await watch.stop();
    }
  });
});

describe('a local store that fails mid-read', () => {
  it('restores the partition from the changelog alone and clears what the store held', async () => {
    const prefix = uniquePrefix('scanfail');
    const { serde } = await provisionPrefix(prefix, 1);
    const inner = new MemoryPartitionStore();
    const start = (store: PartitionStore) => startProcessor({
      kafka: testKafka('scanfail'), serde, store, cfg, log: createLogger('scanfail', 'silent'), metrics: createProcessorMetrics(),
      prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50, commitIntervalMs: 200,
    });
    const users = ['sf-a', 'sf-b', 'sf-c'];
    const first = await start(inner);
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await waitFor(() => first.ready() && first.assigned().length === 1, 'first processor ready', 30_000);
      await producer.send({ topic: topicName('heartbeat', prefix), messages: await Promise.all(users.map(async (u) => ({ key: u, value: await heartbeat(serde, u, Date.now()) }))) });
      await waitFor(() => users.every((u) => first.task(0)?.user(u) !== undefined), 'every user in the first processor');
    } finally {
      await first.stop(); // its final checkpoint: the store and the changelog hold every user
    }
    expect((await inner.load(0)).entries.size).toBeGreaterThanOrEqual(users.length);
    await inner.write(0, [['u/sf-stale', Buffer.from('an entry the changelog never had')]], (await inner.load(0)).changelogPosition ?? '0');
    const dropped: number[] = [];
    const failing: PartitionStore = {
      load: (p) => inner.load(p),
      scan: async (p, onEntry) => {
        let handed = 0;
        await inner.scan(p, (k, v) => {
          if (++handed > 1) throw new StoreError('STORE_CORRUPT', 'injected: unreadable entry mid-scan');
          onEntry(k, v);
        });
        return null;
      },
      write: (p, changes, position) => inner.write(p, changes, position),
      drop: async (p) => { dropped.push(p); await inner.drop(p); },
      held: () => inner.held(),
      close: () => inner.close(),
    };
    const second = await start(failing);
    try {
      await waitFor(() => second.ready() && second.assigned().length === 1, 'second processor ready', 30_000);
      for (const u of users) expect(second.task(0)?.user(u)?.state.sessions).toHaveLength(1);
      expect(second.task(0)?.user('sf-stale')).toBeUndefined();
      expect(dropped).toEqual([0]);
      const after = await inner.load(0);
      expect(after.entries.has('u/sf-stale')).toBe(false); // cleared, then rebuilt from the changelog
      for (const u of users) expect(after.entries.has(`u/${u}`)).toBe(true);
    } finally {
      await second.stop();
      await producer.disconnect();
    }
  });
});

describe('a restore that finds an older checkpoint than the group committed', () => {
  it('replays the inputs from the checkpoint it found: nothing the group committed past it is lost', async () => {
    const prefix = uniquePrefix('oldckpt');
    const { serde } = await provisionPrefix(prefix, 1);
    const producer = testKafka().producer();
    await producer.connect();
    const user = 'oc-user';
    const override = async (text: string, setAt: number) => producer.send({ topic: topicName('override', prefix), messages: [{ key: user, value: await serde.encode('override', {
      kind: 'status', userId: user, eventId: `e-${text}`, setAt, status: 'Busy', customText: text, expiresAt: null, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null,
    }) }] });
    const committedToEnd = async () => {
      const [c] = await withAdmin((a) => a.fetchOffsets({ groupId: `${prefix}processor`, topics: [topicName('override', prefix)] }));
      const [end] = await withAdmin((a) => a.fetchTopicOffsets(topicName('override', prefix)));
      return Number(c?.partitions[0]?.offset ?? -1) >= Number(end?.high ?? 0);
    };
    const start = (store: MemoryPartitionStore) => startProcessor({
      kafka: testKafka('oldckpt'), serde, store, cfg, log: createLogger('oldckpt', 'silent'), metrics: createProcessorMetrics(),
      prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50, commitIntervalMs: 200,
    });
    const first = new MemoryPartitionStore();
    const a = await start(first);
    let b: Awaited<ReturnType<typeof start>> | null = null;
    try {
      await waitFor(() => a.ready() && a.assigned().length === 1, 'processor A ready', 30_000);
      const now = Date.now();
      await override('c1', now);
      await waitFor(async () => a.task(0)?.user(user)?.state.override?.customText === 'c1' && (await committedToEnd()), 'c1 applied and committed');
      const old = await first.load(0); // the checkpoint holding c1
      await override('c2', now + 10);
      await waitFor(async () => a.task(0)?.user(user)?.state.override?.customText === 'c2' && (await committedToEnd()), 'c2 applied and committed');
      await a.stop();
      // B's local store is A's older checkpoint but claims to be current with the whole changelog:
      // its restore reads nothing newer, as a changelog read cut short would.
      const [changelogEnd] = await withAdmin((adm) => adm.fetchTopicOffsets(topicName('storeChangelog', prefix)));
      const stale = new MemoryPartitionStore();
      await stale.write(0, [...old.entries], changelogEnd?.high ?? '0');
      b = await start(stale);
      await waitFor(() => b?.ready() && b.assigned().length === 1, 'processor B ready', 30_000);
      await waitFor(() => b?.task(0)?.user(user)?.state.override?.customText === 'c2', 'B holds c2, replayed from the older checkpoint', 20_000)
        .catch(() => expect(b?.task(0)?.user(user)?.state.override?.customText).toBe('c2'));
    } finally {
      await b?.stop();
      await producer.disconnect();
    }
  });
});

describe('a task that makes no progress while input waits', () => {
  it('makes the member unhealthy and not ready after stallAfterMs, naming the partition, and healthy again once it moves', async () => {
    const prefix = uniquePrefix('stall');
    const { serde } = await provisionPrefix(prefix, 1);
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: 'st-u', value: await heartbeat(serde, 'st-u', Date.now()) }] });
    // A restore that takes 6 s (its first store write is that slow): the partition stays paused meanwhile.
    const inner = new MemoryPartitionStore();
    let slow = true;
    const store: PartitionStore = {
      load: (p) => inner.load(p),
      scan: (p, onEntry) => inner.scan(p, onEntry),
      write: async (p, changes, position) => {
        if (slow) {
          slow = false;
          await new Promise((r) => setTimeout(r, 6_000));
        }
        return inner.write(p, changes, position);
      },
      drop: (p) => inner.drop(p), held: () => inner.held(), close: () => inner.close(),
    };
    const processor = await startProcessor({
      kafka: testKafka('stall'), serde, store, cfg, log: createLogger('stall', 'silent'), metrics: createProcessorMetrics(),
      prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50, stallAfterMs: 1_500,
    });
    try {
      await waitFor(() => processor.assigned().length === 1, 'partition assigned', 30_000);
      expect(processor.healthy()).toBe(true); // not yet past stallAfterMs
      await waitFor(() => !processor.healthy(), 'unhealthy once the waiting input made no progress for 1.5 s', 20_000);
      expect(processor.ready()).toBe(false);
      expect(processor.health().stalledPartitions).toEqual([0]);
      await waitFor(() => processor.healthy() && processor.ready(), 'healthy and ready once the restore is done and the input applied', 30_000);
      expect(processor.task(0)?.user('st-u')?.state.sessions).toHaveLength(1);
    } finally {
      await processor.stop();
      await producer.disconnect();
    }
  });
});
