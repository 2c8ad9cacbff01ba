/**
 * The processor phases on one pre-filled topic: pre-fill; the ceiling (bare kafkajs consumer, Kafka's
 * ConsumerPerformance); an idle processor for the memory baseline; the at-least-once run; restores
 * of its state (local store + delta, then changelog alone); the exactly-once run on fresh output
 * topics; memory per user. Each step is a phase of its own, so one failure leaves the others'
 * figures intact.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import { AvroSerde } from '../../services/contract/serde';
import { topicName } from '../../services/contract/topics';
import { bareKafkajsConsumer, kafkaConsumerPerformance } from './ceiling';
import type { BenchConfig } from './config';
import { HeartbeatEncoder } from './encoder';
import { recreateTopics } from './kafka-admin';
import { Population } from './population';
import { prefill } from './prefill';
import type { BenchResults, PhaseRunner } from './report';
import { restoreRun, type RestoreResult } from './restore';
import type { Thresholds } from './services';
import { idleBaseline, throughputRun, type IdleBaseline, type ThroughputResult } from './throughput';

/**
 * Throughput runs process heartbeats stamped at pre-fill time, minutes later. With the default
 * 45 s offline threshold most would already be expired when read, and the processor would do less
 * than it does live (no Online snapshot, no lease refreshes). A 1 h threshold keeps them live for
 * the whole bench, as heartbeats are when a processor keeps up; every other rule stays default.
 */
export const THROUGHPUT_THRESHOLDS: Thresholds = { PRESENCE_OFFLINE_AFTER_MS: '3600000', PRESENCE_SESSION_RETENTION_MS: '3600000' };

const log = (s: string) => console.log(`[bench] ${s}`);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function processorPhases(
  cfg: BenchConfig, admin: Admin, kafka: Kafka, registry: SchemaRegistry,
  prefixes: { main: string; offline: string }, results: BenchResults, phase: PhaseRunner,
): Promise<void> {
  const prefix = prefixes.main;
  const topic = topicName('heartbeat', prefix);
  const serde = await AvroSerde.create(registry, prefix);
  const population = new Population(cfg.users, cfg.runId);

  const filled = await phase('pre-fill', async () => {
    const encoder = await HeartbeatEncoder.create(serde, population.backlogHeartbeat(0, Date.now()));
    const step = Math.max(1, Math.floor(cfg.heartbeats / 500));
    const samples = Array.from({ length: Math.ceil(cfg.heartbeats / step) }, (_, k) => population.backlogHeartbeat(k * step, Date.now()));
    await encoder.verify(serde, samples);
    log(`pre-filling ${cfg.heartbeats} heartbeats (${cfg.users} users, 2–4 devices each; encoding verified on ${samples.length} samples)…`);
    results.prefill = await prefill({ kafka, topic, population, encoder, count: cfg.heartbeats, onProgress: (d) => log(`  ${d} sent`) });
  });
  if (!filled) return;

  results.ceiling = {};
  const ceiling = results.ceiling;
  await phase('bare kafkajs consumer', async () => {
    log('ceiling: bare kafkajs consumer…');
    ceiling.kafkajsBareConsumer = await bareKafkajsConsumer(kafka, topic, `${cfg.runId}-bare-kafkajs`, cfg.heartbeats);
  });
  await phase('count-only kafkajs consumer', async () => {
    log('ceiling, for the record: a kafkajs consumer that only counts records…');
    ceiling.kafkajsCountOnlyConsumer = await bareKafkajsConsumer(kafka, topic, `${cfg.runId}-count-kafkajs`, cfg.heartbeats, 'count');
  });
  await phase('Kafka ConsumerPerformance', async () => {
    log('ceiling: Kafka ConsumerPerformance…');
    ceiling.kafkaConsumerPerformance = await kafkaConsumerPerformance({
      java: cfg.java, libs: resolve(process.env['INFRA_DIR'] ?? resolve(cfg.root, '.infra'), 'kafka/libs'),
      bootstrap: cfg.kafka.KAFKA_BROKERS.join(','), topic, groupId: `${cfg.runId}-kafka-perf`, messages: cfg.heartbeats, timeoutMs: cfg.runTimeoutMs,
    });
  });

  let idle: IdleBaseline | undefined;
  await phase('idle processor baseline', async () => {
    log('processor idle baseline (empty topics)…');
    idle = await idleBaseline(cfg, { prefix: prefixes.offline, groupId: `${cfg.runId}-idle`, dataDir: join(cfg.workDir, 'store-idle'), thresholds: THROUGHPUT_THRESHOLDS });
  });

  const runs: ThroughputResult[] = [];
  const aloGroup = `${cfg.runId}-processor-alo`;
  const aloDir = join(cfg.workDir, 'store-alo');
  await phase('processor at-least-once', async () => {
    log('processor, at-least-once…');
    runs.push(await throughputRun(cfg, admin, {
      prefix, topic, groupId: aloGroup, guarantee: 'at-least-once', dataDir: aloDir, thresholds: THROUGHPUT_THRESHOLDS, expected: cfg.heartbeats,
    }));
  });

  const restores: RestoreResult[] = [];
  if (cfg.phases.has('restore') && runs.length === 1) {
    // Same group: it owns the same partitions and its input is fully committed, so only the restore runs.
    const again = { prefix, groupId: aloGroup, guarantee: 'at-least-once' as const, dataDir: aloDir, thresholds: THROUGHPUT_THRESHOLDS };
    await phase('restore from local store', async () => {
      log('restore: local store + changelog delta…');
      restores.push(await restoreRun(cfg, { ...again, source: 'local store + changelog delta' }));
    });
    await phase('restore from changelog', async () => {
      log('restore: changelog alone (data dir deleted)…');
      rmSync(aloDir, { recursive: true, force: true });
      restores.push(await restoreRun(cfg, { ...again, source: 'changelog alone' }));
    });
    results.restore = restores;
  }
  rmSync(aloDir, { recursive: true, force: true });

  await phase('processor exactly-once', async () => {
    log('processor, exactly-once (fresh changelog and outputs)…');
    await recreateTopics(admin, prefix, ['storeChangelog', 'snapshot', 'roomSnapshot', 'changes', 'dlq'], cfg.partitions);
    runs.push(await throughputRun(cfg, admin, {
      prefix, topic, groupId: `${cfg.runId}-processor-eos`, guarantee: 'exactly-once', dataDir: join(cfg.workDir, 'store-eos'), thresholds: THROUGHPUT_THRESHOLDS, expected: cfg.heartbeats,
    }));
  });

  const bare = ceiling.kafkajsBareConsumer;
  const tool = ceiling.kafkaConsumerPerformance;
  results.processor = runs.map((r) => ({
    ...r,
    ratioToKafkajsBare: bare ? round3(r.eventsPerSecond / bare.eventsPerSecond) : null,
    ratioToKafkajsCountOnly: ceiling.kafkajsCountOnlyConsumer ? round3(r.eventsPerSecond / ceiling.kafkajsCountOnlyConsumer.eventsPerSecond) : null,
    ratioToKafkaConsumerPerformance: tool ? round3(r.eventsPerSecond / tool.eventsPerSecond) : null,
    steadyRatioToKafkajsBareFetch: bare ? round3(r.steadyEventsPerSecond / bare.fetchEventsPerSecond) : null,
    steadyRatioToKafkaConsumerPerformanceFetch: tool ? round3(r.steadyEventsPerSecond / tool.fetchEventsPerSecond) : null,
  }));
  if (idle) {
    const base = idle;
    // Above the idle process: what holding the users costs (heap: live objects only; RSS: what the OS charges).
    const perUser = (rssKiB: number, heap: number | null, users: number) => ({
      bytesPerUserRss: Math.round(((rssKiB - base.rssKiB) * 1024) / users),
      bytesPerUserHeap: heap !== null && base.heapUsedBytes !== null ? Math.round((heap - base.heapUsedBytes) / users) : null,
    });
    const restored = restores.find((s) => s.source === 'changelog alone');
    results.memory = {
      idle: base, users: cfg.users,
      perMode: runs.map((r) => ({
        guarantee: r.guarantee, rssMiBAtCatchUp: r.rssMiBAtCatchUp, ...perUser(r.rssKiBAtCatchUp, r.metrics.heapUsedBytes, r.metrics.keys || cfg.users),
        ...(r.settled && {
          settled: { afterSeconds: cfg.settleMs / 1000, rssMiB: Math.round(r.settled.rssKiB / 1024), compactKeys: r.settled.metrics.compactKeys, ...perUser(r.settled.rssKiB, r.settled.metrics.heapUsedBytes, r.settled.metrics.keys || cfg.users) },
        }),
      })),
      ...(restored && { afterRestore: { rssMiB: restored.rssMiB, ...perUser(restored.rssKiB, restored.heapUsedBytes, restored.keys || cfg.users) } }),
    };
  }
}
