/**
 * Steady live load, as a child process of the bench (so its CPU is not the bench's event loop,
 * which timestamps SSE events): every session of a population heartbeats once per interval, spread
 * evenly, at RATE records per second overall. Prints one JSON line per second with what it sent;
 * SIGTERM stops it after the records in flight are acknowledged.
 *
 * env: LOADGEN_PREFIX, LOADGEN_RATE, LOADGEN_INTERVAL_MS, LOADGEN_LABEL, plus the usual
 * KAFKA_BROKERS and SCHEMA_REGISTRY_URL.
 */
import type { Message } from 'kafkajs';
import { AvroSerde, createRegistry } from '../../services/contract/serde';
import { topicName } from '../../services/contract/topics';
import { kafkaEnv, parseEnv } from '../../services/platform/config';
import { createKafka } from '../../services/platform/kafka';
import { HeartbeatEncoder } from './encoder';
import { HeartbeatTemplates } from './heartbeat-templates';
import { Population } from './population';

const TICK_MS = 20;
/** Sends not yet acknowledged before the generator stops adding more (it then falls behind and says so). */
const MAX_IN_FLIGHT = 16;

async function main(): Promise<void> {
  const env = parseEnv(kafkaEnv);
  const prefix = process.env['LOADGEN_PREFIX'] ?? '';
  const rate = Number(process.env['LOADGEN_RATE'] ?? 20_000);
  const intervalMs = Number(process.env['LOADGEN_INTERVAL_MS'] ?? 15_000);
  const population = new Population(Population.usersFor((rate * intervalMs) / 1000), process.env['LOADGEN_LABEL'] ?? 'load');
  const sessions = population.sessions();
  const serde = await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), prefix);
  const encoder = await HeartbeatEncoder.create(serde, population.heartbeatOf(0, 0, 0, Date.now(), 0));
  const templates = HeartbeatTemplates.build(encoder, sessions.length, (i) => {
    const [u, d] = sessions[i] as readonly [number, number];
    return population.heartbeatOf(u, d, 0, 0, 0);
  });
  await verifyTemplates(serde, templates, population, sessions);
  const producer = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'presence-bench-load' }).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const topic = topicName('heartbeat', prefix);

  const started = Date.now();
  let sent = 0;
  let acked = 0;
  let behind = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  console.log(JSON.stringify({ msg: 'load started', users: population.users, sessions: sessions.length, rate, intervalMs }));

  const tick = () => {
    const now = Date.now();
    // Catch up at most one second of schedule after a stall; what is skipped is counted, not sent late.
    let due = Math.floor((rate * (now - started)) / 1000) - sent;
    if (due > rate) {
      behind += due - rate;
      sent += due - rate;
      due = rate;
    }
    if (due <= 0 || inFlight.size >= MAX_IN_FLIGHT) return;
    const messages: Message[] = [];
    for (let k = 0; k < due; k++) {
      const i = sent + k;
      const s = i % sessions.length;
      const [u, d] = sessions[s] as readonly [number, number];
      const idleMs = population.idleMs(u, d, Math.floor(i / sessions.length), now - started);
      messages.push({ key: templates.keys[s] as string, value: templates.encode(s, now, idleMs) });
    }
    sent += due;
    const p: Promise<void> = producer.send({ topic, messages, acks: -1 }).then(
      () => { acked += messages.length; },
      () => { failed += messages.length; },
    ).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const ticker = setInterval(tick, TICK_MS);
  let lastAcked = 0;
  let lastAt = started;
  const reporter = setInterval(() => {
    const now = Date.now();
    console.log(JSON.stringify({ msg: 'load', acked, rate: Math.round(((acked - lastAcked) * 1000) / (now - lastAt)), behind, failed, inFlight: inFlight.size }));
    lastAcked = acked;
    lastAt = now;
  }, 1_000);

  const stop = async () => {
    clearInterval(ticker);
    clearInterval(reporter);
    // Bounded: with the broker gone, kafkajs would retry the sends in flight for a long time.
    await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 5_000))]);
    await Promise.race([producer.disconnect(), new Promise((r) => setTimeout(r, 2_000))]);
    const seconds = (Date.now() - started) / 1000;
    console.log(JSON.stringify({ msg: 'load stopped', acked, behind, failed, seconds, rate: Math.round(acked / seconds) }));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/** Throws unless templated heartbeats are byte for byte AvroSerde's, on a spread of sessions and times. */
async function verifyTemplates(serde: AvroSerde, templates: HeartbeatTemplates, population: Population, sessions: ReadonlyArray<readonly [number, number]>): Promise<void> {
  const step = Math.max(1, Math.floor(sessions.length / 200));
  for (let s = 0; s < sessions.length; s += step) {
    const [u, d] = sessions[s] as readonly [number, number];
    const hb = population.heartbeatOf(u, d, s % 7, Date.now() + s, s * 1_000);
    const expected = await serde.encode('heartbeat', hb);
    if (!expected.equals(templates.encode(s, hb.observedAt, hb.idleMs))) throw new Error(`templated heartbeat differs from AvroSerde for ${JSON.stringify(hb)}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
