/** Gateway entry point: reads config and wires the publisher, sessions, HTTP and WebSocket endpoints. */
import { AvroSerde, createRegistry } from '../contract/serde';
import { createAuthenticator } from '../platform/auth';
import { createKafka } from '../platform/kafka';
import { exitOnStartFailure, stopOnSignals } from '../platform/lifecycle';
import { createLogger } from '../platform/log';
import { loadGatewayConfig } from './config';
import { startGateway } from './service';

async function main(): Promise<void> {
  const { env, presence, gatewayId } = loadGatewayConfig();
  const log = createLogger('gateway', env.LOG_LEVEL);
  const auth = createAuthenticator(env);
  if (auth.mode === 'insecure-dev') log.warn('AUTH_INSECURE_DEV: token signatures are NOT checked; never use this in production');
  const gateway = await startGateway({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, log }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    prefix: env.TOPIC_PREFIX, cfg: presence, auth, log, host: env.GATEWAY_HOST, port: env.GATEWAY_PORT, gatewayId,
    coalesceWindowMs: env.GATEWAY_COALESCE_MS, reconnectGraceMs: env.GATEWAY_RECONNECT_GRACE_MS, maxFrameBytes: env.GATEWAY_MAX_FRAME_BYTES,
    pingIntervalMs: env.GATEWAY_PING_INTERVAL_MS, maxRoomsPerSession: env.GATEWAY_MAX_ROOMS_PER_SESSION,
    publishTimeoutMs: env.GATEWAY_PUBLISH_TIMEOUT_MS, lingerMs: env.GATEWAY_LINGER_MS, leaseMs: env.GATEWAY_LEASE_MS,
    commandRateLimit: { perSecond: env.GATEWAY_COMMANDS_PER_SECOND, burst: env.GATEWAY_COMMAND_BURST },
    ...(env.GATEWAY_QUERY_URL === '' ? {} : { subscriptions: { queryUrl: env.GATEWAY_QUERY_URL, queryToken: env.GATEWAY_QUERY_TOKEN, maxPerSocket: env.GATEWAY_MAX_SUBSCRIPTIONS } }),
  });
  log.info({ url: gateway.url, ws: gateway.wsUrl, gatewayId, leaseMs: env.GATEWAY_LEASE_MS, auth: auth.mode }, 'gateway listening');
  stopOnSignals(log, 'ending every socket session (rooms left, disconnects published), then closing', () => gateway.stop());
}

main().catch(exitOnStartFailure);
