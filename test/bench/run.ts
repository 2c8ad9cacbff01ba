/**
 * `make bench`: measures, never asserts. Writes .infra/bench/results.json and prints a table.
 *
 *  1. throughput: pre-fill the heartbeat topic; the ceiling on that topic (a bare kafkajs consumer
 *     and Kafka's ConsumerPerformance); the processor from start to caught up in both guarantee
 *     modes (each with its own group, an empty store and empty output topics); memory per user.
 *  2. restore: the at-least-once processor restarted from its local store + changelog delta, and
 *     from the changelog alone.
 *  3. offline: detection delay with shortened thresholds, on an otherwise idle processor.
 *  4. latency: with the default thresholds under a steady live load, SSE latency of status changes
 *     and offline detection delay (needs services/query).
 *  5. gateway: WebSocket sessions on the gateway, acked heartbeats/s and ack latency (each one a
 *     record acknowledged by Kafka), connects/s, memory per socket, all disconnects on close.
 *
 * Scale and phases come from BENCH_* variables (config.ts). Everything the run creates (topics,
 * groups, subjects, data dirs) carries a unique run id and is deleted at the end.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { provisionTopics } from '../../services/contract/provision';
import { AvroSerde, createRegistry } from '../../services/contract/serde';
import { createKafka } from '../../services/platform/kafka';
import { loadBenchConfig } from './config';
import { gatewayPhase } from './gateway';
import { subscriptionsPhase } from './subscriptions';
import { deletePhaseTopics, deleteRunArtifacts, deleteSubjects } from './kafka-admin';
import { livePhase } from './live';
import { load1, machine } from './measure';
import { OFFLINE_THRESHOLDS, offlineIdlePhase } from './offline';
import { processorPhases, THROUGHPUT_THRESHOLDS } from './processor-phases';
import { capacityPhase } from './capacity';
import { table, writeResults, type BenchResults, type PhaseRunner } from './report';
import { PROCESSOR_MALLOC_ENV } from '../../services/processor/malloc-env';

const log = (s: string) => console.log(`[bench] ${s}`);

async function main(): Promise<boolean> {
  const cfg = loadBenchConfig();
  const wallStart = Date.now();
  mkdirSync(cfg.workDir, { recursive: true });
  const kafka = createKafka({ brokers: cfg.kafka.KAFKA_BROKERS, clientId: `${cfg.runId}-bench` });
  const admin = kafka.admin();
  await admin.connect();
  const registry = createRegistry(cfg.kafka.SCHEMA_REGISTRY_URL);
  const prefixes = { main: `${cfg.runId}.`, offline: `${cfg.runId}-offline.`, live: `${cfg.runId}-live.`, gateway: `${cfg.runId}-gateway.`, subscriptions: `${cfg.runId}-subs.` };
  const results: BenchResults = {
    format: 1, at: new Date().toISOString(), runId: cfg.runId, machine: machine(cfg.root),
    scale: {
      heartbeats: cfg.heartbeats, users: cfg.users, partitions: cfg.partitions, processorThreads: cfg.processorThreads, liveRate: cfg.liveRate,
      latencySeconds: cfg.latencySeconds, probesPerSecond: cfg.probesPerSecond, offlineUsers: cfg.offlineUsers, phases: [...cfg.phases].join(','),
    },
    settings: { throughputThresholds: THROUGHPUT_THRESHOLDS, offlineThresholds: OFFLINE_THRESHOLDS, liveThresholds: 'defaults', processorMallocEnv: cfg.processorMalloc ? PROCESSOR_MALLOC_ENV : 'glibc defaults' },
    loadAverage: { start: load1() },
    errors: [],
  };
  const phase: PhaseRunner = async (name, fn) => {
    const t = Date.now();
    try {
      await fn();
      return true;
    } catch (e) {
      results.errors.push({ phase: name, error: e instanceof Error ? `${e.message}` : String(e) });
      console.error(`[bench] ${name} failed:`, e);
      return false;
    } finally {
      log(`  (${name}: ${((Date.now() - t) / 1000).toFixed(1)} s)`);
      writeResults(cfg.resultsFile, results); // partial results survive a later failure
    }
  };

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    if (cfg.keep) return log(`kept topics, groups and ${cfg.workDir} (BENCH_KEEP=1)`);
    const gone = await deleteRunArtifacts(admin, cfg.runId).catch(() => ({ topics: 0, groups: 0 }));
    const subjects = await deleteSubjects(cfg.kafka.SCHEMA_REGISTRY_URL, cfg.runId).catch(() => 0);
    // Logs stay when something failed: they are the only account of what the children did.
    if (results.errors.length === 0 && !cfg.keepLogs) rmSync(cfg.workDir, { recursive: true, force: true });
    else for (const d of ['store-alo', 'store-eos', 'store-idle', 'store-offline', 'store-live']) rmSync(join(cfg.workDir, d), { recursive: true, force: true });
    log(`deleted ${gone.topics} topics, ${gone.groups} groups, ${subjects} subjects${results.errors.length || cfg.keepLogs ? `; logs kept in ${cfg.workDir}` : ''}`);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    log(`run ${cfg.runId}: ${[...cfg.phases].join(', ')}; ${cfg.heartbeats} heartbeats over ${cfg.users} users, ${cfg.partitions} partitions`);
    for (const p of Object.values(prefixes)) await provisionTopics(admin, { prefix: p, partitions: cfg.partitions, replicationFactor: 1 });
    if (cfg.phases.has('throughput')) {
      await processorPhases(cfg, admin, kafka, registry, prefixes, results, phase);
      if (!cfg.keep) log(`deleted the processor phases' ${await deletePhaseTopics(admin, prefixes.main)} topics`);
    }
    if (cfg.phases.has('offline')) {
      await phase('offline detection (idle)', async () => {
        log('offline detection with shortened thresholds, idle processor…');
        const idle = await offlineIdlePhase(cfg, kafka, await AvroSerde.create(registry, prefixes.offline), prefixes.offline);
        results.offlineDetection = { ...results.offlineDetection, idle: { ...idle, thresholds: OFFLINE_THRESHOLDS } };
      });
    }
    if (cfg.phases.has('latency')) {
      if (!existsSync(resolve(cfg.root, 'services/query/main.ts'))) {
        results.live = { skipped: 'query service not present (services/query/main.ts)' };
        log('latency skipped: query service not present');
      } else {
        await phase('live load: SSE latency and offline detection', async () => {
          log(`live load ${cfg.liveRate}/s with default thresholds: SSE latency and offline detection for ${cfg.latencySeconds} s…`);
          const serde = await AvroSerde.create(registry, prefixes.live);
          const live = await livePhase(cfg, admin, kafka, serde, prefixes.live);
          results.live = live;
          results.offlineDetection = { ...results.offlineDetection, underLoad: live.offlineUnderLoad };
        });
      }
    }
    if (cfg.phases.has('capacity')) {
      await phase('live capacity', async () => {
        log(`live capacity: ${cfg.capacityRates.join(', ')} heartbeats/s, ${cfg.capacitySeconds} s each, watermark lease mode…`);
        results.capacity = await capacityPhase(cfg, admin, kafka, (prefix) => AvroSerde.create(registry, prefix));
      });
    }
    if (cfg.phases.has('gateway')) {
      await phase('gateway', async () => {
        log(`gateway: ${cfg.gatewaySockets} WebSocket sessions, ${cfg.gatewayInFlight} heartbeats in flight each, coalescing off…`);
        await AvroSerde.create(registry, prefixes.gateway); // the gateway child registers the same schemas
        results.gateway = await gatewayPhase(cfg, admin, prefixes.gateway, log);
      });
    }
    if (cfg.phases.has('subscriptions')) {
      await phase('subscriptions', async () => {
        const s = cfg.subscriptions;
        log(`subscriptions: ${s.sockets} sockets × ${s.perSocket} followed users over ${s.users}, ${s.rate} snapshot changes/s…`);
        const serde = await AvroSerde.create(registry, prefixes.subscriptions);
        results.subscriptions = await subscriptionsPhase(cfg, kafka, serde, prefixes.subscriptions, log);
      });
    }
  } finally {
    results.loadAverage.end = load1();
    await cleanup();
    await admin.disconnect();
    results.wallSeconds = Math.round((Date.now() - wallStart) / 1000);
    writeResults(cfg.resultsFile, results);
  }
  console.log(`\n${table(results)}\nresults: ${cfg.resultsFile}`);
  return results.errors.length === 0;
}

// Exit explicitly: a phase that failed half-way may leave a kafkajs client retrying in the background.
main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
