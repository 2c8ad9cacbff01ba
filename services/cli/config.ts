/**
 * The CLI's configuration: the services' own connection variables (KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL, TOPIC_PREFIX, read over connection.env as every service does), the query
 * service's and the history service's URLs, and how to authenticate to them (one token for both): QUERY_TOKEN as it is, or a token minted for
 * CLI_SUBJECT with AUTH_JWT_SECRET (or, with AUTH_INSECURE_DEV=1, one whose signature the
 * service does not check). Documented in README.md, "CLI".
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { authEnv, mintToken } from '../platform/auth';
import { kafkaEnv, parseEnv, presenceConfigFromEnv, presenceEnv } from '../platform/config';
import type { PresenceConfig } from '../core';
import { CliError } from './errors';

const cliEnv = kafkaEnv.merge(presenceEnv).merge(authEnv.pick({ AUTH_JWT_SECRET: true, AUTH_INSECURE_DEV: true })).extend({
  /** The query service's base URL. */
  QUERY_URL: z.string().url().default('http://127.0.0.1:9302').transform((u) => u.replace(/\/+$/, '')),
  /** The history service's base URL (its default port, HISTORY_PORT 9305). */
  HISTORY_URL: z.string().url().default('http://127.0.0.1:9305').transform((u) => u.replace(/\/+$/, '')),
  /** A bearer token for the query service (and the history service); wins over minting one. */
  QUERY_TOKEN: z.string().min(1).optional(),
  /** The `sub` of a minted token: who the query service thinks is asking (list it in QUERY_GATE_CALLERS for the gate). */
  CLI_SUBJECT: z.string().min(1).max(256).default('presence-cli'),
  /** Bound on reaching Kafka, the registry and the query service, and on each request. */
  CLI_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  LOG_LEVEL: kafkaEnv.shape.LOG_LEVEL.removeDefault().default('silent'),
});
export type CliEnv = z.infer<typeof cliEnv>;

export interface CliConfig {
  readonly env: CliEnv;
  readonly presence: PresenceConfig;
}

/** Parses the environment; a bad variable is a ConfigError naming it (exit 1). */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const parsed = parseEnv(cliEnv, env);
  return { env: parsed, presence: presenceConfigFromEnv(parsed) };
}

/** The bearer token for the query service, by the rule in the header; asked only by commands that need it. */
export async function queryToken(env: CliEnv): Promise<string> {
  if (env.QUERY_TOKEN) return env.QUERY_TOKEN;
  if (env.AUTH_JWT_SECRET) return mintToken(env.AUTH_JWT_SECRET, env.CLI_SUBJECT, 3_600);
  // The service decodes but does not verify in this mode: any signature does.
  if (env.AUTH_INSECURE_DEV) return mintToken(randomBytes(32).toString('hex'), env.CLI_SUBJECT, 3_600);
  throw new CliError('CONFIG', 'QUERY_TOKEN: required to ask the query service (or AUTH_JWT_SECRET to mint one for CLI_SUBJECT, or AUTH_INSECURE_DEV=1 against a development service)', 1);
}
