/**
 * Environment configuration shared by every service, validated with zod so a bad value fails at
 * start with the variable's name. Each service extends `kafkaEnv` with its own fields.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CHANNEL_CLASSES, formatConfigIssues, validateChannelClasses, validateConfig, type ChannelClasses, type PresenceConfig } from '../core';
import { infraDir } from './paths';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
  }
}

/** A yes/no variable: 1 or true, 0 or false; unset or empty gives the default. */
export function envFlag(defaultValue: boolean) {
  return z.enum(['', '0', '1', 'false', 'true']).default('').transform((v) => (v === '' ? defaultValue : v === '1' || v === 'true'));
}

const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/** Connection settings (documented in README, "Configuration"). */
export const kafkaEnv = z.object({
  KAFKA_BROKERS: csv.default('127.0.0.1:9092').pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'host:port')).min(1)),
  KAFKA_CLIENT_ID: z.string().min(1).default('presence'),
  SCHEMA_REGISTRY_URL: z.string().url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ -').default(''),
  TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(10).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type KafkaEnv = z.infer<typeof kafkaEnv>;

/** The variables `make up` writes to $INFRA_DIR/connection.env about what it started. */
export const CONNECTION_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'TOPIC_REPLICATION_FACTOR'] as const;

/** KEY=VALUE lines of connection.env (blank lines and # comments ignored); only CONNECTION_VARIABLES. */
export function parseConnectionFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=(.*)$/.exec(line);
    if (m && (CONNECTION_VARIABLES as readonly string[]).includes(m[1] as string)) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}

/** `env` over the connection file's text (null: no file): a variable the environment sets wins. */
export function mergeConnection(env: NodeJS.ProcessEnv, text: string | null): NodeJS.ProcessEnv {
  if (text === null) return env;
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(parseConnectionFile(text))) if (merged[k] === undefined || merged[k] === '') merged[k] = v;
  return merged;
}

/** `env` with what `make up` started ($INFRA_DIR/connection.env) under it; without the file, `env` unchanged. */
export function withConnectionFile(env: NodeJS.ProcessEnv, file = join(infraDir(env), 'connection.env')): NodeJS.ProcessEnv {
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no file: nothing was started by make up (or it was stopped); the built-in defaults apply
  }
  return mergeConnection(env, text);
}

/**
 * Parses `env` with `schema`, throwing a ConfigError that names every bad variable. The process's
 * own environment is read over connection.env (what `make up` started); an explicit object is
 * taken as it is (tests).
 */
export function parseEnv<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env === process.env ? withConnectionFile(env) : env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return result.data;
}

/** Presence thresholds over the core's defaults; every service that reads or decides status uses them. */
export const presenceEnv = z.object({
  PRESENCE_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().optional(),
  PRESENCE_OFFLINE_AFTER_MS: z.coerce.number().int().optional(),
  PRESENCE_AWAY_AFTER_MS: z.coerce.number().int().optional(),
  PRESENCE_ROOM_MEMBER_EXPIRY_MS: z.coerce.number().int().optional(),
  PRESENCE_REFRESH_LEAD_MS: z.coerce.number().int().optional(),
  PRESENCE_SESSION_RETENTION_MS: z.coerce.number().int().optional(),
  PRESENCE_WATERMARK_GRACE_MS: z.coerce.number().int().optional(),
  PRESENCE_SNAPSHOT_LEASES: z.enum(['per-user', 'watermark']).optional(),
  /** The adaptive offline rule (core README, "Adaptive offline detection"): 1 turns it on. Default off. */
  PRESENCE_ADAPTIVE_OFFLINE: z.enum(['0', '1', 'false', 'true']).optional(),
  PRESENCE_ADAPTIVE_PHI: z.coerce.number().optional(),
  PRESENCE_ADAPTIVE_MIN_OFFLINE_AFTER_MS: z.coerce.number().int().optional(),
  PRESENCE_ADAPTIVE_MAX_OFFLINE_AFTER_MS: z.coerce.number().int().optional(),
  PRESENCE_ADAPTIVE_MIN_STDDEV_MS: z.coerce.number().int().optional(),
  PRESENCE_ADAPTIVE_HISTORY_SIZE: z.coerce.number().int().optional(),
  PRESENCE_ADAPTIVE_MIN_SAMPLES: z.coerce.number().int().optional(),
});

const definedOnly = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The PRESENCE_ADAPTIVE_* settings as the core's adaptiveOffline overrides; undefined when none is set. */
function adaptiveOfflineFromEnv(e: Partial<Record<string, unknown>>): Record<string, unknown> | undefined {
  const enabled = e['PRESENCE_ADAPTIVE_OFFLINE'];
  const o = definedOnly({
    enabled: enabled === undefined ? undefined : enabled === '1' || enabled === 'true',
    phiThreshold: e['PRESENCE_ADAPTIVE_PHI'],
    minOfflineAfterMs: e['PRESENCE_ADAPTIVE_MIN_OFFLINE_AFTER_MS'],
    maxOfflineAfterMs: e['PRESENCE_ADAPTIVE_MAX_OFFLINE_AFTER_MS'],
    minStdDevMs: e['PRESENCE_ADAPTIVE_MIN_STDDEV_MS'],
    historySize: e['PRESENCE_ADAPTIVE_HISTORY_SIZE'],
    minSamples: e['PRESENCE_ADAPTIVE_MIN_SAMPLES'],
  });
  return Object.keys(o).length === 0 ? undefined : o;
}

/** Thresholds from PRESENCE_* variables over the core's defaults, validated by the core. */
export function presenceConfigFromEnv(e: Partial<Record<string, unknown>>): PresenceConfig {
  const overrides = definedOnly({
    heartbeatIntervalMs: e['PRESENCE_HEARTBEAT_INTERVAL_MS'],
    offlineAfterMs: e['PRESENCE_OFFLINE_AFTER_MS'],
    awayAfterMs: e['PRESENCE_AWAY_AFTER_MS'],
    roomMemberExpiryMs: e['PRESENCE_ROOM_MEMBER_EXPIRY_MS'],
    refreshLeadMs: e['PRESENCE_REFRESH_LEAD_MS'],
    sessionRetentionMs: e['PRESENCE_SESSION_RETENTION_MS'],
    watermarkGraceMs: e['PRESENCE_WATERMARK_GRACE_MS'],
    snapshotLeases: e['PRESENCE_SNAPSHOT_LEASES'],
    adaptiveOffline: adaptiveOfflineFromEnv(e),
  });
  const result = validateConfig(overrides);
  if (!result.ok) throw new ConfigError([formatConfigIssues(result.issues)]);
  return result.config;
}

/** Which notification channels are push (presence-gated) and which store-and-forward. */
export const channelClassesEnv = z.object({
  /** JSON {"push":[...],"storeAndForward":[...]}; empty: the core's default classes. */
  GATE_CHANNEL_CLASSES: z.string().default(''),
});

/** GATE_CHANNEL_CLASSES as JSON, validated by the core; empty means the defaults. */
export function channelClassesFromEnv(raw: string): ChannelClasses {
  if (raw.trim() === '') return DEFAULT_CHANNEL_CLASSES;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError([`GATE_CHANNEL_CLASSES: not JSON (${(e as Error).message})`]);
  }
  const result = validateChannelClasses(json);
  if (!result.ok) throw new ConfigError(result.issues.map((i) => `GATE_CHANNEL_CLASSES.${i.field}: ${i.reason}`));
  return result.classes;
}
