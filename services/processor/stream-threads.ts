/**
 * Stream threads, as Kafka Streams' num.stream.threads: PROCESSOR_STREAM_THREADS worker threads,
 * each a whole processor instance (stream-thread.ts) and its own group member, so a process uses
 * more than one core. The main thread only serves /healthz, /readyz and /metrics over what the
 * threads report, and starts and stops them. A thread that dies takes the process with it (exit
 * 70, as a single-threaded processor whose consumer crashed): a supervisor restarts the whole.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { MetricsSource } from '../platform/http';
import type { Logger } from '../platform/log';
import type { ProcessorHealth } from './processor';

/** What the main thread asks a stream thread. */
export type ToThread = { readonly type: 'join' } | { readonly type: 'restore' } | { readonly type: 'metrics'; readonly id: number } | { readonly type: 'stop' };

/** What a stream thread tells the main thread. */
export type FromThread =
  | { readonly type: 'joining' }
  | { readonly type: 'assigned'; readonly partitions: readonly number[] }
  | { readonly type: 'started' }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'status'; readonly ready: boolean; readonly healthy: boolean; readonly health: ProcessorHealth }
  | { readonly type: 'metrics'; readonly id: number; readonly metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { readonly type: 'fatal'; readonly error: string }
  | { readonly type: 'stopped'; readonly error?: string };

/** How often a thread reports its status; a thread silent for STATUS_STALE_MS is unhealthy (stuck). */
export const STATUS_INTERVAL_MS = 250;
const STATUS_STALE_MS = 30_000;
/**
 * The threads' group heartbeat: each thread joins after the previous one got its first assignment,
 * and the members already in the group learn of the rebalance at their next heartbeat, so this is
 * what each further thread adds to a start (500 ms was about 3 % of a bench catch-up). A heartbeat
 * is a small request; kafkajs sends it between batches, only when due.
 */
export const THREAD_HEARTBEAT_INTERVAL_MS = 100;

/**
 * Whether the threads' latest assignments are one generation's: every thread has one and no task
 * is in two (a thread that has not yet rejoined still holds the previous generation's tasks).
 */
export function assignmentsSettled(assignments: readonly (readonly number[] | null)[]): boolean {
  const seen = new Set<number>();
  for (const a of assignments) {
    if (a === null) return false;
    for (const p of a) {
      if (seen.has(p)) return false;
      seen.add(p);
    }
  }
  return true;
}

type ThreadStatus = Extract<FromThread, { type: 'status' }>;

/** One thread's latest status (null: none yet) and whether it is recent (STATUS_STALE_MS). */
export interface ReportedStatus {
  readonly thread: number;
  readonly status: ThreadStatus | null;
  readonly fresh: boolean;
}

/** The process's health from its threads': alive and in touch only if every thread is. */
export function combineHealth(reports: readonly ReportedStatus[]): StreamThreadsHealth {
  const healths = reports.map((r) => r.status?.health);
  return {
    alive: healths.every((h) => h?.alive === true),
    sinceGroupContactMs: Math.max(...healths.map((h) => h?.sinceGroupContactMs ?? Infinity)),
    partitions: healths.flatMap((h) => h?.partitions ?? []).sort((a, b) => a - b),
    stalledPartitions: healths.flatMap((h) => h?.stalledPartitions ?? []).sort((a, b) => a - b),
    threads: reports.map((r) => ({ thread: r.thread, partitions: r.status?.health.partitions ?? [], ready: r.status?.ready ?? false, healthy: (r.status?.healthy ?? false) && r.fresh })),
  };
}

export interface StreamThreadsHealth extends ProcessorHealth {
  readonly threads: readonly { readonly thread: number; readonly partitions: readonly number[]; readonly ready: boolean; readonly healthy: boolean }[];
}

export interface StreamThreads {
  ready(): boolean;
  healthy(): boolean;
  health(): StreamThreadsHealth;
  readonly metrics: MetricsSource;
  stop(): Promise<void>;
}

/**
 * How one metric of the threads is combined. Each thread's registry reports the whole process's
 * CPU, memory and file descriptors (process.* is per process): those are taken once. Restore
 * progress is the least advanced thread's. Everything else keeps prom-client's own choice (sum
 * for counters and per-isolate heap figures).
 */
export function threadAggregator(name: string, own: string | undefined): string | undefined {
  if (name.includes('_process_')) return 'first';
  if (name === 'presence_processor_restore_progress_ratio') return 'min';
  return own;
}

/** The metrics of all threads as one registry. */
export function aggregateThreadMetrics(perThread: readonly MetricObjectWithValues<MetricValue<string>>[][]): Registry {
  const adjusted = perThread.map((metrics) => metrics.map((m) => ({ ...m, aggregator: threadAggregator(m.name, m.aggregator) })));
  return AggregatorRegistry.aggregate(adjusted);
}

interface ThreadState {
  readonly thread: number;
  readonly worker: Worker;
  assignment: readonly number[] | null;
  status: ThreadStatus | null;
  statusAt: number;
}

/**
 * The worker entry next to this file: .js in dist; .ts when the processor runs from source under
 * tsx, whose loader registered with --import does not reach workers: they load tsx's require hook.
 * From dist the workers inherit the process's options (undefined): an explicit list may not hold V8
 * flags (node refuses --trace-gc or --max-old-space-size there), which apply to every isolate anyway.
 */
const THREAD_ENTRY = join(__dirname, `stream-thread${extname(__filename)}`);
const THREAD_EXEC_ARGV = extname(__filename) === '.ts' ? [...withoutImports(process.execArgv), '--require', 'tsx/cjs'] : undefined;

/**
 * Default of PROCESSOR_YOUNG_GENERATION_MB: 0, V8's own (16 MiB semi-spaces). 192 (64 MiB
 * semi-spaces) gave 0-15 % less CPU per event in a catch-up in alternated runs, and kept ~600 B per
 * user more resident once settled (README, sessions 19 and 20): an operator's trade.
 */
export const DEFAULT_YOUNG_GENERATION_MB = 0;

/** execArgv without `--import x` / `--import=x` (with one, node loads a worker's entry as ESM, which knows no .ts). */
function withoutImports(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--import') i++;
    else if (!argv[i]?.startsWith('--import=')) out.push(argv[i] as string);
  }
  return out;
}

export async function startStreamThreads(o: { threads: number; log: Logger; onFatal: (why: string) => void; youngGenerationMb?: number }): Promise<StreamThreads> {
  const { log } = o;
  let stopping = false;
  let nextId = 0;
  const pendingMetrics = new Map<number, (m: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  const states: ThreadState[] = [];
  // One thread joins at a time (thread i once thread i-1 has its first assignment): joins that
  // reach the coordinator together have stalled a start for a whole session timeout here. No
  // thread restores until the assignments are settled (ProcessorOptions.restoreGate).
  let restoring = false;
  const joinNext = (after: number) => states.find((s) => s.thread === after + 1)?.worker.postMessage({ type: 'join' } satisfies ToThread);
  const young = o.youngGenerationMb ?? DEFAULT_YOUNG_GENERATION_MB;
  const resourceLimits = young > 0 ? { maxYoungGenerationSizeMb: young } : undefined;
  const started = Array.from({ length: o.threads }, (_, thread) => new Promise<void>((resolve, reject) => {
    const worker = new Worker(THREAD_ENTRY, { workerData: { thread }, execArgv: THREAD_EXEC_ARGV, resourceLimits });
    const state: ThreadState = { thread, worker, assignment: null, status: null, statusAt: Date.now() };
    states.push(state);
    let up = false;
    worker.on('message', (m: FromThread) => {
      if (m.type === 'joining') {
        if (thread === 0) worker.postMessage({ type: 'join' } satisfies ToThread);
      } else if (m.type === 'assigned') {
        const first = state.assignment === null;
        state.assignment = m.partitions;
        if (first) joinNext(thread);
        if (!restoring && assignmentsSettled(states.map((s) => s.assignment))) {
          restoring = true;
          log.info({ threads: states.map((s) => ({ thread: s.thread, partitions: s.assignment })) }, 'stream threads joined: restoring');
          for (const s of states) s.worker.postMessage({ type: 'restore' } satisfies ToThread);
        }
      } else if (m.type === 'started') {
        up = true;
        resolve();
      } else if (m.type === 'failed') {
        reject(new Error(`stream thread ${thread} failed to start: ${m.error}`));
      } else if (m.type === 'status') {
        state.status = m;
        state.statusAt = Date.now();
      } else if (m.type === 'metrics') {
        pendingMetrics.get(m.id)?.(m.metrics);
        pendingMetrics.delete(m.id);
      } else if (m.type === 'fatal') {
        log.fatal({ thread, err: m.error }, 'a stream thread\'s consumer stopped for good');
        o.onFatal(`stream thread ${thread}: ${m.error}`);
      }
    });
    worker.on('error', (e) => {
      log.fatal({ thread, err: String(e) }, 'a stream thread threw');
      if (up) o.onFatal(`stream thread ${thread} threw: ${String(e)}`);
      else reject(e);
    });
    worker.on('exit', (code) => {
      if (stopping) return;
      if (!up) reject(new Error(`stream thread ${thread} exited with ${code} before it started`));
      else o.onFatal(`stream thread ${thread} exited with ${code}`);
    });
  }));
  try {
    await Promise.all(started);
  } catch (e) {
    stopping = true;
    await Promise.all(states.map((s) => s.worker.terminate()));
    throw e;
  }

  const fresh = (s: ThreadState) => Date.now() - s.statusAt < STATUS_STALE_MS;
  const reports = () => states.map((s) => ({ thread: s.thread, status: s.status, fresh: fresh(s) }));
  const askMetrics = (s: ThreadState) => new Promise<MetricObjectWithValues<MetricValue<string>>[]>((resolve) => {
    const id = nextId++;
    pendingMetrics.set(id, resolve);
    s.worker.postMessage({ type: 'metrics', id } satisfies ToThread);
  });
  return {
    ready: () => states.every((s) => s.status?.ready === true),
    healthy: () => combineHealth(reports()).threads.every((t) => t.healthy),
    health: () => combineHealth(reports()),
    metrics: {
      contentType: Registry.PROMETHEUS_CONTENT_TYPE,
      metrics: async () => aggregateThreadMetrics(await Promise.all(states.map(askMetrics))).metrics(),
    } as MetricsSource,
    async stop() {
      stopping = true;
      const errors = await Promise.all(states.map((s) => new Promise<string | undefined>((resolve) => {
        s.worker.once('exit', () => resolve(undefined));
        s.worker.on('message', (m: FromThread) => {
          if (m.type === 'stopped') void s.worker.terminate().then(() => resolve(m.error));
        });
        s.worker.postMessage({ type: 'stop' } satisfies ToThread);
      })));
      const failed = errors.filter((e): e is string => e !== undefined);
      if (failed.length > 0) throw new Error(`stream threads stopped uncleanly: ${failed.join('; ')}`);
    },
  };
}
