/**
 * The live phase, with the product's default thresholds: processor and query service running, a
 * steady load of heartbeats from a generator child, and meanwhile (1) SSE latency probes and (2)
 * offline detection of users that fall silent — both measured under that load. The processor's
 * input lag is sampled throughout: a latency figure means little if the processor fell behind.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { DEFAULT_CONFIG } from '../../services/core';
import type { AvroSerde } from '../../services/contract/serde';
import { topicName } from '../../services/contract/topics';
import { mintToken } from '../../services/platform/auth';
import { Child } from './child';
import type { BenchConfig } from './config';
import { sseLatency, type LatencyResult } from './latency';
import { cpuSeconds, distribution, load1, MiB, sampleEvery, sleep, type Distribution } from './measure';
import { offlineDetection, type OfflineResult } from './offline';
import { Population } from './population';
import { processorInputLag, startProcessorChild, startQueryChild } from './services';

export interface LiveResult {
  readonly load: {
    readonly targetRate: number;
    readonly achievedRate: number | null;
    readonly users: number | null;
    readonly sessions: number | null;
    readonly heartbeatIntervalMs: number;
    /** Records the generator could not send on schedule (it was starved of CPU or the broker was slow). */
    readonly behind: number | null;
  };
  /** Records behind the input partitions' ends at the processor's fetch position, sampled every 2 s during the window (samples in order: a rising series means it cannot keep up). */
  readonly processorLag: Distribution & { readonly atStart: number | null; readonly atEnd: number | null; readonly samples: number[] };
  /** From the load's start to the window's: one interval, plus up to one more while the processor had over 1 s of lag. */
  readonly warmUpSeconds: number;
  /** Cores each process used on average during the window (CPU seconds / wall seconds): who had the 2 cores. */
  readonly coresUsed: Record<string, number>;
  readonly latency: LatencyResult;
  readonly offlineUnderLoad: OfflineResult;
  readonly rssMiB: { readonly processor: number; readonly query: number };
  readonly loadAverage: number;
}

export async function livePhase(cfg: BenchConfig, admin: Admin, kafka: Kafka, serde: AvroSerde, prefix: string): Promise<LiveResult> {
  const groupId = `${cfg.runId}-live`;
  const secret = randomBytes(24).toString('hex');
  const processor = await startProcessorChild(cfg, {
    name: 'processor-live', prefix, groupId, guarantee: 'at-least-once', dataDir: join(cfg.workDir, 'store-live'), thresholds: {},
  });
  const query = await startQueryChild(cfg, { prefix, secret, thresholds: {} });
  let load: Child | null = null;
  try {
    await processor.child.waitHttpOk(`${processor.url}/readyz`, 60_000);
    await query.child.waitHttpOk(`${query.url}/readyz`, 60_000);
    const intervalMs = DEFAULT_CONFIG.heartbeatIntervalMs;
    load = new Child('load-gen', cfg.root, 'test/bench/load-gen.ts', {
      LOADGEN_PREFIX: prefix, LOADGEN_RATE: String(cfg.liveRate), LOADGEN_INTERVAL_MS: String(intervalMs), LOADGEN_LABEL: `${cfg.runId}-load`,
      KAFKA_BROKERS: cfg.kafka.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: cfg.kafka.SCHEMA_REGISTRY_URL,
    }, join(cfg.workDir, 'load-gen.log'));
    const started = await load.waitLog((l) => l.msg === 'load started', 60_000, 'load start');
    console.log(`[bench]   load: ${cfg.liveRate}/s over ${String(started['users'])} users, ${String(started['sessions'])} sessions; warming up one heartbeat interval`);
    // One full interval: every session has beaten once, so the population is Online before probing.
    // That first wave (every user new) costs the processor more than the steady state; give it up
    // to one more interval to work off its lag, so the window measures the steady state if there is one.
    const warmStart = Date.now();
    await sleep(intervalMs);
    let lagAtStart = await processorInputLag(processor.url).catch(() => NaN);
    while (!(lagAtStart <= cfg.liveRate) && Date.now() - warmStart < 2 * intervalMs) {
      await sleep(1_000);
      lagAtStart = await processorInputLag(processor.url).catch(() => NaN);
    }
    const warmUpSeconds = (Date.now() - warmStart) / 1000;

    const sampler = sampleEvery(() => processorInputLag(processor.url), 2_000);
    const cpuOf = cpuMeter({ processor: processor.child.pid, query: query.child.pid, loadGenerator: load.pid, broker: brokerPid(cfg) });
    const probesPerKind = Math.ceil((cfg.latencySeconds * cfg.probesPerSecond) / 2);
    // allSettled: if one fails the other still finishes and closes its consumers and streams.
    const [latencyR, offlineR] = await Promise.allSettled([
      sseLatency({
        kafka, serde, prefix, queryUrl: query.url, token: await mintToken(secret, 'bench-watcher'),
        fresh: new Population(probesPerKind, `${cfg.runId}-fresh`),
        // Enough users that each is toggled only every few seconds, well after its last change showed.
        toggled: new Population(Math.max(10, cfg.probesPerSecond * 3), `${cfg.runId}-toggle`),
        seconds: cfg.latencySeconds, perSecond: cfg.probesPerSecond, runId: cfg.runId,
      }),
      offlineDetection({
        kafka, serde, prefix, groupId: `${cfg.runId}-offline-watch`, population: new Population(cfg.offlineUsers, `${cfg.runId}-silent`),
        offlineAfterMs: DEFAULT_CONFIG.offlineAfterMs, staggerMs: 2_000, timeoutMs: 15_000,
      }),
    ]);
    const lags = await sampler.stop();
    if (latencyR.status === 'rejected') throw latencyR.reason;
    if (offlineR.status === 'rejected') throw offlineR.reason;
    const [latency, offlineUnderLoad] = [latencyR.value, offlineR.value];
    const coresUsed = cpuOf();
    const atEnd = await processorInputLag(processor.url).catch(() => null);
    const rssMiB = { processor: MiB(processor.child.rssKiB()), query: MiB(query.child.rssKiB()) };
    const loadAverage = load1();
    await load.stop();
    const stopped = load.lines.find((l) => l.msg === 'load stopped');
    return {
      load: {
        targetRate: cfg.liveRate, heartbeatIntervalMs: intervalMs,
        achievedRate: stopped ? Number(stopped['rate']) : null,
        users: Number(started['users']), sessions: Number(started['sessions']),
        behind: stopped ? Number(stopped['behind']) : null,
      },
      warmUpSeconds,
      processorLag: { ...distribution(lags.filter((x) => Number.isFinite(x))), atStart: Number.isFinite(lagAtStart) ? lagAtStart : null, atEnd, samples: lags },
      coresUsed, latency, offlineUnderLoad, rssMiB, loadAverage,
    };
  } finally {
    await load?.stop();
    await query.child.stop();
    await processor.child.stop();
  }
}

/** The broker's pid from the pid file infra/up.sh writes, if it is ours and running. */
export function brokerPid(cfg: BenchConfig): number | null {
  try {
    const pid = Number(readFileSync(resolve(process.env['INFRA_DIR'] ?? resolve(cfg.root, '.infra'), 'kafka/kafka.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Starts measuring CPU of the given processes; the returned function gives cores used since then. */
export function cpuMeter(pids: Record<string, number | null>): () => Record<string, number> {
  const read = (pid: number | null) => {
    try {
      return pid === null ? null : cpuSeconds(pid);
    } catch {
      return null;
    }
  };
  const t0 = Date.now();
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, read(pid)]));
  return () => {
    const wall = (Date.now() - t0) / 1000;
    const out: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids)) {
      const a = start[k];
      const b = read(pid);
      if (a !== null && a !== undefined && b !== null) out[k] = Math.round(((b - a) / wall) * 100) / 100;
    }
    return out;
  };
}
