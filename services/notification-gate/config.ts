/** The notification gate's configuration (documented in services/notification-gate/README.md). */
import { z } from 'zod';
import type { ChannelClasses, PresenceConfig } from '../core';
import { channelClassesEnv, channelClassesFromEnv, kafkaEnv, parseEnv, presenceConfigFromEnv, presenceEnv } from '../platform/config';

const gateEnv = kafkaEnv.merge(presenceEnv).merge(channelClassesEnv).extend({
  /** Consumer group of notification.request.v1 (the snapshot replica uses its own throwaway group). */
  GATE_GROUP_ID: z.string().min(1).default('presence-notification-gate'),
  /** /healthz, /readyz and /metrics. */
  GATE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9303),
  /** How long a crashed member keeps its partitions before the group moves them (broker minimum 6 s). */
  GATE_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
});
export type GateEnv = z.infer<typeof gateEnv>;

export interface GateConfig {
  readonly env: GateEnv;
  /** Thresholds for recomputing status from snapshots: must equal the processor's. */
  readonly presence: PresenceConfig;
  readonly classes: ChannelClasses;
}

/** Parses and validates everything, throwing a ConfigError that names every bad variable. */
export function loadGateConfig(env: NodeJS.ProcessEnv = process.env): GateConfig {
  const parsed = parseEnv(gateEnv, env);
  return { env: parsed, presence: presenceConfigFromEnv(parsed), classes: channelClassesFromEnv(parsed.GATE_CHANNEL_CLASSES) };
}
