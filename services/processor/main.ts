/**
 * Processor entry point: reads config, runs one processor instance (instance.ts) or several stream
 * threads (stream-threads.ts), serves their health and metrics, and handles signals.
 */
import { startOpsServer } from '../platform/http';
import { exitOnStartFailure, stopOnSignals } from '../platform/lifecycle';
import { createLogger } from '../platform/log';
import { loadProcessorConfig } from './config';
import { startProcessorInstance } from './instance';
import { missingMallocEnv, PROCESSOR_MALLOC_ENV } from './malloc-env';
import { startStreamThreads } from './stream-threads';

async function main(): Promise<void> {
  const { env, presence } = loadProcessorConfig();
  const log = createLogger('processor', env.LOG_LEVEL);
  const unsetMalloc = missingMallocEnv();
  if (unsetMalloc.length) log.warn({ unset: unsetMalloc, recommended: PROCESSOR_MALLOC_ENV }, 'started without the recommended malloc settings: the memory of a catch-up stays resident (see malloc-env.ts)');
  // A consumer that crashed for good cannot make progress: exit so a supervisor restarts us.
  const onFatal = () => {
    log.fatal({}, 'exiting: the consumer stopped for good');
    process.exit(70);
  };
  const running = env.PROCESSOR_STREAM_THREADS === 1
    ? await startProcessorInstance({ env, presence, log, thread: 0, onFatal }).then(({ processor, metrics }) => ({
      ready: processor.ready, healthy: processor.healthy, health: processor.health, metrics: metrics.registry, stop: processor.stop,
    }))
    : await startStreamThreads({ threads: env.PROCESSOR_STREAM_THREADS, log, onFatal, youngGenerationMb: env.PROCESSOR_YOUNG_GENERATION_MB });
  const http = await startOpsServer({ port: env.PROCESSOR_HTTP_PORT, registry: running.metrics, ready: running.ready, healthy: running.healthy, health: running.health });
  log.info({ guarantee: env.PROCESSOR_GUARANTEE, port: env.PROCESSOR_HTTP_PORT, streamThreads: env.PROCESSOR_STREAM_THREADS, presence }, 'processor started');

  stopOnSignals(log, 'finishing the batch, committing, closing the store', async () => {
    http.close();
    await running.stop();
  });
}

main().catch(exitOnStartFailure);
