/** What every command is handed by main.ts: output, clock, config and the clients, made on first use. */
import type { PresenceConfig } from '../../core';
import type { CliEnv } from '../config';
import type { Connections } from '../connections';
import type { Output } from '../output';
import type { HistoryClient } from '../history-client';
import type { QueryClient } from '../query-client';

export interface CommandContext {
  readonly out: Output;
  readonly clock: () => number;
  readonly env: CliEnv;
  readonly presence: PresenceConfig;
  readonly query: () => QueryClient;
  readonly history: () => HistoryClient;
  readonly connections: () => Connections;
  /** Resolves on Ctrl-C / SIGTERM: a following command (tail, dlq --follow) stops and exits 0. */
  readonly interrupted: Promise<void>;
}
