/**
 * `presence`, the command line (bin of the package; `npx presence …` from a clone): parses the
 * arguments, reads the services' environment, wires the clients and runs one command. Exit codes:
 * 0 done, 2 a bad argument (named), 1 a bad variable or a service that cannot be reached or refused,
 * 130 interrupted before a command that does not follow finished.
 */
import { ConfigError } from '../platform/config';
import { parseCommand, usage } from './args';
import { runCommand } from './commands/run';
import { loadCliConfig, queryToken } from './config';
import { Connections } from './connections';
import { CliError } from './errors';
import { Output, processSink } from './output';
import { HistoryClient } from './history-client';
import { QueryClient } from './query-client';

async function main(argv: readonly string[]): Promise<number> {
  const cmd = parseCommand(argv);
  if (cmd.name === 'help') {
    process.stdout.write(`${usage(cmd.topic)}\n`);
    return 0;
  }
  const { env, presence } = loadCliConfig();
  let token: Promise<string> | null = null;
  let query: QueryClient | null = null;
  let history: HistoryClient | null = null;
  let connections: Connections | null = null;
  const interrupted = new Promise<void>((resolve) => {
    const onSignal = () => {
      resolve();
      // A command that follows a topic stops by itself; anything else is cut short.
      if (!(cmd.name === 'tail' || (cmd.name === 'dlq' && cmd.follow))) process.exit(130);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await runCommand(cmd, {
    out: new Output(processSink, cmd.json),
    clock: Date.now,
    env,
    presence,
    query: () => (query ??= new QueryClient({ baseUrl: env.QUERY_URL, timeoutMs: env.CLI_TIMEOUT_MS, token: () => (token ??= queryToken(env)) })),
    history: () => (history ??= new HistoryClient({ baseUrl: env.HISTORY_URL, timeoutMs: env.CLI_TIMEOUT_MS, token: () => (token ??= queryToken(env)) })),
    connections: () => (connections ??= new Connections(env)),
    interrupted,
  });
  return 0;
}

function exitCodeOf(e: unknown): number {
  if (e instanceof CliError) {
    process.stderr.write(`presence: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`presence: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`presence: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}

// Exits explicitly: kafkajs may keep timers alive after its clients disconnected.
main(process.argv.slice(2)).catch(exitCodeOf).then((code) => process.stdout.write('', () => process.exit(code)));
