/** The processor's configuration: shared Kafka settings, its own, and the presence thresholds. */
import { z } from 'zod';
import { validateConfig, formatConfigIssues, type PresenceConfig } from '../core';
import { ConfigError, kafkaEnv, parseEnv } from '../platform/config';

const processorEnv = kafkaEnv.extend({
  /** Where the LevelDB store lives. */
  PROCESSOR_DATA_DIR: z.string().min(1).default('.infra/processor'),
  PROCESSOR_GROUP_ID: z.string().min(1).default('presence-processor'),
  /** at-least-once (default) or exactly-once (Kafka transactions, one transactional id per partition). */
  PROCESSOR_GUARANTEE: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
  PROCESSOR_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9301),
  /** How long a crashed member keeps its partitions before the group moves them (broker minimum 6 s). */
  PROCESSOR_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  PROCESSOR_TIMER_RESOLUTION_MS: z.coerce.number().int().min(10).max(5_000).default(100),
  PRESENCE_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().optional(),
  PRESENCE_OFFLINE_AFTER_MS: z.coerce.number().int().optional(),
  PRESENCE_AWAY_AFTER_MS: z.coerce.number().int().optional(),
  PRESENCE_ROOM_MEMBER_EXPIRY_MS: z.coerce.number().int().optional(),
  PRESENCE_REFRESH_LEAD_MS: z.coerce.number().int().optional(),
  PRESENCE_SESSION_RETENTION_MS: z.coerce.number().int().optional(),
});
export type ProcessorEnv = z.infer<typeof processorEnv>;

export function loadProcessorConfig(env: NodeJS.ProcessEnv = process.env): { env: ProcessorEnv; presence: PresenceConfig } {
  const parsed = parseEnv(processorEnv, env);
  return { env: parsed, presence: presenceConfigFromEnv(parsed) };
}

/** Thresholds from PRESENCE_* variables over the core's defaults, validated by the core. */
export function presenceConfigFromEnv(e: Partial<Record<string, unknown>>): PresenceConfig {
  const overrides = Object.fromEntries(
    Object.entries({
      heartbeatIntervalMs: e['PRESENCE_HEARTBEAT_INTERVAL_MS'],
      offlineAfterMs: e['PRESENCE_OFFLINE_AFTER_MS'],
      awayAfterMs: e['PRESENCE_AWAY_AFTER_MS'],
      roomMemberExpiryMs: e['PRESENCE_ROOM_MEMBER_EXPIRY_MS'],
      refreshLeadMs: e['PRESENCE_REFRESH_LEAD_MS'],
      sessionRetentionMs: e['PRESENCE_SESSION_RETENTION_MS'],
    }).filter(([, v]) => v !== undefined),
  );
  const result = validateConfig(overrides);
  if (!result.ok) throw new ConfigError([formatConfigIssues(result.issues)]);
  return result.config;
}
