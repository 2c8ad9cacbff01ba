/**
 * `make bench` (first part): processor throughput in both guarantee modes against a bare kafkajs
 * consumer on the same pre-filled topic, plus the processor's resident memory per tracked user.
 * Measured, never asserted. Writes .infra/bench/results.json and prints a table.
 *
 * Not measured yet (see the issue): Kafka's consumer performance tool, SSE latency under load,
 * offline detection delay, restore times.
 */
import { spawn } from 'node:child_process';
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import type { Kafka, Message } from 'kafkajs';
import type { PresenceHeartbeat } from '../../services/contract/avro-types';
import { provisionTopics } from '../../services/contract/provision';
import { AvroSerde, createRegistry } from '../../services/contract/serde';
import { topicName } from '../../services/contract/topics';
import { kafkaEnv, parseEnv } from '../../services/platform/config';
import { createKafka } from '../../services/platform/kafka';

const env = parseEnv(kafkaEnv);
const N = Number(process.env['BENCH_HEARTBEATS'] ?? 2_000_000);
const USERS = Number(process.env['BENCH_USERS'] ?? 500_000);
const PARTITIONS = 6;
const root = resolve(__dirname, '../..');
const prefix = `bench-${Date.now().toString(36)}.`;
const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'presence-bench' });

/** A realistic idle mix: most sessions idle under a minute, some minutes, a few hours. */
function idleFor(i: number): number {
  const r = (i * 2654435761) % 1000;
  if (r < 700) return r * 85; // 0–60 s
  if (r < 950) return 60_000 + (r - 700) * 4_800; // 1–21 min
  return 3_600_000 + (r - 950) * 60_000; // 1–4 h
}

async function prefill(serde: AvroSerde): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const topic = topicName('heartbeat', prefix);
  const started = Date.now();
  const BATCH = 5_000;
  const platforms = ['web', 'desktop', 'ios', 'android'] as const;
  let inFlight: Promise<unknown>[] = [];
  for (let base = 0; base < N; base += BATCH) {
    const messages: Message[] = [];
    const now = Date.now();
    for (let i = base; i < Math.min(N, base + BATCH); i++) {
      const user = i % USERS;
      const device = Math.floor(i / USERS) % 4;
      const v: PresenceHeartbeat = {
        kind: 'heartbeat', userId: `u${user}`, deviceId: `d${device}`, sessionId: `s${device}`, platform: platforms[device] ?? 'web',
        observedAt: now, idleMs: idleFor(i), gatewayId: null,
      };
      messages.push({ key: v.userId, value: await serde.encode('heartbeat', v) });
    }
    inFlight.push(producer.send({ topic, messages, acks: 1 }));
    if (inFlight.length >= 8) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  return (N * 1000) / (Date.now() - started);
}

/** A consumer that decodes nothing and does nothing: the ceiling for a kafkajs consumer. */
async function bareConsumer(k: Kafka): Promise<number> {
  const consumer = k.consumer({ groupId: `${prefix}bare`, maxBytesPerPartition: 4 * 1024 * 1024 });
  let count = 0;
  const started = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('heartbeat', prefix), fromBeginning: true });
  await new Promise<void>((done) => {
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (count >= N) done();
      },
    });
  });
  const rate = (N * 1000) / (Date.now() - started);
  await consumer.disconnect();
  return rate;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Starts the processor as a child process and times it from spawn to its group's lag reaching 0. */
async function processorRun(guarantee: 'at-least-once' | 'exactly-once', port: number) {
  const groupId = `${prefix}processor-${guarantee}`;
  const dataDir = resolve(root, `.infra/bench/store-${guarantee}`);
  rmSync(dataDir, { recursive: true, force: true });
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/processor/main.ts'], {
    cwd: root, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, TOPIC_PREFIX: prefix, PROCESSOR_GROUP_ID: groupId, PROCESSOR_GUARANTEE: guarantee, PROCESSOR_DATA_DIR: dataDir, PROCESSOR_HTTP_PORT: String(port), LOG_LEVEL: 'warn' },
  });
  const admin = kafka.admin();
  await admin.connect();
  let idleRss = 0;
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      if (child.exitCode !== null) throw new Error(`processor (${guarantee}) exited with ${child.exitCode}`);
      if (idleRss === 0 && child.pid) idleRss = rssKiB(child.pid);
      const offsets = await admin.fetchOffsets({ groupId, topics: [topicName('heartbeat', prefix)] });
      const done = offsets.flatMap((t) => t.partitions).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
      if (done >= N) break;
    }
    const seconds = (Date.now() - started) / 1000;
    const rss = child.pid ? rssKiB(child.pid) : 0;
    return { guarantee, seconds, eventsPerSecond: Math.round(N / seconds), rssMiB: Math.round(rss / 1024), rssBytesPerUser: Math.round(((rss - idleRss) * 1024) / USERS), firstRssMiB: Math.round(idleRss / 1024) };
  } finally {
    await admin.disconnect();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const wallStart = Date.now();
  const admin = kafka.admin();
  await admin.connect();
  await provisionTopics(admin, { prefix, partitions: PARTITIONS, replicationFactor: 1 });
  const serde = await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), prefix);
  console.log(`[bench] pre-filling ${N} heartbeats over ${USERS} users (${PARTITIONS} partitions)…`);
  const produceRate = await prefill(serde);
  console.log('[bench] bare kafkajs consumer…');
  const bare = await bareConsumer(kafka);
  const runs = [];
  for (const [g, port] of [['at-least-once', 9391], ['exactly-once', 9392]] as const) {
    console.log(`[bench] processor, ${g}…`);
    runs.push(await processorRun(g, port));
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  const results = {
    at: new Date().toISOString(),
    commit: execSync('git rev-parse --short HEAD', { cwd: root }).toString().trim(),
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), cpu },
    heartbeats: N, users: USERS, partitions: PARTITIONS,
    produceEventsPerSecond: Math.round(produceRate),
    bareKafkajsConsumerEventsPerSecond: Math.round(bare),
    processor: runs.map((r) => ({ ...r, ratioToBareConsumer: Number((r.eventsPerSecond / bare).toFixed(3)) })),
    notMeasured: ['kafka ConsumerPerformance ceiling', 'SSE latency under live load', 'offline detection delay', 'restore times'],
    wallSeconds: Math.round((Date.now() - wallStart) / 1000),
  };
  mkdirSync(resolve(root, '.infra/bench'), { recursive: true });
  writeFileSync(resolve(root, '.infra/bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin.disconnect();
  console.log(`
machine: ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, ${cpu}; commit ${results.commit}
| measure | value |
|---|---|
| heartbeats / users | ${N} / ${USERS} |
| produce (pre-fill) | ${results.produceEventsPerSecond} events/s |
| bare kafkajs consumer | ${results.bareKafkajsConsumerEventsPerSecond} events/s |
${results.processor.map((r) => `| processor ${r.guarantee} | ${r.eventsPerSecond} events/s (${r.seconds.toFixed(1)} s incl. start; ${r.ratioToBareConsumer} of bare) |
| processor ${r.guarantee} RSS | ${r.rssMiB} MiB at ${USERS} users (${r.rssBytesPerUser} B/user above start) |`).join('\n')}
results: .infra/bench/results.json (wall ${results.wallSeconds} s)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
