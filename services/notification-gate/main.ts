/** Notification gate entry point: reads config, wires Kafka, registry, the gate and its ops endpoint; handles signals. */
import { AvroSerde, createRegistry } from '../contract/serde';
import { startOpsServer } from '../platform/http';
import { createKafka } from '../platform/kafka';
import { exitOnStartFailure, stopOnSignals } from '../platform/lifecycle';
import { createLogger } from '../platform/log';
import { loadGateConfig } from './config';
import { createNotificationGate } from './gate';

async function main(): Promise<void> {
  const { env, presence, classes } = loadGateConfig();
  const log = createLogger('notification-gate', env.LOG_LEVEL);
  const gate = createNotificationGate({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, log }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    prefix: env.TOPIC_PREFIX, groupId: env.GATE_GROUP_ID, cfg: presence, classes, log,
    sessionTimeoutMs: env.GATE_SESSION_TIMEOUT_MS,
    // A consumer that crashed for good decides nothing more: exit so a supervisor restarts us.
    onFatal: () => {
      log.fatal({}, 'exiting: the request consumer stopped for good');
      process.exit(70);
    },
  });
  const http = await startOpsServer({ port: env.GATE_HTTP_PORT, registry: gate.metrics.registry, ready: gate.ready, healthy: gate.healthy });
  log.info({ port: env.GATE_HTTP_PORT, groupId: env.GATE_GROUP_ID, classes, presence }, 'notification gate started; /readyz answers 503 until the replica caught up');

  const stopping = stopOnSignals(log, 'finishing the batch, committing, leaving the group', async () => {
    http.close();
    await gate.stop();
  });
  await gate.start();
  if (!stopping()) log.info({ users: gate.replica.users.size }, 'ready');
}

main().catch(exitOnStartFailure);
