/**
 * A registry that accepts connections and never answers must fail a request within the deadline
 * (the registry client has no timeout of its own; a start once hung on it until jest gave up).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { createRegistry } from './serde';

describe('registry requests', () => {
  let server: Server;
  let received = 0;
  beforeAll(async () => {
    server = createServer(() => void received++); // reads the request, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('fail within their deadline when the registry does not answer', async () => {
    const { port } = server.address() as AddressInfo;
    const registry = createRegistry(`http://127.0.0.1:${port}`, 300);
    const started = Date.now();
    const outcome = await registry
      .register({ type: SchemaType.AVRO, schema: '{"type":"record","name":"Silent","fields":[]}' }, { subject: 'silent-value' })
      .then(() => 'answered', (e: unknown) => String(e));
    expect(outcome).toMatch(/timeout/i);
    expect(received).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
