/**
 * The notification gate as a process (main.ts): configured from the environment, ready over
 * /readyz, decides with configured channel classes, stops cleanly on SIGTERM, refuses bad config.
 */
import type { NotificationRequest } from '../contract/avro-types';
import { topicName } from '../contract/topics';
import { freePort, provisionPrefix, spawnService, testKafka, uniquePrefix, waitFor, consumeMessages } from '../../test/helpers';

const spawnGate = (extra: Record<string, string>) => spawnService('services/notification-gate/main.ts', extra);

describe('notification-gate main', () => {
  it('starts from the environment, decides with the configured classes, and exits 0 on SIGTERM', async () => {
    const prefix = uniquePrefix('gate-main');
    const { serde } = await provisionPrefix(prefix, 2);
    const port = await freePort();
    const gate = spawnGate({
      TOPIC_PREFIX: prefix, GATE_GROUP_ID: `${prefix}gate`, GATE_HTTP_PORT: String(port), GATE_SESSION_TIMEOUT_MS: '6000',
      GATE_CHANNEL_CLASSES: JSON.stringify({ push: ['mobile-push'], storeAndForward: ['pager'] }),
    });
    const producer = testKafka().producer();
    await producer.connect();
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 'the gate process to be ready', 60_000);
      const req = (requestId: string, channel: string): NotificationRequest => ({ requestId, userId: 'gus', channel, bypassDoNotDisturb: false, requestedAt: Date.now() });
      await producer.send({
        topic: topicName('notificationRequest', prefix),
        messages: await Promise.all([req('m1', 'pager'), req('m2', 'email'), req('m3', 'mobile-push')].map(async (r) => ({ key: r.userId, value: await serde.encode('notificationRequest', r) }))),
      });
      const kafka = testKafka();
      const decisions = await Promise.all((await consumeMessages(kafka, topicName('notificationDecision', prefix), 2)).map((m) => serde.decode('notificationDecision', m.value)));
      expect(decisions.map((d) => [d.requestId, d.deliver, d.reason, d.userKnown])).toEqual([
        ['m1', true, 'store-and-forward', false],
        ['m3', false, 'unknown-user-offline', false],
      ]);
      const [letter] = await Promise.all((await consumeMessages(kafka, topicName('dlq', prefix), 1)).map((m) => serde.decode('dlq', m.value)));
      expect(letter).toMatchObject({ errorCode: 'rejected', field: 'channel', reason: "unknown-channel: unknown channel 'email'", service: 'notification-gate' });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('presence_gate_decisions_total{reason="store-and-forward",deliver="true"} 1');
      expect(metrics).toContain('presence_gate_dlq_total{code="rejected"} 1');

      gate.child.kill('SIGTERM');
      expect(await gate.exited).toBe(0);
    } finally {
      if (gate.child.exitCode === null && gate.child.signalCode === null) gate.child.kill('SIGKILL');
      await producer.disconnect();
    }
  });

  it('refuses bad configuration at start, naming the variable', async () => {
    const gate = spawnGate({ GATE_CHANNEL_CLASSES: '{"push":["sms"],"storeAndForward":["sms"]}' });
    expect(await gate.exited).toBe(1);
    expect(gate.stderr()).toContain('GATE_CHANNEL_CLASSES.storeAndForward: channels in both classes: sms');
  });
});
