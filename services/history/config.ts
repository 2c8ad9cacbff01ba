/** The history service's configuration (documented in services/history/README.md). */
import { z } from 'zod';
import type { PresenceConfig } from '../core';
import { authEnv } from '../platform/auth';
import { kafkaEnv, parseEnv, presenceConfigFromEnv, presenceEnv } from '../platform/config';

const historyEnv = kafkaEnv.merge(presenceEnv).merge(authEnv).extend({
  HISTORY_HOST: z.string().min(1).default('127.0.0.1'),
  HISTORY_PORT: z.coerce.number().int().min(0).max(65535).default(9305),
  /** The classic-level index; an empty or missing folder is rebuilt from the topics. */
  HISTORY_DATA_DIR: z.string().min(1).default('.infra/history'),
  /** Longest window of one history or totals request, in days. */
  HISTORY_MAX_WINDOW_DAYS: z.coerce.number().int().min(1).max(366).default(31),
});
export type HistoryEnv = z.infer<typeof historyEnv>;

export interface HistoryConfig {
  readonly env: HistoryEnv;
  readonly presence: PresenceConfig;
}

export function loadHistoryConfig(env: NodeJS.ProcessEnv = process.env): HistoryConfig {
  const parsed = parseEnv(historyEnv, env);
  return { env: parsed, presence: presenceConfigFromEnv(parsed) };
}
