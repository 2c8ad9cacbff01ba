/** The gateway's configuration (documented in services/gateway/README.md). */
import { hostname } from 'node:os';
import { z } from 'zod';
import type { PresenceConfig } from '../core';
import { authEnv } from '../platform/auth';
import { ConfigError, kafkaEnv, parseEnv, presenceConfigFromEnv, presenceEnv } from '../platform/config';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const gatewayEnv = kafkaEnv.merge(presenceEnv).merge(authEnv).extend({
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: int(0, 65535, 9304),
  /** Stamped on every heartbeat for tracing; default: the host name. */
  GATEWAY_ID: z.string().min(1).max(128).optional(),
  /** Heartbeats of one session within this window go out as one (0: no coalescing). */
  GATEWAY_COALESCE_MS: int(0, 60_000, 1_000),
  /** How long a socket that died without a close handshake may come back before its session ends. */
  GATEWAY_RECONNECT_GRACE_MS: int(0, 600_000, 5_000),
  /** Largest WebSocket frame or HTTP body; a larger frame closes the socket (1009), a larger body is a 413. */
  GATEWAY_MAX_FRAME_BYTES: int(256, 1_048_576, 8_192),
  /** Sockets are pinged this often; one that has not answered the previous ping is dropped. */
  GATEWAY_PING_INTERVAL_MS: int(1_000, 600_000, 20_000),
  GATEWAY_MAX_ROOMS_PER_SESSION: int(1, 10_000, 50),
  /** Bound on each publish to Kafka; past it the client gets a retriable error. */
  GATEWAY_PUBLISH_TIMEOUT_MS: int(100, 120_000, 5_000),
  /** Commands other than heartbeats and disconnects, per user: sustained rate and burst. */
  GATEWAY_COMMANDS_PER_SECOND: int(1, 10_000, 5),
  GATEWAY_COMMAND_BURST: int(1, 100_000, 20),
  /** How long publishes are collected into one produce request. */
  GATEWAY_LINGER_MS: int(0, 1_000, 5),
  /**
   * The gateway's lease on presence.gateway-lease.v1, renewed every third of it: if the gateway
   * dies, the processor ends its sessions this long after the last renewal. 0: no lease.
   */
  GATEWAY_LEASE_MS: int(0, 600_000, 10_000),
  /**
   * Presence subscriptions over the socket: the query service holding the current snapshots (its
   * base URL) and a token whose subject it lists in QUERY_SNAPSHOT_CALLERS. Empty: subscribe frames
   * are refused.
   */
  GATEWAY_QUERY_URL: z.string().default(''),
  GATEWAY_QUERY_TOKEN: z.string().default(''),
  /** Users one socket may follow at once. */
  GATEWAY_MAX_SUBSCRIPTIONS: int(1, 10_000, 200),
});
export type GatewayEnv = z.infer<typeof gatewayEnv>;

export interface GatewayConfig {
  readonly env: GatewayEnv;
  readonly presence: PresenceConfig;
  readonly gatewayId: string;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = parseEnv(gatewayEnv, env);
  const presence = presenceConfigFromEnv(parsed);
  const issues: string[] = [];
  // A window as long as the beat would hold back regular heartbeats; a grace as long as the
  // offline threshold would let a dead socket look alive to readers.
  if (parsed.GATEWAY_COALESCE_MS >= presence.heartbeatIntervalMs) {
    issues.push(`GATEWAY_COALESCE_MS: must be less than the heartbeat interval (${presence.heartbeatIntervalMs} ms)`);
  }
  if (parsed.GATEWAY_RECONNECT_GRACE_MS >= presence.offlineAfterMs) {
    issues.push(`GATEWAY_RECONNECT_GRACE_MS: must be less than the offline threshold (${presence.offlineAfterMs} ms)`);
  }
  // Renewed every third: shorter than a second is churn; as long as the offline threshold gains nothing.
  if (parsed.GATEWAY_LEASE_MS !== 0 && (parsed.GATEWAY_LEASE_MS < 1_000 || parsed.GATEWAY_LEASE_MS >= presence.offlineAfterMs)) {
    issues.push(`GATEWAY_LEASE_MS: must be 0 (no lease) or at least 1000 and less than the offline threshold (${presence.offlineAfterMs} ms)`);
  }
  if (parsed.GATEWAY_QUERY_URL !== '' && parsed.GATEWAY_QUERY_TOKEN === '') {
    issues.push('GATEWAY_QUERY_TOKEN: required with GATEWAY_QUERY_URL (a token whose subject the query service lists in QUERY_SNAPSHOT_CALLERS)');
  }
  if (issues.length) throw new ConfigError(issues);
  return { env: parsed, presence, gatewayId: parsed.GATEWAY_ID ?? hostname() };
}
