/**
 * Kafka and the schema registry for the commands that publish or read topics, built from the same
 * variables as the services and bounded by CLI_TIMEOUT_MS: a broker or registry that does not
 * answer is an UnreachableError naming the variable, not a hang. Made on first use and closed once.
 */
import type { Admin, Kafka } from 'kafkajs';
import { AvroSerde, createRegistry } from '../contract/serde';
import { topicName, type TopicRole } from '../contract/topics';
import { createKafka } from '../platform/kafka';
import type { CliEnv } from './config';
import { CliError, UnreachableError } from './errors';

export class Connections {
  readonly kafka: Kafka;
  private readonly serdes = new Map<string, Promise<AvroSerde>>();

  constructor(private readonly env: CliEnv) {
    this.kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: `${env.KAFKA_CLIENT_ID}-cli` });
  }

  /** The topic's name under TOPIC_PREFIX. */
  topic(role: TopicRole): string {
    return topicName(role, this.env.TOPIC_PREFIX);
  }

  /** The serde with a prefix's registered ids (TOPIC_PREFIX by default; registering is idempotent, as every service does at start). */
  serde(prefix: string = this.env.TOPIC_PREFIX): Promise<AvroSerde> {
    let p = this.serdes.get(prefix);
    if (!p) {
      p = withDeadline(AvroSerde.create(createRegistry(this.env.SCHEMA_REGISTRY_URL, this.env.CLI_TIMEOUT_MS), prefix), this.env.CLI_TIMEOUT_MS)
        .catch((e: unknown) => {
          throw new UnreachableError(`cannot use the schema registry at ${this.env.SCHEMA_REGISTRY_URL} (SCHEMA_REGISTRY_URL): ${describe(e)}`, e);
        });
      this.serdes.set(prefix, p);
    }
    return p;
  }

  /** An admin client connected within CLI_TIMEOUT_MS (an UnreachableError naming KAFKA_BROKERS otherwise), disconnected after `fn`. */
  async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    try {
      await withDeadline(admin.connect(), this.env.CLI_TIMEOUT_MS);
    } catch (e) {
      await admin.disconnect().catch(() => undefined);
      throw new UnreachableError(`cannot reach Kafka at ${this.env.KAFKA_BROKERS.join(',')} (KAFKA_BROKERS): ${describe(e)}`, e);
    }
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** The partition numbers of a topic; a missing topic says so (TOPIC_PREFIX, make provision). */
  async partitions(role: TopicRole): Promise<number[]> {
    const topic = this.topic(role);
    const admin = this.kafka.admin();
    try {
      await withDeadline(admin.connect(), this.env.CLI_TIMEOUT_MS);
    } catch (e) {
      await admin.disconnect().catch(() => undefined);
      throw new UnreachableError(`cannot reach Kafka at ${this.env.KAFKA_BROKERS.join(',')} (KAFKA_BROKERS): ${describe(e)}`, e);
    }
    try {
      const topics = await withDeadline(admin.listTopics(), this.env.CLI_TIMEOUT_MS);
      if (!topics.includes(topic)) {
        throw new CliError('CONFIG', `topic ${topic} does not exist on ${this.env.KAFKA_BROKERS.join(',')} (TOPIC_PREFIX=${JSON.stringify(this.env.TOPIC_PREFIX)}; \`make provision\` creates the topics)`, 1);
      }
      const offsets = await withDeadline(admin.fetchTopicOffsets(topic), this.env.CLI_TIMEOUT_MS);
      return offsets.map((o) => o.partition).sort((a, b) => a - b);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new UnreachableError(`cannot read the partitions of ${topic} from Kafka at ${this.env.KAFKA_BROKERS.join(',')} (KAFKA_BROKERS): ${describe(e)}`, e);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (CLI_TIMEOUT_MS)`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
