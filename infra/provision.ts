/**
 * `make provision`: creates every topic (idempotent) and registers every schema with BACKWARD
 * compatibility. Reads the same environment as the services (KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * TOPIC_PREFIX, TOPIC_PARTITIONS, TOPIC_REPLICATION_FACTOR).
 */
import { parseEnv, kafkaEnv } from '../services/platform/config';
import { createKafka } from '../services/platform/kafka';
import { createLogger } from '../services/platform/log';
import { provisionTopics } from '../services/contract/provision';
import { createRegistry, registerSchemas } from '../services/contract/serde';

async function main(): Promise<void> {
  const env = parseEnv(kafkaEnv);
  const log = createLogger('provision', env.LOG_LEVEL);
  const admin = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'presence-provision', log }).admin();
  await admin.connect();
  try {
    const topics = await provisionTopics(admin, {
      prefix: env.TOPIC_PREFIX,
      partitions: env.TOPIC_PARTITIONS,
      replicationFactor: env.TOPIC_REPLICATION_FACTOR,
    });
    const ids = await registerSchemas(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX);
    log.info({ created: topics.created, existing: topics.existing.length, partitions: topics.partitions, schemaIds: ids }, 'provisioned');
  } finally {
    await admin.disconnect();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
