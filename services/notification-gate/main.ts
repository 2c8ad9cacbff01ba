/** Notification gate entry point: reads config, wires Kafka, registry, the gate and its ops endpoint; handles signals. */
import { AvroSerde, createRegistry } from '../contract/serde';
import { startOpsServer } from '../platform/http';
import { createKafka } from '../platform/kafka';
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
  });
  const http = await startOpsServer({ port: env.GATE_HTTP_PORT, registry: gate.metrics.registry, ready: gate.ready });
  log.info({ port: env.GATE_HTTP_PORT, groupId: env.GATE_GROUP_ID, classes, presence }, 'notification gate started; /readyz answers 503 until the replica caught up');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing the batch, committing, leaving the group');
    http.close();
    gate.stop().then(
      () => process.exit(0),
      (e: unknown) => { log.error({ err: String(e) }, 'unclean stop'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await gate.start();
  if (!stopping) log.info({ users: gate.replica.users.size }, 'ready');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
