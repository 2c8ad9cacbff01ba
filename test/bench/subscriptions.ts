/**
 * The subscriptions phase: presence over the gateway socket at scale. The product's query service
 * and gateway run as children on their own prefix; this process opens many sockets, each following
 * a set of users (subscribe frames), then writes snapshot changes for random users straight to
 * presence.snapshot.v1 (as the processor would) at a fixed rate, each one a visible change (the
 * status alternates Online / Busy). Measured: subscriptions held, what the gateway holds for them
 * (RSS per subscription, distinct users followed), and the update latency from the snapshot's send
 * to each follower's presence frame (p50/p99), with the gateway's CPU.
 */
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import WebSocket from 'ws';
import type { PresenceSnapshot } from '../../services/contract/avro-types';
import type { AvroSerde } from '../../services/contract/serde';
import { topicName } from '../../services/contract/topics';
import { mintToken } from '../../services/platform/auth';
import type { BenchConfig } from './config';
import { Child, freePort } from './child';
import { MiB, cpuSeconds, distribution, sleep, type Distribution } from './measure';
import { startQueryChild } from './services';

export interface SubscriptionsResult {
  readonly sockets: number;
  readonly perSocket: number;
  readonly subscriptions: number;
  readonly usersFollowed: number;
  readonly subscribeSeconds: number;
  readonly changesWritten: number;
  readonly framesReceived: number;
  /** Frames expected: one per (follower, change), if no change of a user overtook another. */
  readonly framesExpected: number;
  readonly latencyMs: Distribution;
  readonly gatewayCores: number;
  readonly rssMiBIdle: number;
  readonly rssMiBWithSubscriptions: number;
  readonly bytesPerSubscriptionRss: number;
}

const SECRET = 'bench-subscriptions-secret-0123456789-abcdef';

export async function subscriptionsPhase(cfg: BenchConfig, kafka: Kafka, serde: AvroSerde, prefix: string, log: (s: string) => void): Promise<SubscriptionsResult> {
  const s = cfg.subscriptions;
  const users = Array.from({ length: s.users }, (_, i) => `sub-user-${i}`);
  const query = await startQueryChild(cfg, { prefix, secret: SECRET, thresholds: {}, env: { QUERY_SNAPSHOT_CALLERS: 'bench-gateway', QUERY_BATCH_LIMIT: '1000' } });
  const port = await freePort();
  const gateway = new Child('sub-gateway', cfg.root, 'dist/services/gateway/main.js', {
    KAFKA_BROKERS: cfg.kafka.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: cfg.kafka.SCHEMA_REGISTRY_URL, TOPIC_PREFIX: prefix,
    KAFKA_CLIENT_ID: `${cfg.runId}-sub-gateway`, AUTH_JWT_SECRET: SECRET, GATEWAY_PORT: String(port), GATEWAY_ID: 'bench-sub-gateway',
    GATEWAY_QUERY_URL: query.url, GATEWAY_QUERY_TOKEN: await mintToken(SECRET, 'bench-gateway'), GATEWAY_MAX_SUBSCRIPTIONS: String(s.perSocket),
    GATEWAY_COMMANDS_PER_SECOND: '1000', GATEWAY_COMMAND_BURST: '1000', GATEWAY_LEASE_MS: '0', LOG_LEVEL: 'warn',
  }, join(cfg.workDir, 'sub-gateway.log'));
  const producer = kafka.producer();
  const sockets: WebSocket[] = [];
  try {
    await query.child.waitHttpOk(`${query.url}/readyz`, 60_000);
    await gateway.waitHttpOk(`http://127.0.0.1:${port}/readyz`, 60_000);
    await producer.connect();
    await sleep(500);
    const rssIdle = gateway.rssKiB();

    // Each socket follows perSocket users, spread so every user has about the same followers.
    const followers = new Map<string, number>();
    const received: number[] = [];
    const sentAt = new Map<string, number>();
    let frames = 0;
    let subscribed = 0;
    const subscribeStart = Date.now();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < s.sockets; i++) {
      const token = await mintToken(SECRET, `viewer-${i}`);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?deviceId=bench&sessionId=v-${i}&platform=web&access_token=${token}`);
      sockets.push(ws);
      const follows = Array.from({ length: s.perSocket }, (_, k) => users[(i * s.perSocket + k) % users.length] as string);
      for (const u of follows) followers.set(u, (followers.get(u) ?? 0) + 1);
      acks.push(new Promise((resolve, reject) => {
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as { type: string; userId?: string; result?: string; error?: string };
          if (msg.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', userIds: follows, id: 1 }));
          else if (msg.type === 'ack' && msg.result === 'subscribed') {
            subscribed += follows.length;
            resolve();
          } else if (msg.type === 'error') reject(new Error(`subscribe refused: ${msg.error}`));
          else if (msg.type === 'presence' && msg.userId !== undefined) {
            const t0 = sentAt.get(msg.userId);
            if (t0 !== undefined) {
              frames++;
              received.push(performance.now() - t0);
            }
          }
        });
        ws.once('error', reject);
      }));
      if (i % 100 === 99) await Promise.all(acks.slice(i - 99));
    }
    await Promise.all(acks);
    const subscribeSeconds = (Date.now() - subscribeStart) / 1000;
    const rssWith = gateway.rssKiB();
    log(`  ${s.sockets} sockets follow ${subscribed} (socket, user) pairs in ${subscribeSeconds.toFixed(1)} s; ${s.rate} changes/s for ${s.seconds} s…`);

    // Changes: one snapshot per tick for a random user, its status alternating (a visible change).
    const topic = topicName('snapshot', prefix);
    const version = new Map<string, number>();
    let written = 0;
    let expected = 0;
    const cpuStart = cpuSeconds(gateway.pid);
    const start = Date.now();
    const perTick = Math.max(1, Math.round(s.rate / 50));
    while (Date.now() - start < s.seconds * 1000) {
      const tickStart = Date.now();
      const messages = await Promise.all(Array.from({ length: perTick }, async () => {
        const u = users[Math.floor(Math.random() * users.length)] as string;
        const v = (version.get(u) ?? 0) + 1;
        version.set(u, v);
        const now = Date.now();
        const busy = v % 2 === 0;
        const snap: PresenceSnapshot = {
          userId: u, status: busy ? 'Busy' : 'Online', statusSince: now, lastSeen: now, lastActive: now,
          override: busy ? { status: 'Busy', customText: null, expiresAt: null } : null, visibility: 'everyone', lastSeenPrivacy: 'exact', activities: [],
          devices: [{ deviceId: 'd', sessionId: 's', platform: 'web', gatewayId: null, active: true }], version: v, emittedAt: now, offlineAt: null,
        };
        expected += followers.get(u) ?? 0;
        return { key: u, value: await serde.encode('snapshot', snap) };
      }));
      const t0 = performance.now();
      for (const m of messages) sentAt.set(m.key, t0);
      await producer.send({ topic, messages, acks: 1 });
      written += messages.length;
      await sleep(Math.max(0, 20 - (Date.now() - tickStart)));
    }
    const seconds = (Date.now() - start) / 1000;
    await sleep(2_000); // the last changes reach the sockets
    const cores = (cpuSeconds(gateway.pid) - cpuStart) / (seconds + 2);
    return {
      sockets: s.sockets, perSocket: s.perSocket, subscriptions: subscribed, usersFollowed: followers.size,
      subscribeSeconds: Math.round(subscribeSeconds * 10) / 10, changesWritten: written, framesReceived: frames, framesExpected: expected,
      latencyMs: distribution(received), gatewayCores: Math.round(cores * 100) / 100,
      rssMiBIdle: MiB(rssIdle), rssMiBWithSubscriptions: MiB(rssWith), bytesPerSubscriptionRss: Math.round(((rssWith - rssIdle) * 1024) / Math.max(1, subscribed)),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await producer.disconnect().catch(() => undefined);
    await gateway.stop();
    await query.child.stop();
  }
}
