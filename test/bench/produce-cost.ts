/**
 * The processor's output path alone, on the real broker: the record collector (PendingRecords.drain)
 * sending through the processor's idempotent kafkajs producer, acks=all, awaited, as a task's flush
 * and checkpoint send them: snapshot-like records (keyed, murmur2, ~250 B) and changelog-like
 * records (explicit partition, ~300 B), over 6 partitions. Prints CPU-µs per record (user + system
 * of this process) and records/s per records-per-request setting, best of PRODUCE_ROUNDS, rounds
 * interleaved across settings.
 *
 *   npx tsx test/bench/produce-cost.ts   (PRODUCE_RECORDS, PRODUCE_ROUNDS, PRODUCE_SLICES=256,1024,4096)
 *
 * Writes .infra/bench/produce-cost.json. Its topic is deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createKafka } from '../../services/platform/kafka';
import { createLogger } from '../../services/platform/log';
import { idempotentProducer, ProducerSession } from '../../services/platform/producer-session';
import { PendingRecords, type OutRecord } from '../../services/processor/record-collector';
import { load1, machine } from './measure';

const ROOT = resolve(__dirname, '../..');
const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const RECORDS = Number(process.env['PRODUCE_RECORDS'] ?? 60_000);
const ROUNDS = Number(process.env['PRODUCE_ROUNDS'] ?? 3);
const SLICES = (process.env['PRODUCE_SLICES'] ?? '256,1024,4096').split(',').map(Number);
const PARTITIONS = 6;
const TOPIC = `produce-cost-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Half keyed like snapshots, half with an explicit partition like changelog entries. */
function records(n: number): OutRecord[] {
  const out: OutRecord[] = [];
  for (let i = 0; i < n; i++) {
    const userId = `user-${randomBytes(5).toString('hex')}`;
    out.push(i % 2 === 0
      ? { topic: TOPIC, key: userId, value: randomBytes(250) }
      : { topic: TOPIC, key: `u/${userId}`, value: randomBytes(300), partition: i % PARTITIONS });
  }
  return out;
}

async function main(): Promise<void> {
  const kafka = createKafka({ brokers: BROKERS, clientId: 'produce-cost' });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  const session = new ProducerSession(idempotentProducer(kafka), createLogger('produce-cost', 'warn'));
  const { producer } = await session.producer();
  const best = new Map<number, { cpuUsPerRecord: number; recordsPerSecond: number }>();
  try {
    const warm = new PendingRecords();
    warm.add(records(5_000));
    await warm.drain(producer, new Map());
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? SLICES : [...SLICES].reverse();
      for (const slice of order) {
        const recs = records(RECORDS);
        const queue = new PendingRecords(slice);
        queue.add(recs);
        const cpu = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await queue.drain(producer, new Map());
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const used = process.cpuUsage(cpu);
        // Best of the rounds, each figure on its own: least CPU per record, most records per second.
        const was = best.get(slice) ?? { cpuUsPerRecord: Infinity, recordsPerSecond: 0 };
        best.set(slice, {
          cpuUsPerRecord: Math.min(was.cpuUsPerRecord, Math.round(((used.user + used.system) / RECORDS) * 100) / 100),
          recordsPerSecond: Math.max(was.recordsPerSecond, Math.round(RECORDS / seconds)),
        });
      }
    }
  } finally {
    await session.close();
    await admin.deleteTopics({ topics: [TOPIC] }).catch(() => undefined);
    await admin.disconnect();
  }
  const run = { records: RECORDS, rounds: ROUNDS, load: load1() };
  console.log(`record collector → idempotent kafkajs producer, ${RECORDS} records per cell (half keyed ~250 B, half partitioned ~300 B), best of ${ROUNDS}, load ${run.load}`);
  for (const [slice, c] of [...best].sort((a, b) => a[0] - b[0])) {
    console.log(`  ${String(slice).padStart(5)} records/request  ${c.cpuUsPerRecord.toFixed(2).padStart(6)} CPU-µs/record  ${c.recordsPerSecond.toLocaleString('en-US').padStart(8)} records/s`);
  }
  mkdirSync(resolve(ROOT, '.infra/bench'), { recursive: true });
  writeFileSync(resolve(ROOT, '.infra/bench/produce-cost.json'), JSON.stringify({ at: new Date().toISOString(), machine: machine(ROOT), ...run, cells: Object.fromEntries(best) }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
