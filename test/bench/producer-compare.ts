/**
 * kafkajs 2.2.4 vs @platformatic/kafka 1.x on the processor's output path, on the real broker:
 *   (a) idempotent at-least-once: sendBatch of 256 records (~100 B and ~300 B values, string keys)
 *       over 6 partitions, acks=all, awaited, with 2 (and 1) sends in flight; every cell's records are
 *       counted on the broker afterwards (end-offset delta), so loss or duplicates show;
 *   (b) transactional: begin, N sequential batches of 256, commit (N = 1 and N = 20); a read_committed
 *       kafkajs consumer then checks every record arrived exactly once;
 *   (c) partitioner: kafkajs' (our KeyHashPartitioner) vs @platformatic/kafka's default and
 *       compatibility partitioners for 10,000 random keys.
 * Both clients run in the same process, interleaved (the order alternates per round), after a
 * warm-up round that is not recorded. CPU is process.cpuUsage() (user + system) over a cell.
 *
 *   npx tsx test/bench/producer-compare.ts      (PC_ROUNDS, PC_BATCHES, PC_TX_RECORDS to scale)
 *
 * Writes .infra/bench/producer-compare.json and prints a table. Its topics are deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Producer as PltProducer, compatibilityPartitioner, defaultPartitioner, stringSerializer } from '@platformatic/kafka';
import type { Admin, Producer as KjsProducer } from 'kafkajs';
import { createKafka } from '../../services/platform/kafka';
import { KeyHashPartitioner } from '../../services/platform/partitioner';
import { load1, machine } from './measure';

const ROOT = resolve(__dirname, '../..');
const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const ROUNDS = Number(process.env['PC_ROUNDS'] ?? 5);
const BATCHES = Number(process.env['PC_BATCHES'] ?? 60); // batches of 256 per idempotent cell
const TX_RECORDS = Number(process.env['PC_TX_RECORDS'] ?? 256 * 40); // records per transactional cell
const BATCH = 256;
const PARTITIONS = 6;
const RUN = `pc-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

type Client = 'kafkajs' | 'platformatic';
const CLIENTS: Client[] = ['kafkajs', 'platformatic'];
interface Rec { key: string; value: Buffer }

/** `count` records: keys like user ids (~12 B), values of `size` bytes beginning with a unique id. */
function records(count: number, size: number, tag: string): Rec[] {
  const out: Rec[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${tag}:${i}:`;
    const value = Buffer.alloc(size, 0x61);
    value.write(id, 0, 'latin1');
    randomBytes(Math.min(32, size - id.length)).copy(value, id.length);
    out.push({ key: `user-${randomBytes(4).toString('hex')}`, value });
  }
  return out;
}
const chunks = (recs: Rec[]) => Array.from({ length: Math.ceil(recs.length / BATCH) }, (_, i) => recs.slice(i * BATCH, (i + 1) * BATCH));

/** One sender interface over both clients, for plain (idempotent) and transactional sends. */
interface Sender {
  send(topic: string, batch: Rec[]): Promise<void>;
  transaction(topic: string, batches: Rec[][]): Promise<void>;
  close(): Promise<void>;
}

const kafka = createKafka({ brokers: BROKERS, clientId: 'producer-compare' });

async function kafkajsSender(transactionalId?: string): Promise<Sender> {
  const p: KjsProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: KeyHashPartitioner, ...(transactionalId ? { transactionalId } : {}) });
  await p.connect();
  return {
    send: async (topic, batch) => void (await p.sendBatch({ topicMessages: [{ topic, messages: batch }], acks: -1 })),
    transaction: async (topic, batches) => {
      const tx = await p.transaction();
      try {
        for (const b of batches) await tx.sendBatch({ topicMessages: [{ topic, messages: b }], acks: -1 });
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => undefined);
        throw e;
      }
    },
    close: () => p.disconnect(),
  };
}

async function platformaticSender(transactionalId?: string): Promise<Sender> {
  const p = new PltProducer<string, Buffer, string, string>({
    clientId: 'producer-compare', bootstrapBrokers: BROKERS, idempotent: true, partitioner: compatibilityPartitioner,
    serializers: { key: stringSerializer, value: (v?: Buffer) => v, headerKey: stringSerializer, headerValue: stringSerializer },
    autocreateTopics: false, retries: 8, retryDelay: 100,
    // producerId -1n / epoch -1 = "no previous producer" in InitProducerId. Without them 1.35 sends
    // 0n / 0, which the coordinator refuses with PRODUCER_FENCED for a transactional id that was
    // used before (a restarted processor's task id), and the producer then stays stuck with
    // "There is already an active transaction".
    ...(transactionalId ? { transactionalId, producerId: -1n, producerEpoch: -1 } : {}),
  });
  const msgs = (topic: string, batch: Rec[]) => batch.map((r) => ({ topic, key: r.key, value: r.value }));
  return {
    send: async (topic, batch) => void (await p.send({ messages: msgs(topic, batch) })),
    transaction: async (topic, batches) => {
      const tx = await p.beginTransaction();
      try {
        for (const b of batches) await tx.send({ messages: msgs(topic, b) });
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => undefined);
        throw e;
      }
    },
    close: () => p.close(),
  };
}
const makeSender = (c: Client, transactionalId?: string) => (c === 'kafkajs' ? kafkajsSender(transactionalId) : platformaticSender(transactionalId));

const endTotal = async (admin: Admin, topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);

interface Cell {
  scenario: string; client: Client; round: number; records: number; seconds: number; cpuMicros: number;
  cpuMicrosPerRecord: number; recordsPerSecond: number; brokerDelta: number | null; errors: string[]; load1: number;
}

async function measure(fn: () => Promise<{ errors: string[] }>) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const { errors } = await fn();
  const c = process.cpuUsage(c0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, cpuMicros: c.user + c.system, errors };
}

/** (a) `BATCHES` batches through one idempotent producer with `inFlight` sends outstanding. */
async function idempotentCell(admin: Admin, client: Client, topic: string, size: number, inFlight: number, round: number): Promise<Cell> {
  const sender = await makeSender(client);
  const batches = chunks(records(BATCHES * BATCH, size, `${client}-${round}-${size}-${inFlight}`));
  await sender.send(topic, (records(BATCH, size, 'warm'))); // connect, metadata, producer id: not measured
  const before = await endTotal(admin, topic);
  const r = await measure(async () => {
    const errors: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const b = batches[next++] as Rec[];
        try { await sender.send(topic, b); } catch (e) { errors.push(errorText(e)); }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    return { errors };
  });
  const delta = (await endTotal(admin, topic)) - before;
  await sender.close().catch(() => undefined);
  const n = BATCHES * BATCH;
  return { scenario: `idempotent ${size} B, ${inFlight} in flight`, client, round, records: n, ...r, cpuMicrosPerRecord: r.cpuMicros / n, recordsPerSecond: n / r.seconds, brokerDelta: delta, load1: load1() };
}

/** (b) transactions of `perTx` sequential batches of 256 until TX_RECORDS were sent. */
async function transactionalCell(client: Client, topic: string, size: number, perTx: number, round: number, expected: Set<string>): Promise<Cell> {
  const sender = await makeSender(client, `${RUN}-${client}-tx${perTx}`);
  const tag = `${client}-${round}-tx${perTx}`;
  const recs = records(TX_RECORDS, size, tag);
  const batches = chunks(recs);
  await sender.transaction(topic, [records(BATCH, size, `${tag}-warm`)]).catch((e) => console.error(`${tag} warm-up transaction failed: ${errorText(e)}`));
  for (let i = 0; i < BATCH; i++) expected.add(`${tag}-warm:${i}`);
  const r = await measure(async () => {
    const errors: string[] = [];
    for (let i = 0; i < batches.length; i += perTx) {
      try { await sender.transaction(topic, batches.slice(i, i + perTx)); } catch (e) { errors.push(errorText(e)); }
    }
    return { errors };
  });
  for (let i = 0; i < TX_RECORDS; i++) expected.add(`${tag}:${i}`);
  await sender.close().catch(() => undefined);
  return { scenario: `transactional ${size} B, ${perTx} batch${perTx > 1 ? 'es' : ''}/tx`, client, round, records: TX_RECORDS, ...r, cpuMicrosPerRecord: r.cpuMicros / TX_RECORDS, recordsPerSecond: TX_RECORDS / r.seconds, brokerDelta: null, load1: load1() };
}

function errorText(e: unknown): string {
  const err = e as { message?: string; errors?: unknown[]; cause?: unknown };
  const inner = (err.errors ?? []).map((x) => errorText(x)).join('; ');
  const apiId = (e as { apiId?: string }).apiId;
  return `${apiId ?? ''} ${err.message ?? String(e)}${inner ? ` [${inner}]` : ''}`.trim().slice(0, 400);
}

/** Reads a topic with read_committed; per unique id how often it arrived. */
async function readCommitted(topic: string, expectedCount: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `${RUN}-verify-${topic}`, readUncommitted: false, maxWaitTimeInMs: 200, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  let total = 0;
  let lastGrowth = Date.now();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const v = m.value as Buffer;
        const id = v.subarray(0, v.indexOf(':', v.indexOf(':') + 1)).toString('latin1');
        seen.set(id, (seen.get(id) ?? 0) + 1);
        total++;
      }
      lastGrowth = Date.now();
    } });
    while (total < expectedCount && Date.now() - lastGrowth < 15_000) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1_000)); // anything extra (a duplicate) would arrive now
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/** (c) partition per key: kafkajs (our KeyHashPartitioner) vs @platformatic/kafka's partitioners. */
function partitionerCheck(keys = 10_000) {
  const kjs = KeyHashPartitioner();
  const pick = (key: string, n: number) => kjs({ topic: 't', message: { key, value: null }, partitionMetadata: Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })) });
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/:.éüß中文😀';
  const counts = [3, 6, 7, 12, 64];
  const result: Record<string, { keys: number; compatibilitySame: number; defaultSame: number }> = {};
  const chars = [...alphabet];
  const randomKeys = Array.from({ length: keys }, () => Array.from({ length: 1 + Math.floor(Math.random() * 48) }, () => chars[Math.floor(Math.random() * chars.length)]).join(''));
  for (const n of counts) {
    let compat = 0;
    let dflt = 0;
    for (const key of randomKeys) {
      const expected = pick(key, n);
      const buf = Buffer.from(key, 'utf8');
      // @platformatic/kafka takes its partitioner's number modulo the partition count (producer.js #performSend)
      if (compatibilityPartitioner({} as never, buf) % n === expected) compat++;
      if (defaultPartitioner({} as never, buf) % n === expected) dflt++;
    }
    result[`${n} partitions`] = { keys, compatibilitySame: compat, defaultSame: dflt };
  }
  return result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const topics = {
    idem: Object.fromEntries(CLIENTS.map((c) => [c, `${RUN}-idem-${c}`])) as Record<Client, string>,
    tx: Object.fromEntries(CLIENTS.flatMap((c) => [1, 20].map((n) => [`${c}-${n}`, `${RUN}-tx${n}-${c}`]))) as Record<string, string>,
  };
  const all = [...Object.values(topics.idem), ...Object.values(topics.tx)];
  await admin.createTopics({ topics: all.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })), waitForLeaders: true });
  const cells: Cell[] = [];
  const expected: Record<string, Set<string>> = Object.fromEntries(Object.values(topics.tx).map((t) => [t, new Set<string>()]));
  try {
    const partitioner = partitionerCheck();
    console.log('partitioner (same partition as kafkajs, of 10,000 keys):', JSON.stringify(partitioner));
    for (let round = 0; round <= ROUNDS; round++) {
      const order: Client[] = round % 2 ? ['platformatic', 'kafkajs'] : ['kafkajs', 'platformatic'];
      const roundCells: Cell[] = [];
      for (const [size, inFlight] of [[100, 2], [300, 2], [100, 1], [300, 1]] as const) {
        for (const c of order) roundCells.push(await idempotentCell(admin, c, topics.idem[c], size, inFlight, round));
      }
      for (const perTx of [1, 20]) {
        for (const c of order) roundCells.push(await transactionalCell(c, topics.tx[`${c}-${perTx}`] as string, 300, perTx, round, expected[topics.tx[`${c}-${perTx}`] as string] as Set<string>));
      }
      for (const cell of roundCells) {
        const flag = cell.errors.length ? ` ERRORS ${cell.errors.length}: ${cell.errors[0]}` : '';
        const lost = cell.brokerDelta !== null && cell.brokerDelta !== cell.records ? ` BROKER GOT ${cell.brokerDelta}` : '';
        console.log(`${round === 0 ? 'warm-up' : `round ${round}`} ${cell.scenario.padEnd(34)} ${cell.client.padEnd(12)} ${cell.cpuMicrosPerRecord.toFixed(2).padStart(6)} CPU-µs/rec ${Math.round(cell.recordsPerSecond).toString().padStart(7)} rec/s${lost}${flag}`);
      }
      if (round > 0) cells.push(...roundCells);
    }
    // Exactly-once check of the transactional topics (read_committed).
    const verification: Record<string, { expected: number; distinct: number; duplicates: number; missing: number; unexpected: number }> = {};
    for (const [name, topic] of Object.entries(topics.tx)) {
      const want = expected[topic] as Set<string>;
      const seen = await readCommitted(topic, want.size);
      let dup = 0; let missing = 0; let unexpected = 0;
      for (const [id, n] of seen) { if (!want.has(id)) unexpected++; if (n > 1) dup += n - 1; }
      for (const id of want) if (!seen.has(id)) missing++;
      verification[name] = { expected: want.size, distinct: seen.size, duplicates: dup, missing, unexpected };
    }
    console.log('read_committed verification:', JSON.stringify(verification));

    const scenarios = [...new Set(cells.map((c) => c.scenario))];
    const summary = scenarios.map((scenario) => {
      const of = (client: Client) => cells.filter((c) => c.scenario === scenario && c.client === client);
      const k = of('kafkajs');
      const p = of('platformatic');
      const ratios = k.map((kc) => {
        const pc = p.find((x) => x.round === kc.round) as Cell;
        return { round: kc.round, cpuRatio: kc.cpuMicrosPerRecord / pc.cpuMicrosPerRecord, rateRatio: pc.recordsPerSecond / kc.recordsPerSecond };
      });
      return {
        scenario,
        kafkajs: { cpuMicrosPerRecord: median(k.map((c) => c.cpuMicrosPerRecord)), recordsPerSecond: median(k.map((c) => c.recordsPerSecond)), errors: k.reduce((s, c) => s + c.errors.length, 0), brokerMismatch: k.filter((c) => c.brokerDelta !== null && c.brokerDelta !== c.records).length },
        platformatic: { cpuMicrosPerRecord: median(p.map((c) => c.cpuMicrosPerRecord)), recordsPerSecond: median(p.map((c) => c.recordsPerSecond)), errors: p.reduce((s, c) => s + c.errors.length, 0), brokerMismatch: p.filter((c) => c.brokerDelta !== null && c.brokerDelta !== c.records).length },
        cpuRatioKafkajsOverPlatformatic: median(ratios.map((r) => r.cpuRatio)),
        rateRatioPlatformaticOverKafkajs: median(ratios.map((r) => r.rateRatio)),
        perRound: ratios,
      };
    });
    console.log('\nmedians over rounds (per-round ratios in the JSON):');
    console.log('| scenario | kafkajs CPU-µs/rec | platformatic CPU-µs/rec | CPU ratio kjs/plt (per round) | kafkajs rec/s | platformatic rec/s | rate ratio plt/kjs | errors kjs/plt | broker count mismatches kjs/plt |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of summary) {
      console.log(`| ${s.scenario} | ${s.kafkajs.cpuMicrosPerRecord.toFixed(2)} | ${s.platformatic.cpuMicrosPerRecord.toFixed(2)} | ${s.cpuRatioKafkajsOverPlatformatic.toFixed(2)} (${s.perRound.map((r) => r.cpuRatio.toFixed(2)).join(', ')}) | ${Math.round(s.kafkajs.recordsPerSecond)} | ${Math.round(s.platformatic.recordsPerSecond)} | ${s.rateRatioPlatformaticOverKafkajs.toFixed(2)} (${s.perRound.map((r) => r.rateRatio.toFixed(2)).join(', ')}) | ${s.kafkajs.errors}/${s.platformatic.errors} | ${s.kafkajs.brokerMismatch}/${s.platformatic.brokerMismatch} |`);
    }
    const out = resolve(ROOT, '.infra/bench/producer-compare.json');
    mkdirSync(resolve(ROOT, '.infra/bench'), { recursive: true });
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), machine: machine(ROOT), versions: { kafkajs: require('kafkajs/package.json').version, platformatic: JSON.parse(readFileSync(resolve(ROOT, 'node_modules/@platformatic/kafka/package.json'), 'utf8')).version }, rounds: ROUNDS, batchesPerIdempotentCell: BATCHES, recordsPerTxCell: TX_RECORDS, partitioner, verification, summary, cells }, null, 2));
    console.log(`\nwrote ${out}`);
  } finally {
    await admin.deleteTopics({ topics: all, timeout: 60_000 }).catch((e) => console.error('topic cleanup failed', e));
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(RUN));
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
