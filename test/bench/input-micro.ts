/**
 * The processor's input path in-process, without a broker: the bench population's backlog framed as
 * Kafka fetch responses (record batches of about 1 MiB, as a partition's fetch returns them),
 * decoded by kafkajs (patched, as the processor runs it), wrapped in its consumer Batch, and applied
 * by the processor's batch applier (Avro decode, hygiene, the task's rules) with records released as
 * applied. Prints µs per event (collections included) and bytes allocated per event, and writes
 * .infra/bench/input-micro.json. What it leaves out: the fetch itself, outputs and checkpoints
 * (task-micro.ts times those).
 *
 *   npx tsx test/bench/input-micro.ts     (INPUT_HEARTBEATS, INPUT_USERS, INPUT_BATCH_RECORDS, INPUT_ROUNDS)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import type { KafkaMessage } from 'kafkajs';
import { DEFAULT_CONFIG } from '../../services/core';
import { localSerde } from '../../services/contract/local-serde';
import type { AvroSerde } from '../../services/contract/serde';
import { createLogger } from '../../services/platform/log';
import { batchApplier } from '../../services/processor/apply-batch';
import { createProcessorMetrics } from '../../services/processor/metrics';
import { PresenceTask } from '../../services/processor/task';
import { Population } from './population';

/* eslint-disable @typescript-eslint/no-require-imports */
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => unknown;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages') as (d: unknown) => Promise<KafkaMessage[]>;
const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, p: object) => { messages: KafkaMessage[] };
/* eslint-enable @typescript-eslint/no-require-imports */

const ROOT = resolve(__dirname, '../..');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const HEARTBEATS = num('INPUT_HEARTBEATS', 333_000);
const USERS = num('INPUT_USERS', 83_000);
const BATCH_RECORDS = num('INPUT_BATCH_RECORDS', 13_000);
const ROUNDS = num('INPUT_ROUNDS', 3);
const TOPIC = 'input-micro.presence.heartbeat.v1';

/** The backlog as fetch responses' record sets: each one int32 size + one record batch. */
async function fetchBodies(serde: AvroSerde, start: number): Promise<Array<{ firstOffset: number; body: Buffer }>> {
  const population = new Population(USERS, 'input-micro');
  const out: Array<{ firstOffset: number; body: Buffer }> = [];
  for (let base = 0; base < HEARTBEATS; base += BATCH_RECORDS) {
    const records = [];
    const n = Math.min(BATCH_RECORDS, HEARTBEATS - base);
    for (let i = 0; i < n; i++) {
      const wire = population.backlogHeartbeat(base + i, start + Math.floor((base + i) / 150));
      records.push(Record({ offsetDelta: i, timestampDelta: i, key: Buffer.from(wire.userId), value: serde.encodeSync('heartbeat', wire) }));
    }
    const batch = await RecordBatch({ firstOffset: String(base), firstTimestamp: start, maxTimestamp: start + n, lastOffsetDelta: n - 1, records });
    const size = Buffer.alloc(4);
    size.writeInt32BE(batch.buffer.length);
    out.push({ firstOffset: base, body: Buffer.concat([size, batch.buffer]) });
  }
  return out;
}

/** One pass over the backlog into a fresh task; `sampled`: under the heap sampler (its bytes, not its times). */
async function round(serde: AvroSerde, bodies: ReadonlyArray<{ firstOffset: number; body: Buffer }>, start: number, sampled: boolean): Promise<Record<string, number>> {
  const metrics = createProcessorMetrics();
  const apply = batchApplier({ serde, cfg: DEFAULT_CONFIG, log: createLogger('input-micro', 'warn'), metrics, clock: () => start, partitionsOf: () => 1, releaseApplied: true });
  const task = new PresenceTask(0, DEFAULT_CONFIG);
  const t = { decode: 0, apply: 0 };
  let events = 0;
  const pass = async () => {
    for (const { firstOffset, body } of bodies) {
      const now = start + firstOffset / 150;
      const t0 = performance.now();
      const records = await decodeMessages(new Decoder(body));
      const batch = new Batch(TOPIC, String(firstOffset), { partition: 0, highWatermark: String(HEARTBEATS), messages: records });
      const t1 = performance.now();
      await apply(task, TOPIC, 0, batch.messages, 'heartbeat', now);
      t.decode += t1 - t0;
      t.apply += performance.now() - t1;
      events += records.length;
    }
  };
  let allocated = 0;
  if (sampled) {
    const s = await sampledAllocations(pass);
    allocated = s.bytes;
    if (process.env['INPUT_SITES'] === '1') for (const [site, b] of s.sites) console.log(`${String(Math.round(b / events)).padStart(6)} B/event  ${site}`);
  } else {
    await pass();
  }
  if (sampled) return { allocatedBytesPerEvent: Math.round(allocated / events) };
  const per = (ms: number) => Math.round((ms * 1000 * 100) / events) / 100;
  return {
    events, kafkaDecodeUs: per(t.decode), applyBatchUs: per(t.apply), totalUs: per(t.decode + t.apply), keys: task.size,
  };
}

interface SampleNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: SampleNode[] }

/**
 * V8's sampling heap profiler over `fn`, counting what was collected too: its estimate of the bytes
 * allocated, and the sites that allocated most.
 */
async function sampledAllocations<T>(fn: () => Promise<T>): Promise<{ result: T; bytes: number; sites: Array<[string, number]> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((res, rej) => session.post(method, params ?? {}, (e, r) => (e ? rej(e) : res(r))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const result = await fn();
  const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: SampleNode } };
  session.disconnect();
  const bySite = new Map<string, number>();
  let bytes = 0;
  const walk = (n: SampleNode) => {
    const site = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
    bytes += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head);
  return { result, bytes, sites: [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 15) };
}

async function main(): Promise<void> {
  const serde = localSerde();
  const start = Date.now();
  const bodies = await fetchBodies(serde, start);
  const rounds: Array<Record<string, number>> = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(serde, bodies, start, false));
  const best = Object.fromEntries(Object.keys(rounds[0] as object).map((k) => [k, Math.min(...rounds.map((x) => x[k] as number))]));
  Object.assign(best, await round(serde, bodies, start, true));
  const out = { heartbeats: HEARTBEATS, users: USERS, batchRecords: BATCH_RECORDS, rounds, best };
  mkdirSync(join(ROOT, '.infra/bench'), { recursive: true });
  writeFileSync(join(ROOT, '.infra/bench/input-micro.json'), JSON.stringify(out, null, 2));
  console.log(JSON.stringify(best));
}

void main();
