/**
 * One stream thread (a worker of stream-threads.ts): a whole processor instance in this thread,
 * reporting its status, answering for its metrics and stopping when the main thread asks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../platform/log';
import { loadProcessorConfig } from './config';
import { startProcessorInstance } from './instance';
import { STATUS_INTERVAL_MS, THREAD_HEARTBEAT_INTERVAL_MS, type FromThread, type ToThread } from './stream-threads';

if (!parentPort) throw new Error('stream-thread.ts runs as a worker thread of the processor (PROCESSOR_STREAM_THREADS)');
const port = parentPort;
const post = (m: FromThread) => port.postMessage(m);
const { thread } = workerData as { thread: number };

async function run(): Promise<void> {
  const { env, presence } = loadProcessorConfig();
  const log = createLogger('processor', env.LOG_LEVEL).child({ thread });
  const joined = new Promise<void>((resolve) => port.on('message', (m: ToThread) => m.type === 'join' && resolve()));
  const restoreGate = new Promise<void>((resolve) => port.on('message', (m: ToThread) => m.type === 'restore' && resolve()));
  const beforeJoin = () => {
    post({ type: 'joining' });
    return joined;
  };
  const { processor, metrics } = await startProcessorInstance({
    env, presence, log, thread,
    hooks: { beforeJoin, restoreGate, heartbeatIntervalMs: THREAD_HEARTBEAT_INTERVAL_MS, onAssignment: (partitions) => post({ type: 'assigned', partitions }) },
    onFatal: (e) => post({ type: 'fatal', error: String(e) }),
  });
  const report = () => post({ type: 'status', ready: processor.ready(), healthy: processor.healthy(), health: processor.health() });
  report();
  const reporting = setInterval(report, STATUS_INTERVAL_MS);
  port.on('message', (m: ToThread) => {
    if (m.type === 'metrics') {
      void metrics.registry.getMetricsAsJSON().then((json) => post({ type: 'metrics', id: m.id, metrics: json }));
    } else if (m.type === 'stop') {
      clearInterval(reporting);
      processor.stop().then(() => post({ type: 'stopped' }), (e: unknown) => post({ type: 'stopped', error: String(e) }));
    }
  });
  post({ type: 'started' });
}

run().catch((e: unknown) => post({ type: 'failed', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
