/**
 * Processor throughput: a processor child with an empty store and its own group reads the
 * pre-filled topic from the start; caught up = the group's committed offsets reach the end. In both
 * guarantee modes an input offset is committed only after the batch's outputs, changelog and store
 * write, so "committed = end" means every record was fully processed.
 */
import type { Admin } from 'kafkajs';
import { metricValue, scrape } from './child';
import type { BenchConfig } from './config';
import { committedTotal } from './kafka-admin';
import { cpuSeconds, load1, MiB, peakRssKiB, sleep } from './measure';
import { startProcessorChild, type Guarantee, type Thresholds } from './services';

export interface ProcessorMetricsSample {
  readonly events: number | null;
  readonly snapshots: number | null;
  readonly transitions: number | null;
  readonly dlq: number | null;
  readonly keys: number | null;
  readonly heapUsedBytes: number | null;
  readonly compactKeys: number | null;
  /** V8 heap committed (used + free space in its pages) and memory outside it (Buffers, ArrayBuffers): with RSS, where the bytes go. */
  readonly heapTotalBytes: number | null;
  readonly externalBytes: number | null;
}

export async function processorMetrics(url: string): Promise<ProcessorMetricsSample> {
  const text = await scrape(`${url}/metrics`);
  return {
    events: metricValue(text, 'presence_processor_events_total'),
    snapshots: metricValue(text, 'presence_processor_snapshots_total'),
    transitions: metricValue(text, 'presence_processor_transitions_total'),
    dlq: metricValue(text, 'presence_processor_dlq_total'),
    keys: metricValue(text, 'presence_processor_keys'),
    heapUsedBytes: metricValue(text, 'presence_processor_nodejs_heap_size_used_bytes'),
    compactKeys: metricValue(text, 'presence_processor_compact_keys'),
    heapTotalBytes: metricValue(text, 'presence_processor_nodejs_heap_size_total_bytes'),
    externalBytes: metricValue(text, 'presence_processor_nodejs_external_memory_bytes'),
  };
}

export interface ThroughputResult {
  readonly guarantee: Guarantee;
  readonly records: number;
  /** Spawn to caught up: node start, group join, restore of an empty store, processing. */
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /**
   * Spawn to the first committed batch. A catching-up task commits only once caught up (its
   * outputs and checkpoint wait: PROCESSOR_CATCH_UP_INTERVAL_MS), so this is mostly processing.
   */
  readonly startSeconds: number;
  /** First committed batch to caught up (the rate of the last partitions, not of the whole run). */
  readonly steadyEventsPerSecond: number;
  /** Spawn to the first event applied (its events counter above 0): node start, group join, empty restore. */
  readonly firstEventSeconds: number | null;
  /** First event applied to caught up: the processing rate, start excluded. */
  readonly processingEventsPerSecond: number | null;
  /** CPU the processor used, per million records: comparable even when others load the machine. */
  readonly cpuSecondsPerMillion: number;
  readonly rssMiBAtCatchUp: number;
  readonly rssKiBAtCatchUp: number;
  readonly peakRssMiB: number;
  readonly metrics: ProcessorMetricsSample;
  /** BENCH_SETTLE_MS after caught up, the processor idle meanwhile: what holding the users costs once the garbage of processing them is collected. */
  readonly settled: { readonly rssKiB: number; readonly metrics: ProcessorMetricsSample } | null;
  readonly loadAverage: number;
  readonly timedOut: boolean;
}

export async function throughputRun(cfg: BenchConfig, admin: Admin, o: {
  prefix: string; topic: string; groupId: string; guarantee: Guarantee; dataDir: string; thresholds: Thresholds; expected: number;
}): Promise<ThroughputResult> {
  const p = await startProcessorChild(cfg, { name: `processor-${o.guarantee}`, ...o });
  const started = p.child.spawnedAt;
  let firstAt = 0;
  let firstDone = 0;
  let firstEventAt = 0;
  let done = 0;
  let timedOut = false;
  try {
    for (;;) {
      await sleep(250);
      if (!p.child.alive) throw new Error(`processor (${o.guarantee}) exited; see ${p.child.logFile}`);
      // Asked only until the first event is in: a scrape gathers every thread's metrics.
      if (firstEventAt === 0 && ((await processorMetrics(p.url).catch(() => null))?.events ?? 0) > 0) firstEventAt = Date.now();
      done = await committedTotal(admin, o.groupId, o.topic);
      if (done > 0 && firstAt === 0) {
        firstAt = Date.now();
        firstDone = done;
      }
      if (done >= o.expected) break;
      if (Date.now() - started > cfg.runTimeoutMs) {
        timedOut = true;
        break;
      }
    }
    const end = Date.now();
    const cpu = cpuSeconds(p.child.pid);
    const rss = p.child.rssKiB();
    const metrics = await processorMetrics(p.url);
    const seconds = (end - started) / 1000;
    // V8's memory reducer runs a full GC and gives pages back about 8 s after allocation stops.
    await sleep(cfg.settleMs);
    const settled = timedOut ? null : { rssKiB: p.child.rssKiB(), metrics: await processorMetrics(p.url) };
    return {
      guarantee: o.guarantee, records: done, seconds, timedOut,
      eventsPerSecond: Math.round(done / seconds),
      startSeconds: firstAt ? (firstAt - started) / 1000 : seconds,
      steadyEventsPerSecond: firstAt && end > firstAt ? Math.round((done - firstDone) / ((end - firstAt) / 1000)) : 0,
      firstEventSeconds: firstEventAt ? (firstEventAt - started) / 1000 : null,
      processingEventsPerSecond: firstEventAt && end > firstEventAt ? Math.round(done / ((end - firstEventAt) / 1000)) : null,
      cpuSecondsPerMillion: Math.round((cpu / Math.max(1, done)) * 1e6 * 10) / 10,
      rssMiBAtCatchUp: MiB(rss), rssKiBAtCatchUp: rss, peakRssMiB: MiB(peakRssKiB(p.child.pid)), metrics, settled,
      loadAverage: load1(),
    };
  } finally {
    await p.child.stop();
  }
}

export interface IdleBaseline {
  readonly rssMiB: number;
  readonly rssKiB: number;
  readonly heapUsedBytes: number | null;
  /** Spawn to /readyz with nothing to restore: the fixed start cost inside every restore figure. */
  readonly readySeconds: number;
}

/** RSS of a processor that holds no state: started on empty topics, ready, left alone for a moment. */
export async function idleBaseline(cfg: BenchConfig, o: { prefix: string; groupId: string; dataDir: string; thresholds: Thresholds }): Promise<IdleBaseline> {
  const p = await startProcessorChild(cfg, { name: 'processor-idle', guarantee: 'at-least-once', ...o });
  try {
    await p.child.waitHttpOk(`${p.url}/readyz`, 60_000);
    const readySeconds = (Date.now() - p.child.spawnedAt) / 1000;
    await sleep(3_000);
    const rss = p.child.rssKiB();
    return { rssKiB: rss, rssMiB: MiB(rss), heapUsedBytes: (await processorMetrics(p.url)).heapUsedBytes, readySeconds };
  } finally {
    await p.child.stop();
  }
}
