/**
 * `make demo`: starts the processor, the query service, the notification gate and the gateway as
 * child processes (topics are provisioned by make), runs the simulated population as WebSocket
 * clients of the gateway, prints where to look and a live summary line every few seconds, and
 * stops everything on Ctrl-C (or after DEMO_SECONDS, for scripted runs).
 *
 * Thresholds are shortened so changes are visible within a minute (heartbeat 5 s, offline 15 s,
 * away 30 s, room member expiry 20 s); production defaults are in services/core/config.ts.
 */
import { randomBytes } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { AvroSerde, createRegistry } from '../contract/serde';
import { PresencePublisher } from '../gateway/publisher';
import { mintToken } from '../platform/auth';
import { createKafka } from '../platform/kafka';
import { createLogger } from '../platform/log';
import { kafkaEnv, parseEnv } from '../platform/config';
import { PROCESSOR_MALLOC_ENV } from '../processor/malloc-env';
import { repoRoot } from '../platform/paths';
import { SimulatedClients } from './clients';
import { Population, roomIds, userIds } from './population';
import { serviceMain, Supervisor } from './supervisor';

/** Run compiled (`make demo`: node dist/services/demo/main.js) → the services run compiled too. */
const COMPILED = __filename.endsWith('.js');
/** The build folder this file was compiled into (dist, or another one), relative to the repository. */
const DIST = relative(repoRoot(), resolve(__dirname, '../..'));

const demoEnv = kafkaEnv.extend({
  DEMO_USERS: z.coerce.number().int().min(1).max(1_000).default(300),
  DEMO_ROOMS: z.coerce.number().int().min(1).max(100).default(12),
  /** Stop by itself after this many seconds (0: run until Ctrl-C). */
  DEMO_SECONDS: z.coerce.number().int().min(0).default(0),
  DEMO_SEED: z.coerce.number().int().default(42),
  QUERY_PORT: z.coerce.number().int().default(9302),
  PROCESSOR_HTTP_PORT: z.coerce.number().int().default(9301),
  GATE_HTTP_PORT: z.coerce.number().int().default(9303),
  GATEWAY_PORT: z.coerce.number().int().default(9304),
});

const THRESHOLDS = {
  PRESENCE_HEARTBEAT_INTERVAL_MS: '5000', PRESENCE_OFFLINE_AFTER_MS: '15000', PRESENCE_AWAY_AFTER_MS: '30000',
  PRESENCE_ROOM_MEMBER_EXPIRY_MS: '20000', PRESENCE_REFRESH_LEAD_MS: '5000',
};

async function main(): Promise<void> {
  const env = parseEnv(demoEnv);
  const root = repoRoot();
  const secret = randomBytes(32).toString('hex'); // the demo mints its own key
  const users = userIds(env.DEMO_USERS);
  const rooms = roomIds(env.DEMO_ROOMS);
  const VIEWER = 'demo-viewer';
  const viewerToken = await mintToken(secret, VIEWER);
  // Contacts-only visibility, seen by two viewers: demo-private lists the tab's user as a contact, not demo-stranger.
  const PRIVATE = 'demo-private';
  const STRANGER = 'demo-stranger';
  const strangerToken = await mintToken(secret, STRANGER);
  // The gateway reads current snapshots from the query service for its sockets' subscriptions.
  const gatewayToken = await mintToken(secret, 'demo-gateway');
  const common = {
    KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL, TOPIC_PREFIX: env.TOPIC_PREFIX,
    LOG_LEVEL: env.LOG_LEVEL, ...THRESHOLDS,
  };
  const sup = new Supervisor(root, resolve(root, '.infra/demo'));
  const processorUrl = `http://127.0.0.1:${env.PROCESSOR_HTTP_PORT}`;
  const queryUrl = `http://127.0.0.1:${env.QUERY_PORT}`;
  const gateUrl = `http://127.0.0.1:${env.GATE_HTTP_PORT}`;
  const gatewayUrl = `http://127.0.0.1:${env.GATEWAY_PORT}`;
  const gatewayWs = `ws://127.0.0.1:${env.GATEWAY_PORT}/v1/ws`;
  sup.start({ name: 'processor', main: serviceMain('processor', COMPILED, DIST), readyUrl: `${processorUrl}/readyz`, env: {
    ...common, ...PROCESSOR_MALLOC_ENV, PROCESSOR_HTTP_PORT: String(env.PROCESSOR_HTTP_PORT), PROCESSOR_DATA_DIR: '.infra/demo/processor-store', PROCESSOR_GROUP_ID: 'presence-demo-processor',
  } });
  sup.start({ name: 'query', main: serviceMain('query', COMPILED, DIST), readyUrl: `${queryUrl}/readyz`, env: {
    ...common, AUTH_JWT_SECRET: secret, QUERY_PORT: String(env.QUERY_PORT), QUERY_DEMO_PAGE: '1',
    QUERY_DEMO_USERS: users.join(','), QUERY_DEMO_ROOMS: rooms.join(','), QUERY_DEMO_TOKEN: viewerToken,
    QUERY_DEMO_VIEWER: VIEWER, QUERY_DEMO_GATEWAY_URL: gatewayWs, QUERY_SNAPSHOT_CALLERS: 'demo-gateway',
    QUERY_DEMO_CONTACTS_USER: PRIVATE, QUERY_DEMO_STRANGER: STRANGER, QUERY_DEMO_STRANGER_TOKEN: strangerToken,
  } });
  sup.start({ name: 'notification-gate', main: serviceMain('notification-gate', COMPILED, DIST), readyUrl: `${gateUrl}/readyz`, env: {
    ...common, GATE_HTTP_PORT: String(env.GATE_HTTP_PORT), GATE_GROUP_ID: 'presence-demo-gate',
  } });
  sup.start({ name: 'gateway', main: serviceMain('gateway', COMPILED, DIST), readyUrl: `${gatewayUrl}/readyz`, env: {
    ...common, AUTH_JWT_SECRET: secret, GATEWAY_PORT: String(env.GATEWAY_PORT), GATEWAY_ID: 'demo-gateway',
    GATEWAY_COALESCE_MS: '1000', GATEWAY_RECONNECT_GRACE_MS: '3000', GATEWAY_QUERY_URL: queryUrl, GATEWAY_QUERY_TOKEN: gatewayToken,
  } });

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[demo] stopping (${why}) …`);
    clearInterval(stepTimer);
    clearInterval(summaryTimer);
    clearInterval(privateTimer);
    await privatePublisher?.close().catch(() => undefined);
    await sup.stopAll(); // the gateway ends every session it holds as it stops: no ghosts
    clients?.closeAll();
    console.log('[demo] stopped processor, query service, notification gate and gateway; `make down` stops Kafka and the registry');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  let stepTimer: NodeJS.Timeout | undefined;
  let summaryTimer: NodeJS.Timeout | undefined;
  let clients: SimulatedClients | undefined;
  let privateTimer: NodeJS.Timeout | undefined;
  let privatePublisher: PresencePublisher | undefined;

  console.log('[demo] starting processor, query service, notification gate and gateway (logs in .infra/demo/) …');
  try {
    await sup.waitReady(120_000);
  } catch (e) {
    await sup.stopAll();
    throw e;
  }
  // demo-private: one device kept Online by the demo itself, visibility contacts, the tab's user in its list.
  privatePublisher = await PresencePublisher.connect({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'presence-demo', log: createLogger('demo', 'error') }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX), prefix: env.TOPIC_PREFIX,
  });
  const pub = privatePublisher;
  const privateSession = { userId: PRIVATE, deviceId: 'private-laptop', sessionId: 'private-tab', platform: 'web' as const };
  await pub.setVisibility(PRIVATE, 'contacts');
  await pub.addContact(PRIVATE, VIEWER);
  await pub.removeContact(PRIVATE, STRANGER); // in case an earlier run listed it
  await pub.heartbeat(privateSession, 0);
  privateTimer = setInterval(() => void pub.heartbeat(privateSession, 0).catch(() => undefined), 5_000);
  const tokens = new Map(await Promise.all(users.map(async (u) => [u, await mintToken(secret, u)] as const)));
  clients = new SimulatedClients(gatewayWs, tokens);
  const sim = clients;
  const population = new Population({ users: env.DEMO_USERS, rooms: env.DEMO_ROOMS, heartbeatIntervalMs: 5_000, seed: env.DEMO_SEED }, Date.now());
  stepTimer = setInterval(() => {
    for (const a of population.step(Date.now())) sim.apply(a);
  }, 1_000);

  console.log(`
[demo] ready. Where to look:
  live page          ${queryUrl}/            (${users.length} users, ${rooms.length} rooms, updating over SSE; the tab itself is "${VIEWER}")
  a user's presence  curl -H "Authorization: Bearer ${viewerToken}" ${queryUrl}/v1/users/${users[0]}/presence
  gate check         curl -H "Authorization: Bearer ${viewerToken}" "${queryUrl}/v1/gate?userId=${users[0]}&channel=mobile-push"
  gateway            ${gatewayWs}  (WebSocket; HTTP under ${gatewayUrl}/v1, browser client ${gatewayUrl}/client/presence-client.js)
  metrics            ${processorUrl}/metrics  ${queryUrl}/metrics  ${gateUrl}/metrics  ${gatewayUrl}/metrics
  Ctrl-C stops the services (Kafka and the registry keep running; make down stops them)
`);
  let lastEvents = 0;
  let lastAt = Date.now();
  summaryTimer = setInterval(() => {
    void summary(queryUrl, viewerToken, users, rooms).then((s) => {
      const now = Date.now();
      const events = sim.counts.frames;
      const rate = Math.round(((events - lastEvents) * 1000) / Math.max(1, now - lastAt));
      lastEvents = events;
      lastAt = now;
      const dead = sup.dead();
      console.log(`[demo] ${new Date().toISOString().slice(11, 19)}  online ${s.Online} · away ${s.Away} · dnd ${s.DoNotDisturb} · busy ${s.Busy} · offline ${s.Offline} · ${rate} events/s via the gateway · ${s.rooms}/${rooms.length} rooms in use${sim.counts.refused ? ` · ${sim.counts.refused} refused` : ''}${sim.counts.socketErrors ? ` · ${sim.counts.socketErrors} socket errors` : ''}${dead.length ? ` · DEAD: ${dead.join(', ')}` : ''}`);
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
