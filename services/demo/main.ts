/**
 * `make demo`: starts the processor, the query service and the notification gate as child
 * processes (topics are provisioned by make), runs the simulated population through the typed
 * publisher, prints where to look and a live summary line every few seconds, and stops everything
 * on Ctrl-C (or after DEMO_SECONDS, for scripted runs).
 *
 * Thresholds are shortened so changes are visible within a minute (heartbeat 5 s, offline 15 s,
 * away 30 s, room member expiry 20 s); production defaults are in services/core/config.ts.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AvroSerde, createRegistry } from '../contract/serde';
import { mintToken } from '../platform/auth';
import { kafkaEnv, parseEnv } from '../platform/config';
import { createKafka } from '../platform/kafka';
import { PresencePublisher } from '../gateway/publisher';
import { Population, roomIds, userIds, type ClientAction } from './population';
import { Supervisor } from './supervisor';

const demoEnv = kafkaEnv.extend({
  DEMO_USERS: z.coerce.number().int().min(1).max(1_000).default(300),
  DEMO_ROOMS: z.coerce.number().int().min(1).max(100).default(12),
  /** Stop by itself after this many seconds (0: run until Ctrl-C). */
  DEMO_SECONDS: z.coerce.number().int().min(0).default(0),
  DEMO_SEED: z.coerce.number().int().default(42),
  QUERY_PORT: z.coerce.number().int().default(9302),
  PROCESSOR_HTTP_PORT: z.coerce.number().int().default(9301),
  GATE_HTTP_PORT: z.coerce.number().int().default(9303),
});

const THRESHOLDS = {
  PRESENCE_HEARTBEAT_INTERVAL_MS: '5000', PRESENCE_OFFLINE_AFTER_MS: '15000', PRESENCE_AWAY_AFTER_MS: '30000',
  PRESENCE_ROOM_MEMBER_EXPIRY_MS: '20000', PRESENCE_REFRESH_LEAD_MS: '5000',
};

async function main(): Promise<void> {
  const env = parseEnv(demoEnv);
  const root = resolve(__dirname, '../..');
  const secret = randomBytes(32).toString('hex'); // the demo mints its own key
  const users = userIds(env.DEMO_USERS);
  const rooms = roomIds(env.DEMO_ROOMS);
  const viewerToken = await mintToken(secret, 'demo-viewer');
  const common = {
    KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL, TOPIC_PREFIX: env.TOPIC_PREFIX,
    LOG_LEVEL: env.LOG_LEVEL, ...THRESHOLDS,
  };
  const sup = new Supervisor(root, resolve(root, '.infra/demo'));
  const processorUrl = `http://127.0.0.1:${env.PROCESSOR_HTTP_PORT}`;
  const queryUrl = `http://127.0.0.1:${env.QUERY_PORT}`;
  const gateUrl = `http://127.0.0.1:${env.GATE_HTTP_PORT}`;
  sup.start({ name: 'processor', main: 'services/processor/main.ts', readyUrl: `${processorUrl}/readyz`, env: {
    ...common, PROCESSOR_HTTP_PORT: String(env.PROCESSOR_HTTP_PORT), PROCESSOR_DATA_DIR: '.infra/demo/processor-store', PROCESSOR_GROUP_ID: 'presence-demo-processor',
  } });
  sup.start({ name: 'query', main: 'services/query/main.ts', readyUrl: `${queryUrl}/readyz`, env: {
    ...common, AUTH_JWT_SECRET: secret, QUERY_PORT: String(env.QUERY_PORT), QUERY_DEMO_PAGE: '1',
    QUERY_DEMO_USERS: users.join(','), QUERY_DEMO_ROOMS: rooms.join(','), QUERY_DEMO_TOKEN: viewerToken,
  } });
  sup.start({ name: 'notification-gate', main: 'services/notification-gate/main.ts', readyUrl: `${gateUrl}/readyz`, env: {
    ...common, GATE_HTTP_PORT: String(env.GATE_HTTP_PORT), GATE_GROUP_ID: 'presence-demo-gate',
  } });

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[demo] stopping (${why}) …`);
    clearInterval(stepTimer);
    clearInterval(summaryTimer);
    await publisher?.close().catch(() => undefined);
    await sup.stopAll();
    console.log('[demo] stopped processor, query service and notification gate; `make down` stops Kafka and the registry');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  let stepTimer: NodeJS.Timeout | undefined;
  let summaryTimer: NodeJS.Timeout | undefined;
  let publisher: PresencePublisher | undefined;

  console.log('[demo] starting processor, query service and notification gate (logs in .infra/demo/) …');
  try {
    await sup.waitReady(120_000);
  } catch (e) {
    await sup.stopAll();
    throw e;
  }
  publisher = await PresencePublisher.connect({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'presence-demo-population' }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    prefix: env.TOPIC_PREFIX, gatewayId: 'demo-population', lingerMs: 20,
  });
  const population = new Population({ users: env.DEMO_USERS, rooms: env.DEMO_ROOMS, heartbeatIntervalMs: 5_000, seed: env.DEMO_SEED }, Date.now());
  const devices = new Map<string, { deviceId: string; platform: 'web' | 'desktop' | 'ios' | 'android' | 'other' }>();
  let events = 0;
  let failures = 0;
  const apply = (a: ClientAction): Promise<void> | null => {
    const key = `${a.userId}/${a.sessionId}`;
    switch (a.type) {
      case 'connect': devices.set(key, { deviceId: a.deviceId, platform: a.platform }); return null;
      case 'drop': devices.delete(key); return null;
      case 'heartbeat': case 'close': {
        const d = devices.get(key);
        if (!d) return null;
        const s = { userId: a.userId, sessionId: a.sessionId, ...d };
        if (a.type === 'close') devices.delete(key);
        return a.type === 'heartbeat' ? publisher!.heartbeat(s, a.idleMs) : publisher!.disconnect(s);
      }
      case 'override': return publisher!.setOverride(a.userId, { status: a.status, customText: a.customText, expiresAt: a.expiresAt });
      case 'join': return publisher!.joinRoom(a);
      case 'leave': return publisher!.leaveRoom(a);
      case 'roomHeartbeat': return publisher!.roomHeartbeat(a);
    }
  };
  stepTimer = setInterval(() => {
    for (const a of population.step(Date.now())) {
      const sent = apply(a);
      if (!sent) continue;
      events++;
      sent.catch(() => void failures++);
    }
  }, 1_000);

  console.log(`
[demo] ready. Where to look:
  live page          ${queryUrl}/            (${users.length} users, ${rooms.length} rooms, updating over SSE)
  a user's presence  curl -H "Authorization: Bearer ${viewerToken}" ${queryUrl}/v1/users/${users[0]}/presence
  gate check         curl -H "Authorization: Bearer ${viewerToken}" "${queryUrl}/v1/gate?userId=${users[0]}&channel=mobile-push"
  metrics            ${processorUrl}/metrics  ${queryUrl}/metrics  ${gateUrl}/metrics
  Ctrl-C stops the services (Kafka and the registry keep running; make down stops them)
`);
  let lastEvents = 0;
  let lastAt = Date.now();
  summaryTimer = setInterval(() => {
    void summary(queryUrl, viewerToken, users, rooms).then((s) => {
      const now = Date.now();
      const rate = Math.round(((events - lastEvents) * 1000) / Math.max(1, now - lastAt));
      lastEvents = events;
      lastAt = now;
      const dead = sup.dead();
      console.log(`[demo] ${new Date().toISOString().slice(11, 19)}  online ${s.Online} · away ${s.Away} · dnd ${s.DoNotDisturb} · busy ${s.Busy} · offline ${s.Offline} · ${rate} events/s · ${s.rooms}/${rooms.length} rooms in use${failures ? ` · ${failures} publish failures` : ''}${dead.length ? ` · DEAD: ${dead.join(', ')}` : ''}`);
    }, (e: unknown) => console.log(`[demo] summary unavailable: ${String(e)}`));
  }, 5_000);
  if (env.DEMO_SECONDS > 0) setTimeout(() => void stop(`DEMO_SECONDS=${env.DEMO_SECONDS}`), env.DEMO_SECONDS * 1_000);
}

/** Status counts and rooms in use, read from the query service like any client would. */
async function summary(queryUrl: string, token: string, users: string[], rooms: string[]): Promise<Record<string, number>> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const res = await fetch(`${queryUrl}/v1/presence:batchGet`, { method: 'POST', headers, body: JSON.stringify({ userIds: users }) });
  const { presences } = (await res.json()) as { presences: Array<{ status: string }> };
  const counts: Record<string, number> = { Online: 0, Away: 0, DoNotDisturb: 0, Busy: 0, Offline: 0, rooms: 0 };
  for (const p of presences) counts[p.status] = (counts[p.status] ?? 0) + 1;
  const inUse = await Promise.all(rooms.map(async (r) => ((await (await fetch(`${queryUrl}/v1/rooms/${r}`, { headers })).json()) as { members: unknown[] }).members.length > 0));
  counts['rooms'] = inUse.filter(Boolean).length;
  return counts;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
