/**
 * The ceiling the processor is compared with, on the same pre-filled topic: a kafkajs consumer
 * that decodes nothing and does nothing but take each record's key and value bytes, and Kafka's
 * own Java consumer performance tool.
 */
import { spawn } from 'node:child_process';
import type { Kafka } from 'kafkajs';

export interface CeilingResult {
  readonly records: number;
  /** From connect to the last record, group join included (as the processor's figure includes its start). */
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** From the first record to the last: fetch throughput alone. */
  readonly fetchEventsPerSecond: number;
}

/**
 * What the bare consumer does with each record. 'key-and-value' (the ceiling): it takes the key and
 * the value, the least any consumer does. Unpatched kafkajs made both Buffer views for every record
 * whether read or not; the patched one (infra/patches) makes them when read, so a consumer that only
 * counts records ('count') no longer pays for them, and would measure less than any consumer does.
 */
export type BareReads = 'key-and-value' | 'count';

/**
 * A bare kafkajs consumer, fetching with the processor's settings (maxWaitTimeInMs 50,
 * read_committed, default fetch sizes), so the ratio isolates what the processor does per record.
 */
export async function bareKafkajsConsumer(kafka: Kafka, topic: string, groupId: string, expected: number, reads: BareReads = 'key-and-value'): Promise<CeilingResult & { readonly reads: BareReads; readonly bytes: number }> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, readUncommitted: false });
  const started = Date.now();
  let first = 0;
  let count = 0;
  let bytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = Date.now();
        if (reads === 'key-and-value') {
          for (const m of batch.messages) bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
        }
        count += batch.messages.length;
        if (count >= expected) done();
      },
    });
    await finished;
  } finally {
    await consumer.disconnect();
  }
  const end = Date.now();
  const seconds = (end - started) / 1000;
  return { reads, bytes, records: count, seconds, eventsPerSecond: Math.round(count / seconds), fetchEventsPerSecond: Math.round(count / Math.max(0.001, (end - first) / 1000)) };
}

export interface KafkaPerfResult {
  readonly records: number;
  readonly seconds: number;
  /** nMsg.sec: records over the whole run, group join included. */
  readonly eventsPerSecond: number;
  /** fetch.nMsg.sec: records over the fetch time alone (rebalance excluded). */
  readonly fetchEventsPerSecond: number;
  readonly rebalanceMs: number;
  readonly raw: Record<string, string>;
}

/** org.apache.kafka.tools.ConsumerPerformance from the broker's own jars; parses its CSV summary. */
export async function kafkaConsumerPerformance(o: {
  java: string; libs: string; bootstrap: string; topic: string; groupId: string; messages: number; timeoutMs: number;
}): Promise<KafkaPerfResult> {
  const args = [
    '-Xmx512m', '-cp', `${o.libs}/*`, 'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server', o.bootstrap, '--topic', o.topic, '--messages', String(o.messages), '--group', o.groupId,
    // The tool gives up after this long without a record; the topic is full, so only a fault trips it.
    '--timeout', '30000',
  ];
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((res, rej) => {
    const p = spawn(o.java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs);
    p.once('error', rej);
    p.once('exit', (c) => { clearTimeout(timer); res({ stdout: out, stderr: err, code: c }); });
  });
  const lines = stdout.split('\n').map((l) => l.trim());
  const h = lines.findIndex((l) => l.startsWith('start.time'));
  const header = lines[h]?.split(',').map((s) => s.trim());
  const values = lines[h + 1]?.split(',').map((s) => s.trim());
  if (code !== 0 || !header || !values) {
    throw new Error(`ConsumerPerformance failed (exit ${code}): ${(stderr || stdout).split('\n').slice(-10).join('\n')}`);
  }
  const raw = Object.fromEntries(header.map((k, i) => [k, values[i] ?? '']));
  const num = (k: string) => Number(raw[k] ?? NaN);
  const records = num('data.consumed.in.nMsg');
  const rebalanceMs = num('rebalance.time.ms');
  const fetchMs = num('fetch.time.ms');
  return {
    records, rebalanceMs, raw,
    seconds: (rebalanceMs + fetchMs) / 1000,
    eventsPerSecond: Math.round(num('nMsg.sec')),
    fetchEventsPerSecond: Math.round(num('fetch.nMsg.sec')),
  };
}
