/** History service entry point: reads config and wires the index, its indexer and the HTTP API. */
import { AvroSerde, createRegistry } from '../contract/serde';
import { createAuthenticator } from '../platform/auth';
import { createKafka } from '../platform/kafka';
import { exitOnStartFailure, stopOnSignals } from '../platform/lifecycle';
import { createLogger } from '../platform/log';
import { loadHistoryConfig } from './config';
import { startHistoryService } from './service';

async function main(): Promise<void> {
  const { env, presence } = loadHistoryConfig();
  const log = createLogger('history', env.LOG_LEVEL);
  const auth = createAuthenticator(env);
  if (auth.mode === 'insecure-dev') log.warn('AUTH_INSECURE_DEV: token signatures are NOT checked; never use this in production');
  const service = await startHistoryService({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, log }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    prefix: env.TOPIC_PREFIX, cfg: presence, auth, log,
    host: env.HISTORY_HOST, port: env.HISTORY_PORT, dataDir: env.HISTORY_DATA_DIR, maxWindowDays: env.HISTORY_MAX_WINDOW_DAYS,
  });
  log.info({ url: service.url, auth: auth.mode, dataDir: env.HISTORY_DATA_DIR }, 'history service listening; /readyz answers 503 until the index caught up');

  stopOnSignals(log, 'closing connections, stopping the indexer, closing the index', () => service.stop());
  await service.startIndexer();
  log.info('ready');
}

main().catch(exitOnStartFailure);
