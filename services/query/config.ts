/** The query service's configuration (documented in services/query/README.md). */
import { z } from 'zod';
import type { ChannelClasses, PresenceConfig } from '../core';
import { authEnv } from '../platform/auth';
import { channelClassesEnv, channelClassesFromEnv, envFlag, kafkaEnv, parseEnv, presenceConfigFromEnv, presenceEnv } from '../platform/config';

const queryEnv = kafkaEnv.merge(presenceEnv).merge(authEnv).merge(channelClassesEnv).extend({
  QUERY_HOST: z.string().min(1).default('127.0.0.1'),
  QUERY_PORT: z.coerce.number().int().min(0).max(65535).default(9302),
  /** Most user ids in one POST /v1/presence:batchGet or one SSE stream. */
  QUERY_BATCH_LIMIT: z.coerce.number().int().min(1).max(10_000).default(1_000),
  /** SSE keep-alive comment interval. */
  QUERY_SSE_KEEPALIVE_MS: z.coerce.number().int().min(1_000).max(120_000).default(15_000),
  /** Comma-separated callers (JWT sub) allowed to use /v1/gate; empty: any authenticated caller. */
  QUERY_GATE_CALLERS: z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
  /**
   * Comma-separated callers (JWT sub) allowed to read raw snapshots (POST /v1/snapshots:batchGet),
   * i.e. gateways serving their sockets' subscriptions; empty (the default): nobody.
   */
  QUERY_SNAPSHOT_CALLERS: z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
  /** Join the contacts validator group, the one writer of contact events' dead letters (default on; 0 for a read-only replica). */
  QUERY_CONTACTS_VALIDATOR: envFlag(true),
  /** Serve the demo page at / (the demo sets it). */
  QUERY_DEMO_PAGE: envFlag(false),
  /** The users and rooms ("kind/id") the demo page shows, comma-separated. */
  QUERY_DEMO_USERS: z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
  QUERY_DEMO_ROOMS: z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
  /** Where the demo page's own browser client connects (the gateway's WebSocket URL), if anywhere. */
  QUERY_DEMO_GATEWAY_URL: z.string().default(''),
  /** A token the demo page uses for its reads and its own gateway session (the demo mints it). */
  QUERY_DEMO_TOKEN: z.string().default(''),
  /** The demo token's user (its sub), shown on the page as "You". */
  QUERY_DEMO_VIEWER: z.string().default(''),
  /** A contacts-only user the page shows as seen by the viewer (a contact) and by QUERY_DEMO_STRANGER (not one). */
  QUERY_DEMO_CONTACTS_USER: z.string().default(''),
  QUERY_DEMO_STRANGER: z.string().default(''),
  /** The stranger's token (the demo mints it). */
  QUERY_DEMO_STRANGER_TOKEN: z.string().default(''),
});
export type QueryEnv = z.infer<typeof queryEnv>;

export interface QueryConfig {
  readonly env: QueryEnv;
  readonly presence: PresenceConfig;
  readonly classes: ChannelClasses;
}

export function loadQueryConfig(env: NodeJS.ProcessEnv = process.env): QueryConfig {
  const parsed = parseEnv(queryEnv, env);
  return { env: parsed, presence: presenceConfigFromEnv(parsed), classes: channelClassesFromEnv(parsed.GATE_CHANNEL_CLASSES) };
}
