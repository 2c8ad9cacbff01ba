/**
 * The gateway phase: the product's gateway as a child process, with many WebSocket sessions opened
 * by this process, each keeping a few heartbeats in flight (closed loop: the next frame goes when an
 * ack comes back). Coalescing is off, so every frame is one record acknowledged by Kafka (acks=all)
 * before its ack: the figures are the gateway's publish path, not the coalescer's savings. Then
 * every socket closes and the phase times how long the gateway takes to publish all the clean
 * disconnects. Measures connects/s, acked heartbeats/s, ack latency, CPU and memory per socket.
 */
import type { Admin } from 'kafkajs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { mintToken } from '../../services/platform/auth';
import { topicName } from '../../services/contract/topics';
import type { BenchConfig } from './config';
import { Child, freePort } from './child';
import { MiB, cpuSeconds, distribution, sleep, type Distribution } from './measure';

export interface GatewayResult {
  readonly sockets: number;
  readonly inFlightPerSocket: number;
  readonly seconds: number;
  readonly connectSeconds: number;
  readonly connectsPerSecond: number;
  readonly ackedHeartbeats: number;
  readonly heartbeatsPerSecond: number;
  readonly ackLatencyMs: Distribution;
  readonly refused: number;
  /** Records the heartbeat topic gained: every acked frame plus one disconnect per socket. */
  readonly recordsOnTopic: number;
  readonly disconnectsSeconds: number;
  readonly gatewayCores: number;
  readonly rssMiBIdle: number;
  readonly rssMiBWithSockets: number;
  readonly bytesPerSocketRss: number;
}

const SECRET = 'bench-gateway-secret-0123456789-abcdef';

async function endOffsetsSum(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
}

export async function gatewayPhase(cfg: BenchConfig, admin: Admin, prefix: string, log: (s: string) => void): Promise<GatewayResult> {
  const port = await freePort();
  const gateway = new Child('gateway', cfg.root, 'dist/services/gateway/main.js', {
    KAFKA_BROKERS: cfg.kafka.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: cfg.kafka.SCHEMA_REGISTRY_URL, TOPIC_PREFIX: prefix,
    KAFKA_CLIENT_ID: `${cfg.runId}-gateway`, AUTH_JWT_SECRET: SECRET, GATEWAY_PORT: String(port), GATEWAY_ID: 'bench-gateway',
    GATEWAY_COALESCE_MS: '0', GATEWAY_RECONNECT_GRACE_MS: '0', LOG_LEVEL: 'warn',
  }, join(cfg.workDir, 'gateway.log'));
  const sockets: WebSocket[] = [];
  try {
    await gateway.waitHttpOk(`http://127.0.0.1:${port}/readyz`, 60_000);
    await sleep(500);
    const rssIdle = gateway.rssKiB();
    const topic = topicName('heartbeat', prefix);
    const before = await endOffsetsSum(admin, topic);

    const tokens = await Promise.all(Array.from({ length: cfg.gatewaySockets }, (_, i) => mintToken(SECRET, `gw-user-${i}`)));
    const connectStart = Date.now();
    const welcomed: Array<Promise<void>> = [];
    for (let i = 0; i < cfg.gatewaySockets; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?deviceId=bench&sessionId=s-${i}&platform=web&access_token=${tokens[i]}`);
      sockets.push(ws);
      welcomed.push(new Promise((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      }));
      if (i % 200 === 199) await Promise.all(welcomed.slice(i - 199)); // at most 200 handshakes at once
    }
    await Promise.all(welcomed);
    const connectSeconds = (Date.now() - connectStart) / 1000;
    const rssWithSockets = gateway.rssKiB();
    log(`  ${cfg.gatewaySockets} sockets open in ${connectSeconds.toFixed(1)} s; heartbeats for ${cfg.gatewaySeconds} s…`);

    const latencies: number[] = [];
    let acked = 0;
    let refused = 0;
    let running = true;
    const cpuStart = cpuSeconds(gateway.pid);
    const start = Date.now();
    const sentAt = sockets.map(() => new Map<number, number>());
    sockets.forEach((ws, i) => {
      let next = 0;
      const send = () => {
        const id = next++;
        (sentAt[i] as Map<number, number>).set(id, performance.now());
        ws.send(`{"type":"heartbeat","idleMs":0,"id":${id}}`);
      };
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { type: string; id?: number };
        const t0 = msg.id === undefined ? undefined : (sentAt[i] as Map<number, number>).get(msg.id);
        if (t0 === undefined) return;
        (sentAt[i] as Map<number, number>).delete(msg.id as number);
        if (msg.type === 'ack') {
          acked++;
          latencies.push(performance.now() - t0);
        } else refused++;
        if (running) send();
      });
      for (let k = 0; k < cfg.gatewayInFlight; k++) send();
    });
    await sleep(cfg.gatewaySeconds * 1000);
    running = false;
    const seconds = (Date.now() - start) / 1000;
    const ackedInWindow = acked;
    const cores = (cpuSeconds(gateway.pid) - cpuStart) / seconds;
    await sleep(2_000); // the last frames in flight are answered

    // Every socket closes: the gateway publishes one clean disconnect per session.
    const expected = before + acked + cfg.gatewaySockets;
    const closeStart = Date.now();
    for (const ws of sockets) ws.close(1000, 'bench done');
    let records = await endOffsetsSum(admin, topic);
    while (records < expected && Date.now() - closeStart < 60_000) {
      await sleep(100);
      records = await endOffsetsSum(admin, topic);
    }
    const disconnectsSeconds = (Date.now() - closeStart) / 1000;
    return {
      sockets: cfg.gatewaySockets, inFlightPerSocket: cfg.gatewayInFlight, seconds: Math.round(seconds * 10) / 10,
      connectSeconds: Math.round(connectSeconds * 10) / 10, connectsPerSecond: Math.round(cfg.gatewaySockets / connectSeconds),
      ackedHeartbeats: ackedInWindow, heartbeatsPerSecond: Math.round(ackedInWindow / seconds), ackLatencyMs: distribution(latencies),
      refused, recordsOnTopic: records - before, disconnectsSeconds: Math.round(disconnectsSeconds * 10) / 10,
      gatewayCores: Math.round(cores * 100) / 100, rssMiBIdle: MiB(rssIdle), rssMiBWithSockets: MiB(rssWithSockets),
      bytesPerSocketRss: Math.round(((rssWithSockets - rssIdle) * 1024) / cfg.gatewaySockets),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await gateway.stop();
  }
}
