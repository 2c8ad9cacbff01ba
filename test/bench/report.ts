/** The results file (.infra/bench/results.json) and the short table printed at the end. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CeilingResult, KafkaPerfResult } from './ceiling';
import type { GatewayResult } from './gateway';
import type { SubscriptionsResult } from './subscriptions';
import type { LiveResult } from './live';
import type { CapacityResult } from './capacity';
import type { machine, Distribution } from './measure';
import type { OfflineResult } from './offline';
import type { PrefillResult } from './prefill';
import type { RestoreResult } from './restore';
import type { IdleBaseline, ThroughputResult } from './throughput';

export interface BenchResults {
  /** Bumped when a field changes meaning, so stored results stay comparable. */
  readonly format: 1;
  readonly at: string;
  readonly runId: string;
  machine: ReturnType<typeof machine>;
  scale: Record<string, number | string>;
  /** Thresholds and settings each phase ran with (they differ on purpose; see run.ts). */
  settings: Record<string, unknown>;
  wallSeconds?: number;
  loadAverage: { start: number; end?: number };
  prefill?: PrefillResult;
  /** kafkajsBareConsumer takes each record's key and value (the ceiling); kafkajsCountOnlyConsumer only counts them (see ceiling.ts). */
  ceiling?: { kafkajsBareConsumer?: CeilingResult; kafkajsCountOnlyConsumer?: CeilingResult; kafkaConsumerPerformance?: KafkaPerfResult };
  processor?: Array<ThroughputResult & {
    /** Start-to-caught-up rate over the ceiling's whole-run rate. */
    ratioToKafkajsBare: number | null;
    /** The same over the count-only consumer's. */
    ratioToKafkajsCountOnly: number | null;
    ratioToKafkaConsumerPerformance: number | null;
    /** Steady processing rate over the ceiling's fetch-only rate (start-up and group join excluded on both sides). */
    steadyRatioToKafkajsBareFetch: number | null;
    steadyRatioToKafkaConsumerPerformanceFetch: number | null;
  }>;
  memory?: {
    idle: IdleBaseline;
    users: number;
    perMode: Array<{
      guarantee: string; rssMiBAtCatchUp: number; bytesPerUserRss: number; bytesPerUserHeap: number | null;
      settled?: { afterSeconds: number; rssMiB: number; compactKeys: number | null; bytesPerUserRss: number; bytesPerUserHeap: number | null };
    }>;
    afterRestore?: { rssMiB: number; bytesPerUserRss: number; bytesPerUserHeap: number | null };
  };
  restore?: RestoreResult[];
  offlineDetection?: { idle?: OfflineResult & { thresholds: Record<string, string> }; underLoad?: OfflineResult };
  live?: LiveResult | { skipped: string };
  capacity?: CapacityResult;
  gateway?: GatewayResult;
  subscriptions?: SubscriptionsResult;
  /** Phases that failed, with the error: the other figures are still valid. */
  errors: Array<{ phase: string; error: string }>;
}

/** Runs one named phase: a failure is recorded in the results and the bench goes on. */
export type PhaseRunner = (name: string, fn: () => Promise<void>) => Promise<boolean>;

export function writeResults(file: string, results: BenchResults): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

const n = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const ms = (d: Distribution | undefined) => (d && d.count ? `p50 ${n(d.p50)} ms, p99 ${n(d.p99)} ms, max ${n(d.max)} ms (n=${d.count})` : '–');

export function table(r: BenchResults): string {
  const rows: Array<[string, string]> = [];
  const m = r.machine;
  if (r.prefill) rows.push(['scale', `${n(Number(r.scale['heartbeats']))} heartbeats, ${n(Number(r.scale['users']))} users, ${r.scale['partitions']} partitions; processor ${String(r.scale['processorThreads'] ?? 1)} stream thread(s)`]);
  if (r.prefill) rows.push(['pre-fill (kafkajs producer)', `${n(r.prefill.eventsPerSecond)} events/s`]);
  const c = r.ceiling;
  if (c?.kafkajsBareConsumer) rows.push(['bare kafkajs consumer', `${n(c.kafkajsBareConsumer.eventsPerSecond)} events/s (fetch only ${n(c.kafkajsBareConsumer.fetchEventsPerSecond)}); takes each key and value`]);
  if (c?.kafkajsCountOnlyConsumer) rows.push(['  count-only kafkajs consumer', `${n(c.kafkajsCountOnlyConsumer.eventsPerSecond)} events/s (fetch only ${n(c.kafkajsCountOnlyConsumer.fetchEventsPerSecond)})`]);
  if (c?.kafkaConsumerPerformance) rows.push(['Kafka ConsumerPerformance', `${n(c.kafkaConsumerPerformance.eventsPerSecond)} events/s (fetch only ${n(c.kafkaConsumerPerformance.fetchEventsPerSecond)})`]);
  for (const p of r.processor ?? []) {
    const processing = p.firstEventSeconds === null || p.processingEventsPerSecond === null ? '' : `first event ${p.firstEventSeconds.toFixed(1)} s after spawn, then ${n(p.processingEventsPerSecond)}/s; `;
    rows.push([`processor ${p.guarantee}`, `${n(p.eventsPerSecond)} events/s (${processing}first commit ${p.startSeconds.toFixed(1)} s); ` +
      `${p.ratioToKafkajsBare ?? '–'} of kafkajs (${p.ratioToKafkajsCountOnly ?? '–'} of count-only), ${p.ratioToKafkaConsumerPerformance ?? '–'} of Kafka tool; ${p.cpuSecondsPerMillion} CPU-s/M` +
      // Every pre-filled record must be applied, none dead-lettered, or the rate is not the processor's.
      `${p.metrics.events !== p.records ? `; ${n(p.metrics.events)} applied` : ''}${p.metrics.dlq ? `; ${n(p.metrics.dlq)} DEAD-LETTERED` : ''}${p.timedOut ? ' (TIMED OUT)' : ''}`]);
  }
  if (r.memory) {
    rows.push(['processor RSS idle', `${n(r.memory.idle.rssMiB)} MiB`]);
    for (const p of r.memory.perMode) {
      rows.push([`RSS at ${n(r.memory.users)} users (${p.guarantee})`, `${n(p.rssMiBAtCatchUp)} MiB: ${n(p.bytesPerUserRss)} B/user RSS, ${n(p.bytesPerUserHeap)} B/user heap`]);
      const s = p.settled;
      if (s) rows.push([`  settled, ${s.afterSeconds} s later (${p.guarantee})`, `${n(s.rssMiB)} MiB: ${n(s.bytesPerUserRss)} B/user RSS, ${n(s.bytesPerUserHeap)} B/user heap; ${n(s.compactKeys)} users compact`]);
    }
    const a = r.memory.afterRestore;
    if (a) rows.push(['RSS after restore', `${n(a.rssMiB)} MiB: ${n(a.bytesPerUserRss)} B/user RSS, ${n(a.bytesPerUserHeap)} B/user heap`]);
  }
  for (const s of r.restore ?? []) {
    rows.push([`restore: ${s.source}`, `${s.restoreSeconds.toFixed(1)} s for ${n(s.keys)} users (${n(s.compactKeys)} compact), ${n(s.changelogRecords)} changelog records (ready ${s.readySeconds.toFixed(1)} s after spawn)`]);
  }
  const o = r.offlineDetection;
  if (o?.idle) rows.push([`offline detection, idle (offline ${n(o.idle.offlineAfterMs)} ms)`, `${ms(o.idle.visibleDelayMs)}${o.idle.missing ? `, ${o.idle.missing} missing` : ''}`]);
  if (o?.underLoad) rows.push([`offline detection, under load (${n(o.underLoad.offlineAfterMs)} ms)`, `${ms(o.underLoad.visibleDelayMs)}${o.underLoad.missing ? `, ${o.underLoad.missing} missing` : ''}`]);
  if (r.capacity) {
    rows.push(['live capacity (watermark leases)', `highest sustained ${n(r.capacity.highestSustained)} heartbeats/s for ${r.capacity.seconds} s`]);
    for (const st of r.capacity.steps) {
      rows.push([`  ${n(st.targetRate)}/s`, `${st.sustained ? 'sustained' : `NOT sustained: ${st.why}`}; achieved ${n(st.achievedRate)}/s, ${n(st.sessions)} sessions; input lag p50 ${n(st.inputLag.p50)}, max ${n(st.inputLag.max)}; SSE ${ms(st.latency.all)}; ${st.outputPerHeartbeat} output records per heartbeat; cores ${Object.entries(st.coresUsed ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}`]);
    }
  }
  if (r.live && 'skipped' in r.live) rows.push(['SSE latency', `skipped: ${r.live.skipped}`]);
  else if (r.live) {
    const l = r.live;
    rows.push(['live load', `${n(l.load.achievedRate)}/s of ${n(l.load.targetRate)}/s target; processor lag at start ${n(l.processorLag.atStart)}, p50 ${n(l.processorLag.p50)}, max ${n(l.processorLag.max)}, end ${n(l.processorLag.atEnd)}`]);
    rows.push(['  cores used', Object.entries(l.coresUsed).map(([k, v]) => `${k} ${v}`).join(', ')]);
    rows.push(['SSE latency (all)', `${ms(l.latency.all)}${l.latency.lost ? `, ${l.latency.lost} lost` : ''}`]);
    rows.push(['  heartbeat Offline→Online', ms(l.latency.byKind.heartbeat)]);
    rows.push(['  override DND↔Busy', ms(l.latency.byKind.override)]);
  }
  const g = r.gateway;
  if (g) {
    rows.push([`gateway: ${n(g.sockets)} sockets`, `connected in ${g.connectSeconds} s (${n(g.connectsPerSecond)}/s); ${n(g.rssMiBWithSockets - g.rssMiBIdle)} MiB for them (${n(g.bytesPerSocketRss)} B/socket RSS)`]);
    rows.push(['gateway heartbeats (acks=all)', `${n(g.heartbeatsPerSecond)}/s acked over ${g.seconds} s, ${g.inFlightPerSocket} in flight per socket; ${g.gatewayCores} cores${g.refused ? `; ${n(g.refused)} REFUSED` : ''}`]);
    rows.push(['  ack latency', ms(g.ackLatencyMs)]);
    rows.push(['  all sockets closed', `${n(g.recordsOnTopic)} records on the topic (acked + one disconnect each), last disconnect after ${g.disconnectsSeconds} s`]);
  }
  const sub = r.subscriptions;
  if (sub) {
    rows.push([`subscriptions: ${n(sub.subscriptions)} held`, `${n(sub.sockets)} sockets × ${n(sub.perSocket)}, ${n(sub.usersFollowed)} users followed, subscribed in ${sub.subscribeSeconds} s; ${n(sub.rssMiBWithSubscriptions - sub.rssMiBIdle)} MiB (${n(sub.bytesPerSubscriptionRss)} B/subscription RSS, sockets included)`]);
    rows.push(['  update latency (snapshot → socket)', `${ms(sub.latencyMs)}; ${n(sub.framesReceived)} frames of ${n(sub.framesExpected)} expected for ${n(sub.changesWritten)} changes; gateway ${sub.gatewayCores} cores`]);
  }
  for (const e of r.errors) rows.push([`FAILED: ${e.phase}`, e.error.split('\n')[0] ?? '']);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpu}; node ${m.node}; commit ${m.commit.slice(0, 10)}${m.dirty ? ' (dirty)' : ''}; load ${r.loadAverage.start}→${r.loadAverage.end ?? '?'}`,
    ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
    `wall ${n(r.wallSeconds)} s`,
  ].join('\n');
}
