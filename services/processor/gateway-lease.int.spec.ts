/**
 * A crashed gateway leaves no ghosts: a gateway process (main.ts) holding 20 socket sessions with a
 * 3 s lease is killed with SIGKILL; the processor (in-process) reads its lease run out and every
 * user whose only session was on it reads Offline on presence.snapshot.v1 within the lease plus a
 * few seconds, far before the 45 s offline threshold. A user with a second session on another,
 * live gateway stays Online.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DEFAULT_CONFIG } from '../core';
import type { GatewayLease, PresenceSnapshot } from '../contract/avro-types';
import { topicName } from '../contract/topics';
import { mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { freePort, provisionPrefix, spawnService, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { createProcessorMetrics } from './metrics';
import { startProcessor } from './processor';
import { LevelPartitionStore } from './store';

const SECRET = 'gateway-lease-test-secret-0123456789';
const LEASE_MS = 3_000;

async function gateway(prefix: string, id: string) {
  const port = await freePort();
  const proc = spawnService('services/gateway/main.ts', {
    TOPIC_PREFIX: prefix, GATEWAY_PORT: String(port), GATEWAY_ID: id, AUTH_JWT_SECRET: SECRET,
    GATEWAY_LEASE_MS: String(LEASE_MS), PRESENCE_OFFLINE_AFTER_MS: '45000', GATEWAY_COALESCE_MS: '0',
  });
  return { port, ...proc };
}

/** A socket session of `userId` on the gateway at `port`, after its first heartbeat was acknowledged. */
async function session(port: number, userId: string, deviceId: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?deviceId=${deviceId}&sessionId=${deviceId}-tab&platform=web&access_token=${await mintToken(SECRET, userId)}`);
  ws.on('error', () => undefined); // the gateway will be killed under it
  const acked = new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; id?: number };
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'heartbeat', idleMs: 0, id: 1 }));
      if (m.type === 'ack' && m.id === 1) resolve();
      if (m.type === 'error') reject(new Error(d.toString()));
    });
  });
  await acked;
  return ws;
}

describe('gateway leases', () => {
  it('a gateway killed with SIGKILL: its users read Offline within its lease, not at the offline threshold', async () => {
    const prefix = uniquePrefix('gwlease');
    const { serde } = await provisionPrefix(prefix, 2);
    const dir = mkdtempSync(join(tmpdir(), 'presence-gwlease-'));
    const latest = new Map<string, PresenceSnapshot>();
    const leases: GatewayLease[] = [];
    const watch = testKafka().consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
    await watch.connect();
    await watch.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: true });
    await watch.subscribe({ topic: topicName('gatewayLease', prefix), fromBeginning: true });
    await watch.run({
      eachMessage: async ({ topic, message }) => {
        if (topic === topicName('gatewayLease', prefix)) leases.push(await serde.decode('gatewayLease', message.value));
        else latest.set(message.key?.toString() ?? '', await serde.decode('snapshot', message.value));
      },
    });
    const cfg = { ...DEFAULT_CONFIG, offlineAfterMs: 45_000 };
    const processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: await LevelPartitionStore.open(dir), cfg, log: createLogger('processor', 'silent'),
      metrics: createProcessorMetrics(), prefix, groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 100,
    });
    const [a, b] = await Promise.all([gateway(prefix, 'gw-a'), gateway(prefix, 'gw-b')]);
    const sockets: WebSocket[] = [];
    try {
      await waitFor(() => processor.ready(), 'the processor to be ready', 30_000);
      for (const g of [a, b]) await waitFor(async () => (await fetch(`http://127.0.0.1:${g.port}/readyz`).catch(() => null))?.status === 200, 'a gateway process to be ready', 60_000);
      const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
      for (const u of users) sockets.push(await session(a.port, u, `${u}-laptop`));
      sockets.push(await session(b.port, 'user-0', 'user-0-phone')); // user-0 is also on the live gateway
      await waitFor(() => users.every((u) => latest.get(u)?.status === 'Online'), 'every user Online', 30_000);
      await waitFor(() => latest.get('user-0')?.devices.length === 2, 'user-0 Online on both gateways', 10_000);
      expect(leases.some((l) => l.gatewayId === 'gw-a' && l.leaseMs === LEASE_MS)).toBe(true);

      const killedAt = Date.now();
      a.child.kill('SIGKILL');
      await a.exited;
      const gone = users.slice(1);
      await waitFor(() => gone.every((u) => latest.get(u)?.status === 'Offline'), "gw-a's users Offline", LEASE_MS + 10_000);
      const tookMs = Date.now() - killedAt;
      // Within the lease plus a few seconds (renewal phase, lease read, timer, snapshot read): far below 45 s.
      expect(tookMs).toBeLessThan(LEASE_MS + 5_000);
      for (const u of gone) {
        const s = latest.get(u) as PresenceSnapshot;
        expect([s.devices, s.lastSeen !== null && s.lastSeen < killedAt]).toEqual([[], true]);
      }
      // user-0 keeps its session on gw-b: Online, with only that device.
      const zero = latest.get('user-0') as PresenceSnapshot;
      expect([zero.status, zero.devices.map((d) => d.deviceId)]).toEqual(['Online', ['user-0-phone']]);
      // gw-b is alive: it renewed after the kill and its lease never ran out.
      expect(leases.some((l) => l.gatewayId === 'gw-b' && l.renewedAt > killedAt)).toBe(true);
    } finally {
      for (const ws of sockets) ws.terminate();
      for (const g of [a, b]) if (g.child.exitCode === null && g.child.signalCode === null) g.child.kill('SIGKILL');
      await processor.stop();
      await watch.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
