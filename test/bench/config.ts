/**
 * The bench's knobs, all from the environment so `make bench` runs the full size by default and a
 * developer can run a small one (e.g. BENCH_HEARTBEATS=50000 BENCH_USERS=10000) while others share
 * the machine.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { kafkaEnv, parseEnv, type KafkaEnv } from '../../services/platform/config';

export const PHASES = ['throughput', 'restore', 'offline', 'latency', 'capacity', 'gateway', 'subscriptions'] as const;
export type Phase = (typeof PHASES)[number];

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);

const benchEnv = z.object({
  /** Heartbeats pre-filled into the input topic for the throughput runs. */
  BENCH_HEARTBEATS: int(2_000_000),
  /** Distinct users among them (each with 2–4 devices). */
  BENCH_USERS: int(500_000),
  /** Partitions of the bench's topics (the product default is TOPIC_PARTITIONS, 6). */
  BENCH_PARTITIONS: z.coerce.number().int().min(1).max(64).optional(),
  /** Steady live load during the latency phase, heartbeats per second. */
  BENCH_LIVE_RATE: int(20_000),
  /** Length of the latency measurement window, and the probes sent per second in it. */
  BENCH_LATENCY_SECONDS: int(60),
  BENCH_PROBES_PER_SECOND: int(10),
  /** Users whose offline detection is timed (idle, then again under the live load). */
  BENCH_OFFLINE_USERS: int(300),
  /** Gateway phase: WebSocket sessions, seconds of load, heartbeats in flight per session. */
  BENCH_GATEWAY_SOCKETS: int(2_000),
  BENCH_GATEWAY_SECONDS: int(20),
  BENCH_GATEWAY_IN_FLIGHT: int(4),
  /** Subscriptions phase: sockets, users each follows, users in all, snapshot changes written per second, seconds. */
  BENCH_SUB_SOCKETS: int(500),
  BENCH_SUB_PER_SOCKET: int(50),
  BENCH_SUB_USERS: int(5_000),
  BENCH_SUB_RATE: int(500),
  BENCH_SUB_SECONDS: int(20),
  /** Comma-separated subset of throughput,restore,offline,latency,gateway (restore needs throughput). */
  BENCH_PHASES: z.string().default(PHASES.join(',')),
  /** Longest a processor run may take to catch up before the bench gives up on that figure. */
  BENCH_RUN_TIMEOUT_S: int(300),
  /** The java used for Kafka's ConsumerPerformance (Kafka 3.9 tools run on 11+). */
  BENCH_JAVA: z.string().default(process.env['JAVA_HOME'] ? `${process.env['JAVA_HOME']}/bin/java` : 'java'),
  /** Live-capacity phase: heartbeat rates tried in order (each for BENCH_CAPACITY_SECONDS) until one is not sustained. */
  BENCH_CAPACITY_RATES: z.string().regex(/^\d+(,\d+)*$/).default('20000,40000,60000,80000'),
  BENCH_CAPACITY_SECONDS: z.coerce.number().int().min(10).max(600).default(60),
  /** Keep the bench's topics and data dirs afterwards (debugging); default: delete them. */
  BENCH_KEEP: z.enum(['', '0', '1']).default('').transform((v) => v === '1'),
  /** Keep the children's logs (e.g. with --trace-gc) while deleting topics and stores. */
  BENCH_KEEP_LOGS: z.enum(['', '0', '1']).default('').transform((v) => v === '1'),
  /** How long after caught up the throughput run samples memory again, the processor idle (the "settled" figure). */
  BENCH_SETTLE_MS: z.coerce.number().int().min(0).max(600_000).default(12_000),
  /** PROCESSOR_STREAM_THREADS of every processor child (one per core of this 2-core box by default). */
  BENCH_PROCESSOR_THREADS: z.coerce.number().int().min(1).max(16).default(2),
  /** Extra node arguments for processor children, space-separated (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
  BENCH_PROCESSOR_NODE_ARGS: z.string().default(''),
  /** 1: processor children start with the malloc settings of services/processor/malloc-env.ts, as make processor and the demo start it; 0: glibc's defaults. */
  BENCH_PROCESSOR_MALLOC: z.enum(['0', '1']).default('1').transform((v) => v === '1'),
});

export interface BenchConfig {
  readonly kafka: KafkaEnv;
  readonly heartbeats: number;
  readonly users: number;
  readonly partitions: number;
  readonly liveRate: number;
  readonly latencySeconds: number;
  readonly probesPerSecond: number;
  readonly offlineUsers: number;
  readonly gatewaySockets: number;
  readonly gatewaySeconds: number;
  readonly gatewayInFlight: number;
  readonly subscriptions: { readonly sockets: number; readonly perSocket: number; readonly users: number; readonly rate: number; readonly seconds: number };
  readonly phases: ReadonlySet<Phase>;
  readonly capacityRates: readonly number[];
  readonly capacitySeconds: number;
  readonly runTimeoutMs: number;
  readonly java: string;
  readonly keep: boolean;
  readonly keepLogs: boolean;
  /** BENCH_PROCESSOR_MALLOC. */
  readonly processorMalloc: boolean;
  readonly settleMs: number;
  /** Extra node arguments for processor children (profiling). */
  readonly processorNodeArgs: readonly string[];
  /** Stream threads of every processor child. */
  readonly processorThreads: number;
  /** Repository root: children run from here. */
  readonly root: string;
  /** Unique per run: prefixes topics, subjects, groups and the work folder, so runs never collide. */
  readonly runId: string;
  /** .infra/bench/<runId>: data dirs and child logs of this run. */
  readonly workDir: string;
  readonly resultsFile: string;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const kafka = parseEnv(kafkaEnv, env);
  const b = parseEnv(benchEnv, env);
  const phases = new Set(b.BENCH_PHASES.split(',').map((s) => s.trim()).filter(Boolean));
  for (const p of phases) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`BENCH_PHASES: unknown phase ${p} (known: ${PHASES.join(', ')})`);
  if (phases.has('restore') && !phases.has('throughput')) throw new Error('BENCH_PHASES: restore restores the throughput run\'s state; add throughput');
  const root = resolve(__dirname, '../..');
  const runId = `bench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  return {
    kafka,
    heartbeats: b.BENCH_HEARTBEATS,
    users: Math.min(b.BENCH_USERS, b.BENCH_HEARTBEATS),
    partitions: b.BENCH_PARTITIONS ?? kafka.TOPIC_PARTITIONS,
    liveRate: b.BENCH_LIVE_RATE,
    latencySeconds: b.BENCH_LATENCY_SECONDS,
    probesPerSecond: b.BENCH_PROBES_PER_SECOND,
    offlineUsers: b.BENCH_OFFLINE_USERS,
    gatewaySockets: b.BENCH_GATEWAY_SOCKETS,
    gatewaySeconds: b.BENCH_GATEWAY_SECONDS,
    gatewayInFlight: b.BENCH_GATEWAY_IN_FLIGHT,
    subscriptions: { sockets: b.BENCH_SUB_SOCKETS, perSocket: Math.min(b.BENCH_SUB_PER_SOCKET, b.BENCH_SUB_USERS), users: b.BENCH_SUB_USERS, rate: b.BENCH_SUB_RATE, seconds: b.BENCH_SUB_SECONDS },
    phases: phases as Set<Phase>,
    capacityRates: b.BENCH_CAPACITY_RATES.split(',').map(Number),
    capacitySeconds: b.BENCH_CAPACITY_SECONDS,
    runTimeoutMs: b.BENCH_RUN_TIMEOUT_S * 1000,
    java: b.BENCH_JAVA,
    keep: b.BENCH_KEEP,
    keepLogs: b.BENCH_KEEP_LOGS,
    settleMs: b.BENCH_SETTLE_MS,
    processorNodeArgs: b.BENCH_PROCESSOR_NODE_ARGS.split(' ').filter(Boolean),
    processorMalloc: b.BENCH_PROCESSOR_MALLOC,
    processorThreads: b.BENCH_PROCESSOR_THREADS,
    root,
    runId,
    workDir: resolve(root, '.infra/bench', runId),
    resultsFile: resolve(root, '.infra/bench/results.json'),
  };
}
