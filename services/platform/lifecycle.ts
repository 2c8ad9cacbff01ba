/** Graceful stop on SIGTERM/SIGINT, the same for every service: stop once, exit 0 or 1. */
import type { Logger } from './log';

/** Calls `stop` on the first SIGTERM or SIGINT, then exits; returns whether a stop has begun. */
export function stopOnSignals(log: Logger, what: string, stop: () => Promise<void>): () => boolean {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `stopping: ${what}`);
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: String(e) }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return () => stopping;
}

/** The last resort of a main(): print the error without a stack and exit 1. */
export function exitOnStartFailure(e: unknown): never {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
}
