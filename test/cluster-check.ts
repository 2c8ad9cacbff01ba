/**
 * `KAFKA_NODES=3 make up` then `npx tsx test/cluster-check.ts`: on the cluster connection.env names,
 * shows provisioning's replication (RF, min.insync.replicas) and an acks=all produce + consume that
 * still works with one node stopped (CLUSTER_CHECK_STOP_PID: a broker's pid to SIGSTOP meanwhile).
 */
import { ConfigResourceTypes } from 'kafkajs';
import { kafkaEnv, parseEnv } from '../services/platform/config';
import { createKafka } from '../services/platform/kafka';
import { topicName } from '../services/contract/topics';

async function main(): Promise<void> {
  const env = parseEnv(kafkaEnv);
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'cluster-check' });
  const admin = kafka.admin();
  await admin.connect();
  const topic = topicName('heartbeat', env.TOPIC_PREFIX);
  const { brokers } = await admin.describeCluster();
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = meta.topics[0]?.partitions ?? [];
  const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }] });
  console.log(JSON.stringify({
    brokers: brokers.map((b) => `${b.host}:${b.port}`), topic,
    replicas: partitions.map((p) => p.replicas.length), isr: partitions.map((p) => p.isr.length),
    minInsyncReplicas: cfg.resources[0]?.configEntries[0]?.configValue,
  }));
  const stopPid = Number(process.env['CLUSTER_CHECK_STOP_PID'] ?? 0);
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `${env.TOPIC_PREFIX}cluster-check-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  const got: string[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) });
  const value = `cluster-check-${Date.now()}`;
  const acks = await producer.send({ topic, acks: -1, messages: [{ key: 'k', value }] });
  console.log(`produced with acks=all: ${JSON.stringify(acks)}`);
  if (stopPid) {
    process.kill(stopPid, 'SIGKILL');
    console.log(`killed broker pid ${stopPid}`);
    const acks2 = await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `${value}-after` }] });
    console.log(`produced with one node down, acks=all: ${JSON.stringify(acks2)}`);
  }
  const want = stopPid ? 2 : 1;
  const deadline = Date.now() + 60_000;
  while (got.filter((v) => v.startsWith(value)).length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  console.log(`consumed: ${JSON.stringify(got.filter((v) => v.startsWith(value)))}`);
  await consumer.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  if (got.filter((v) => v.startsWith(value)).length < want) throw new Error('did not consume what was produced');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
