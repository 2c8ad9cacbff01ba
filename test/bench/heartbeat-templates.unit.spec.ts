import { Type } from 'avsc';
import { avroType } from '../../services/contract/schemas';
import type { AvroSerde } from '../../services/contract/serde';
import { HeartbeatEncoder } from './encoder';
import { HeartbeatTemplates, writeAvroLong } from './heartbeat-templates';
import { Population } from './population';

const heartbeatType = avroType('presence.v1.PresenceHeartbeat');
const header = Buffer.from([0, 0, 0, 0, 42]);
/** AvroSerde's wire format without a registry: magic byte + schema id, then the avsc body. */
const serde = { encode: async (_: string, v: unknown) => Buffer.concat([header, heartbeatType.toBuffer(v)]) } as unknown as AvroSerde;
const longType = Type.forSchema('long');

describe('writeAvroLong', () => {
  it.each([0, 1, -1, 63, 64, -64, -65, 2 ** 31, -(2 ** 31) - 1, 1_764_000_000_000, 2 ** 52 - 1, -(2 ** 52)])('%p as avsc writes it', (n) => {
    const buf = Buffer.alloc(10);
    const end = writeAvroLong(buf, 0, n);
    expect(buf.subarray(0, end).toString('hex')).toBe(longType.toBuffer(n).toString('hex'));
  });
});

describe('HeartbeatTemplates', () => {
  it('encodes every session, beat and time as the schema does', async () => {
    const population = new Population(300, 'tpl');
    const sessions = population.sessions();
    const encoder = await HeartbeatEncoder.create(serde, population.heartbeatOf(0, 0, 0, 0, 0));
    const templates = HeartbeatTemplates.build(encoder, sessions.length, (i) => {
      const [u, d] = sessions[i] as readonly [number, number];
      return population.heartbeatOf(u, d, 0, 0, 0);
    });
    expect(templates.count).toBe(sessions.length);
    for (let s = 0; s < sessions.length; s++) {
      const [u, d] = sessions[s] as readonly [number, number];
      const hb = population.heartbeatOf(u, d, s % 5, 1_764_000_000_000 + s * 977, s * 60_000);
      expect(templates.keys[s]).toBe(hb.userId);
      expect(templates.encode(s, hb.observedAt, hb.idleMs).toString('hex')).toBe((await serde.encode('heartbeat', hb)).toString('hex'));
    }
  });

  it('keeps a heartbeat without a gateway', async () => {
    const hb = { ...new Population(1, 'tpl').heartbeatOf(0, 0, 0, 0, 0), gatewayId: null };
    const templates = HeartbeatTemplates.build(await HeartbeatEncoder.create(serde, hb), 1, () => hb);
    expect(templates.encode(0, 123_456_789_012, 5).equals(await serde.encode('heartbeat', { ...hb, observedAt: 123_456_789_012, idleMs: 5 }))).toBe(true);
  });
});
