/**
 * Fast heartbeat encoding for the load generators. AvroSerde.encode is async per record (a
 * registry-client round through promises), which at millions of records costs more CPU than the
 * processor we want to measure. The wire format is just magic byte + schema id + Avro body, so we
 * take the 5-byte header from one AvroSerde-encoded record and encode bodies synchronously with
 * avsc and the same schema, then prove on samples that the bytes are identical to AvroSerde's:
 * what we send is exactly what a gateway would.
 */
import type { Type } from 'avsc';
import type { PresenceHeartbeat } from '../../services/contract/avro-types';
import { avroType } from '../../services/contract/schemas';
import type { AvroSerde } from '../../services/contract/serde';

export class HeartbeatEncoder {
  private constructor(private readonly header: Buffer, private readonly type: Type) {}

  static async create(serde: AvroSerde, sample: PresenceHeartbeat): Promise<HeartbeatEncoder> {
    const reference = await serde.encode('heartbeat', sample);
    const encoder = new HeartbeatEncoder(reference.subarray(0, 5), avroType('presence.v1.PresenceHeartbeat'));
    await encoder.verify(serde, [sample]);
    return encoder;
  }

  encode(value: PresenceHeartbeat): Buffer {
    return Buffer.concat([this.header, this.type.toBuffer(value)]);
  }

  /** Throws unless every sample encodes byte for byte as AvroSerde encodes it. */
  async verify(serde: AvroSerde, samples: readonly PresenceHeartbeat[]): Promise<void> {
    for (const s of samples) {
      const expected = await serde.encode('heartbeat', s);
      if (!expected.equals(this.encode(s))) {
        throw new Error(`fast heartbeat encoding differs from AvroSerde for ${JSON.stringify(s)}`);
      }
    }
  }
}
