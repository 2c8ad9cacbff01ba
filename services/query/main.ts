/** Query service entry point: reads config, wires the replica, the SSE streams and the HTTP API. */
import { createServer } from 'node:http';
import { AvroSerde, createRegistry } from '../contract/serde';
import { createAuthenticator } from '../platform/auth';
import { createKafka } from '../platform/kafka';
import { createLogger } from '../platform/log';
import { SnapshotReplica } from '../platform/snapshot-replica';
import { createQueryApp } from './app';
import { loadQueryConfig } from './config';
import { createQueryMetrics } from './metrics';
import { PresenceStreams } from './presence-streams';

async function main(): Promise<void> {
  const { env, presence, classes } = loadQueryConfig();
  const log = createLogger('query', env.LOG_LEVEL);
  const auth = createAuthenticator(env);
  if (auth.mode === 'insecure-dev') log.warn('AUTH_INSECURE_DEV: token signatures are NOT checked; never use this in production');
  const clock = () => Date.now();
  let streams: PresenceStreams | null = null;
  const replica = new SnapshotReplica({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, log }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    prefix: env.TOPIC_PREFIX, rooms: true, log, groupIdBase: `${env.KAFKA_CLIENT_ID}-query`,
    onUpdate: (u) => { if (u.kind === 'user') streams?.updated(u.key); },
    onUndecodable: () => metrics.undecodable.inc(),
  });
  streams = new PresenceStreams({ users: replica.users, cfg: presence, clock });
  const metrics = createQueryMetrics({
    lag: () => replica.lag(), ready: () => replica.ready(), streams: () => streams?.size ?? 0,
    users: () => replica.users.size, rooms: () => replica.rooms.size,
  });
  const demoPage = env.QUERY_DEMO_PAGE
    ? { users: env.QUERY_DEMO_USERS, rooms: env.QUERY_DEMO_ROOMS, gatewayUrl: env.QUERY_DEMO_GATEWAY_URL || null }
    : null;
  const app = createQueryApp({
    users: replica.users, rooms: replica.rooms, ready: () => replica.ready(), streams, auth, cfg: presence, classes,
    batchLimit: env.QUERY_BATCH_LIMIT, gateCallers: env.QUERY_GATE_CALLERS, keepAliveMs: env.QUERY_SSE_KEEPALIVE_MS,
    clock, metrics, log, demoPage,
  });
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.QUERY_PORT, env.QUERY_HOST, resolve);
  });
  log.info({ host: env.QUERY_HOST, port: env.QUERY_PORT, auth: auth.mode }, 'query service listening; /readyz answers 503 until the replica caught up');
  await replica.start();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    streams?.close();
    server.closeAllConnections();
    server.close();
    replica.stop().then(() => process.exit(0), (e: unknown) => { log.error({ err: String(e) }, 'unclean stop'); process.exit(1); });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
