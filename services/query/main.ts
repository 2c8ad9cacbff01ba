/** Query service entry point: reads config and wires the replica, SSE streams and HTTP API. */
import { AvroSerde, createRegistry } from '../contract/serde';
import { createAuthenticator } from '../platform/auth';
import { createKafka } from '../platform/kafka';
import { exitOnStartFailure, stopOnSignals } from '../platform/lifecycle';
import { createLogger } from '../platform/log';
import { loadQueryConfig } from './config';
import { startQueryService } from './service';

async function main(): Promise<void> {
  const { env, presence, classes } = loadQueryConfig();
  const log = createLogger('query', env.LOG_LEVEL);
  const auth = createAuthenticator(env);
  if (auth.mode === 'insecure-dev') log.warn('AUTH_INSECURE_DEV: token signatures are NOT checked; never use this in production');
  const service = await startQueryService({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, log }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    prefix: env.TOPIC_PREFIX, groupIdBase: `${env.KAFKA_CLIENT_ID}-query`, cfg: presence, classes, auth, log,
    host: env.QUERY_HOST, port: env.QUERY_PORT, batchLimit: env.QUERY_BATCH_LIMIT, gateCallers: env.QUERY_GATE_CALLERS, snapshotCallers: env.QUERY_SNAPSHOT_CALLERS,
    keepAliveMs: env.QUERY_SSE_KEEPALIVE_MS, validateContacts: env.QUERY_CONTACTS_VALIDATOR,
    demoPage: env.QUERY_DEMO_PAGE
      ? {
        users: env.QUERY_DEMO_USERS, rooms: env.QUERY_DEMO_ROOMS, gatewayUrl: env.QUERY_DEMO_GATEWAY_URL || null, token: env.QUERY_DEMO_TOKEN || null, viewer: env.QUERY_DEMO_VIEWER || null,
        contacts: env.QUERY_DEMO_CONTACTS_USER && env.QUERY_DEMO_STRANGER_TOKEN
          ? { user: env.QUERY_DEMO_CONTACTS_USER, stranger: env.QUERY_DEMO_STRANGER, strangerToken: env.QUERY_DEMO_STRANGER_TOKEN }
          : null,
      }
      : null,
  });
  log.info({ url: service.url, auth: auth.mode }, 'query service listening; /readyz answers 503 until the replica caught up');

  stopOnSignals(log, 'closing streams and connections, leaving the replica group', () => service.stop());
  await service.startReplica();
  log.info({ users: service.replica.users.size, rooms: service.replica.rooms.size }, 'ready');
}

main().catch(exitOnStartFailure);
