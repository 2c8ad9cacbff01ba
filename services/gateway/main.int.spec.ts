/**
 * The gateway as a process (main.ts): configured from the environment, ready over /readyz, and on
 * SIGTERM it ends the sessions it holds (clean disconnects, no ghosts) before exiting 0; bad
 * configuration and an unreachable broker fail at start with a clear message.
 */
import WebSocket from 'ws';
import { mintToken } from '../platform/auth';
import { topicName } from '../contract/topics';
import { consumeMessages, freePort, provisionPrefix, spawnService, testKafka, uniquePrefix, waitFor } from '../../test/helpers';

const SECRET = 'gateway-main-test-secret-0123456789';
const spawnGateway = (extra: Record<string, string>) => spawnService('services/gateway/main.ts', { AUTH_JWT_SECRET: SECRET, ...extra });

describe('gateway main', () => {
  it('serves sockets from the environment and ends their sessions on SIGTERM, exiting 0', async () => {
    const prefix = uniquePrefix('gw-main');
    const { serde } = await provisionPrefix(prefix, 1);
    const port = await freePort();
    const gw = spawnGateway({ TOPIC_PREFIX: prefix, GATEWAY_PORT: String(port), GATEWAY_ID: 'gw-main' });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 'the gateway process to be ready', 60_000);
      const token = await mintToken(SECRET, 'ida');
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?deviceId=laptop&sessionId=tab-1&platform=web&access_token=${token}`);
      const messages: Array<{ type: string; id?: number; result?: string }> = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as { type: string }));
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      await waitFor(() => messages.some((m) => m.type === 'welcome'), 'the welcome');
      ws.send(JSON.stringify({ type: 'heartbeat', idleMs: 0, id: 1 }));
      await waitFor(() => messages.find((m) => m.id === 1), 'the ack');

      gw.child.kill('SIGTERM');
      expect(await gw.exited).toBe(0);
      expect(await closed).toBe(1001);
      const records = await Promise.all((await consumeMessages(testKafka(), topicName('heartbeat', prefix), 2)).map((m) => serde.decode('heartbeat', m.value)));
      expect(records.map((r) => [r.kind, r.userId, r.sessionId, r.gatewayId])).toEqual([['heartbeat', 'ida', 'tab-1', 'gw-main'], ['disconnect', 'ida', 'tab-1', 'gw-main']]);
      // Its lease: announced at start (10 s by default), and a last one with leaseMs 0 after the disconnects.
      const leaseRecords = await consumeMessages(testKafka(), topicName('gatewayLease', prefix), 2);
      const leases = await Promise.all(leaseRecords.map((m) => serde.decode('gatewayLease', m.value)));
      expect(leaseRecords.every((m) => m.key?.toString() === 'gw-main')).toBe(true);
      expect([leases[0]?.leaseMs, leases[leases.length - 1]?.leaseMs]).toEqual([10_000, 0]);
      expect(new Set(leases.map((l) => l.startedAt)).size).toBe(1);
    } finally {
      if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
    }
  });

  it('refuses bad configuration at start, naming the variable', async () => {
    const gw = spawnGateway({ GATEWAY_COALESCE_MS: '20000' });
    expect(await gw.exited).toBe(1);
    expect(gw.stderr()).toContain('GATEWAY_COALESCE_MS: must be less than the heartbeat interval (15000 ms)');
  });

  it('fails at start with a clear error when Kafka cannot be reached, instead of hanging', async () => {
    const gw = spawnGateway({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, GATEWAY_PUBLISH_TIMEOUT_MS: '2000', GATEWAY_PORT: '0' });
    expect(await gw.exited).toBe(1);
    expect(gw.stderr()).toMatch(/connecting the publisher to Kafka/);
  });
});
