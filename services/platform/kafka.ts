/** The kafkajs client, built the same way by every service: quiet logs routed to pino. */
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from './log';

export function createKafka(opts: { brokers: string[]; clientId: string; log?: Logger }): Kafka {
  const { log } = opts;
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    logCreator: () => ({ namespace, level, log: entry }: LogEntry) => {
      if (!log) return;
      const { message, ...rest } = entry;
      const fn = level <= logLevel.ERROR ? log.error.bind(log) : log.warn.bind(log);
      fn({ kafkajs: namespace, ...rest }, message);
    },
  });
}
