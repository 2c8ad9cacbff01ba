/**
 * Heartbeats of a fixed set of sessions, encoded from per-session templates: a live load at 60,000
 * records/s spent most of its CPU building id strings and Avro bodies that never change between one
 * session's beats (the bench's load generator delivered 46,790/s at 0.75 cores, so the live-capacity
 * phase measured the generator, not the processor). A heartbeat's Avro body is its fixed fields
 * (kind, userId, deviceId, sessionId, platform), then observedAt and idleMs (zigzag varints), then
 * gatewayId: the fixed head of every session is encoded once with avsc into one slab, the tail once
 * per gateway, and each beat writes head + two varints + tail. `verify` proves the bytes equal
 * AvroSerde's on samples (HeartbeatEncoder.verify).
 */
import type { PresenceHeartbeat } from '../../services/contract/avro-types';
import type { HeartbeatEncoder } from './encoder';

/** Zigzag varint of a safe integer (Avro's long), written at `at`; returns the offset after it. */
export function writeAvroLong(buf: Buffer, at: number, n: number): number {
  // Zigzag without 32-bit operators: timestamps exceed 2^31.
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    buf[at++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[at++] = z;
  return at;
}

/** The longest zigzag varint of a safe integer. */
const MAX_LONG_BYTES = 8;

export class HeartbeatTemplates {
  private constructor(
    private readonly heads: Buffer,
    private readonly headStart: Uint32Array,
    private readonly tails: readonly Buffer[],
    private readonly tailOf: Uint8Array,
    readonly keys: readonly string[],
  ) {}

  /**
   * One template per `sample(i)`, i < count: its fields other than observedAt and idleMs are the
   * session's for every beat.
   */
  static build(encoder: HeartbeatEncoder, count: number, sample: (i: number) => PresenceHeartbeat): HeartbeatTemplates {
    const heads: Buffer[] = [];
    const headStart = new Uint32Array(count + 1);
    const tailIndex = new Map<string, number>();
    const tails: Buffer[] = [];
    const tailOf = new Uint8Array(count);
    const keys: string[] = new Array(count);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const hb = sample(i);
      const full = encoder.encode({ ...hb, observedAt: 0, idleMs: 0 });
      // observedAt 0 and idleMs 0 are one byte each (0x00 0x00): the head before them, the tail after.
      const tailLength = gatewayTailLength(hb.gatewayId ?? null);
      const head = full.subarray(0, full.length - tailLength - 2);
      const tail = full.subarray(full.length - tailLength);
      const tailKey = tail.toString('latin1');
      let t = tailIndex.get(tailKey);
      if (t === undefined) {
        if (tails.length === 255) throw new Error('heartbeat templates: more than 255 distinct gateway tails');
        t = tails.length;
        tailIndex.set(tailKey, t);
        tails.push(Buffer.from(tail));
      }
      tailOf[i] = t;
      heads.push(head);
      headStart[i] = total;
      total += head.length;
      keys[i] = hb.userId;
    }
    headStart[count] = total;
    return new HeartbeatTemplates(Buffer.concat(heads, total), headStart, tails, tailOf, keys);
  }

  get count(): number {
    return this.keys.length;
  }

  /** The encoded heartbeat of template i with these two fields. */
  encode(i: number, observedAt: number, idleMs: number): Buffer {
    const start = this.headStart[i] as number;
    const end = this.headStart[i + 1] as number;
    const tail = this.tails[this.tailOf[i] as number] as Buffer;
    const out = Buffer.allocUnsafe(end - start + 2 * MAX_LONG_BYTES + tail.length);
    this.heads.copy(out, 0, start, end);
    let at = writeAvroLong(out, end - start, observedAt);
    at = writeAvroLong(out, at, idleMs);
    at += tail.copy(out, at);
    return out.subarray(0, at);
  }
}

/** Bytes of the gatewayId union at the end of a heartbeat body: branch index, then the string. */
function gatewayTailLength(gatewayId: string | null): number {
  if (gatewayId === null) return 1;
  const n = Buffer.byteLength(gatewayId, 'utf8');
  const lengthBytes = Buffer.alloc(MAX_LONG_BYTES + 1);
  return 1 + writeAvroLong(lengthBytes, 0, n) + n;
}
