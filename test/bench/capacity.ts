/**
 * The live-capacity phase: the highest steady heartbeat rate the processor sustains. For each rate of
 * BENCH_CAPACITY_RATES in turn, on fresh topics, with the processor and the query service in
 * watermark lease mode (no per-user lease refreshes) and the product's default thresholds: a load
 * child beats every session once per 15 s interval; after a warm-up (the first wave, where every
 * session is new, costs more than the steady state) it measures for BENCH_CAPACITY_SECONDS the
 * processor's input lag (its fetch position against the partitions' ends, from its /metrics, every
 * 2 s), SSE latency, and the output records per heartbeat (everything the processor wrote to its
 * output topics and changelog during the window, over the heartbeats that arrived). A rate is
 * sustained when the lag stays bounded (the second half's largest sample within two seconds of
 * input) and SSE p99 ≤ 500 ms; the phase stops at the first rate that is not.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { DEFAULT_CONFIG } from '../../services/core';
import { provisionTopics } from '../../services/contract/provision';
import type { AvroSerde } from '../../services/contract/serde';
import { topicName, type TopicRole } from '../../services/contract/topics';
import { mintToken } from '../../services/platform/auth';
import { DEFAULT_COMMIT_INTERVAL_MS } from '../../services/processor/processor';
import { Child } from './child';
import type { BenchConfig } from './config';
import { deletePhaseTopics, endTotal } from './kafka-admin';
import { sseLatency, type LatencyResult } from './latency';
import { distribution, sampleEvery, sleep, type Distribution } from './measure';
import { brokerPid, cpuMeter } from './live';
import { Population } from './population';
import { processorInputLag, startProcessorChild, startQueryChild } from './services';

export interface CapacityStep {
  readonly targetRate: number;
  readonly achievedRate: number | null;
  readonly sessions: number | null;
  readonly inputLag: Distribution & { readonly samples: number[] };
  readonly latency: LatencyResult;
  readonly heartbeats: number;
  readonly outputRecords: Record<string, number>;
  readonly outputPerHeartbeat: number;
  readonly sustained: boolean;
  readonly why: string | null;
  /** Cores each process used during the window: a step that failed while the processor had less than its usual share says the machine was busy. */
  readonly coresUsed: Record<string, number>;
  /** Load start to the window: one interval and one commit interval, then until the processor was within 100 ms of its input. */
  readonly warmUpSeconds: number;
}

export interface CapacityResult {
  readonly steps: CapacityStep[];
  readonly highestSustained: number | null;
  readonly seconds: number;
}

const WATERMARK_MODE = { PRESENCE_SNAPSHOT_LEASES: 'watermark' };
const OUTPUTS: readonly TopicRole[] = ['snapshot', 'roomSnapshot', 'changes', 'storeChangelog', 'watermark', 'dlq'];

async function step(cfg: BenchConfig, admin: Admin, kafka: Kafka, serde: (prefix: string) => Promise<AvroSerde>, rate: number): Promise<CapacityStep> {
  const prefix = `${cfg.runId}-cap${rate}.`;
  await provisionTopics(admin, { prefix, partitions: cfg.partitions, replicationFactor: 1 });
  const secret = randomBytes(24).toString('hex');
  const processor = await startProcessorChild(cfg, {
    name: `processor-cap${rate}`, prefix, groupId: `${cfg.runId}-cap${rate}`, guarantee: 'at-least-once', dataDir: join(cfg.workDir, `store-cap${rate}`), thresholds: WATERMARK_MODE,
  });
  const query = await startQueryChild(cfg, { prefix, secret, thresholds: WATERMARK_MODE });
  let load: Child | null = null;
  try {
    await processor.child.waitHttpOk(`${processor.url}/readyz`, 60_000);
    await query.child.waitHttpOk(`${query.url}/readyz`, 60_000);
    const intervalMs = DEFAULT_CONFIG.heartbeatIntervalMs;
    load = new Child(`load-cap${rate}`, cfg.root, 'test/bench/load-gen.ts', {
      LOADGEN_PREFIX: prefix, LOADGEN_RATE: String(rate), LOADGEN_INTERVAL_MS: String(intervalMs), LOADGEN_LABEL: `${cfg.runId}-cap${rate}`,
      KAFKA_BROKERS: cfg.kafka.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: cfg.kafka.SCHEMA_REGISTRY_URL,
    }, join(cfg.workDir, `load-cap${rate}.log`));
    const started = await load.waitLog((l) => l.msg === 'load started', 60_000, 'load start');
    console.log(`[bench]   capacity ${rate}/s: ${String(started['sessions'])} sessions; warming up`);
    const warmStart = Date.now();
    // Steady means caught up and saved: the first interval opens every session (the costly first
    // beats), and the checkpoint after it writes the last of those users (at 60,000/s ~50,000 entries a
    // thread, encoded in one go: the slowest probes of a full run all fell 0-4 s into a window that
    // began right after the first interval). One interval, one commit interval (at-least-once, 5 s),
    // then within 100 ms of input (rate / 10 records), or three intervals at most.
    await sleep(intervalMs + DEFAULT_COMMIT_INTERVAL_MS['at-least-once']);
    while ((await processorInputLag(processor.url).catch(() => Infinity)) > rate / 10 && Date.now() - warmStart < 3 * intervalMs) await sleep(1_000);
    const warmUpSeconds = (Date.now() - warmStart) / 1000;
    const outputs = OUTPUTS.map((r) => topicName(r, prefix));
    const heartbeatTopic = topicName('heartbeat', prefix);
    const before = await Promise.all([heartbeatTopic, ...outputs].map((t) => endTotal(admin, t)));
    const sampler = sampleEvery(() => processorInputLag(processor.url), 2_000);
    const cpuOf = cpuMeter({ processor: processor.child.pid, query: query.child.pid, loadGenerator: load.pid, broker: brokerPid(cfg) });
    const s = await serde(prefix);
    const latency = await sseLatency({
      kafka, serde: s, prefix, queryUrl: query.url, token: await mintToken(secret, 'bench-watcher'),
      fresh: new Population(Math.ceil((cfg.capacitySeconds * cfg.probesPerSecond) / 2), `${cfg.runId}-cap${rate}-fresh`),
      toggled: new Population(Math.max(10, cfg.probesPerSecond * 3), `${cfg.runId}-cap${rate}-toggle`),
      seconds: cfg.capacitySeconds, perSecond: cfg.probesPerSecond, runId: `${cfg.runId}-cap${rate}`,
    });
    const lags = await sampler.stop();
    const coresUsed = cpuOf();
    const after = await Promise.all([heartbeatTopic, ...outputs].map((t) => endTotal(admin, t)));
    await load.stop();
    const stopped = load.lines.find((l) => l.msg === 'load stopped');
    const heartbeats = (after[0] as number) - (before[0] as number);
    const outputRecords = Object.fromEntries(OUTPUTS.map((r, i) => [r, (after[i + 1] as number) - (before[i + 1] as number)]));
    const total = Object.values(outputRecords).reduce((a, b) => a + b, 0);
    const finite = lags.filter((x) => Number.isFinite(x));
    const secondHalf = finite.slice(Math.floor(finite.length / 2));
    const lagBound = 2 * rate;
    const worstLate = secondHalf.length ? Math.max(...secondHalf) : Infinity;
    const why = worstLate > lagBound ? `input lag ${Math.round(worstLate)} > ${lagBound} in the window's second half`
      : (latency.all.p99 ?? Infinity) > 500 ? `SSE p99 ${latency.all.p99} ms > 500 ms`
        : latency.lost > 0 ? `${latency.lost} SSE probes never seen` : null;
    return {
      targetRate: rate, achievedRate: stopped ? Number(stopped['rate']) : null, sessions: Number(started['sessions']),
      inputLag: { ...distribution(finite), samples: lags }, latency, heartbeats, outputRecords,
      outputPerHeartbeat: heartbeats > 0 ? Math.round((total / heartbeats) * 1000) / 1000 : 0,
      sustained: why === null, why, coresUsed, warmUpSeconds,
    };
  } finally {
    await load?.stop();
    await query.child.stop();
    await processor.child.stop();
  }
}

export async function capacityPhase(cfg: BenchConfig, admin: Admin, kafka: Kafka, serde: (prefix: string) => Promise<AvroSerde>): Promise<CapacityResult> {
  const steps: CapacityStep[] = [];
  for (const rate of cfg.capacityRates) {
    const r = await step(cfg, admin, kafka, serde, rate);
    if (!cfg.keep) await deletePhaseTopics(admin, `${cfg.runId}-cap${rate}.`);
    steps.push(r);
    console.log(`[bench]   capacity ${rate}/s: ${r.sustained ? 'sustained' : `not sustained (${r.why})`}; lag max ${r.inputLag.max}, SSE p99 ${r.latency.all.p99} ms, ${r.outputPerHeartbeat} output records per heartbeat`);
    if (!r.sustained) break;
  }
  const ok = steps.filter((s) => s.sustained).map((s) => s.targetRate);
  return { steps, highestSustained: ok.length ? Math.max(...ok) : null, seconds: cfg.capacitySeconds };
}
