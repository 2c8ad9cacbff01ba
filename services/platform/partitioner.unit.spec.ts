import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { KeyHashPartitioner, keyHash, murmur2 } from './partitioner';

const metadata = (n: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

/** Deterministic pseudo-random keys of every length 0..64, ASCII and not. */
function keys(): Array<string | Buffer> {
  const out: Array<string | Buffer> = ['', 'a', 'ab', 'abc', 'abcd', 'user-1', 'zoë', '用户-42', '🙂🙂', 'r/document/42'];
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let len = 0; len <= 64; len++) {
    for (let k = 0; k < 20; k++) {
      out.push(Array.from({ length: len }, () => String.fromCharCode(32 + (next() % 95))).join(''));
      out.push(Array.from({ length: len }, () => String.fromCodePoint([0x41, 0xe9, 0x4e2d, 0x1f600][next() % 4] as number)).join(''));
    }
    out.push(randomBytes(len));
  }
  out.push('x'.repeat(5000)); // longer than the reused encoding buffer
  return out;
}

describe('KeyHashPartitioner', () => {
  // Known values of the Java client's Utils.murmur2 (kafka clients' UtilsTest).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ])('murmur2(%j) is the Java client\'s %d', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
    expect(keyHash(key)).toBe(expected);
  });

  it.each([1, 2, 3, 6, 7, 12, 64, 1009])('chooses the partition kafkajs\' default partitioner chooses, for every key, with %d partitions', (n) => {
    const ours = KeyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const partitionMetadata = metadata(n);
    for (const key of keys()) {
      const args = { topic: 't', partitionMetadata, message: { key, value: null } };
      expect([key, ours(args)]).toEqual([key, theirs(args)]);
    }
  });

  it('an explicit partition wins, as in kafkajs', () => {
    const ours = KeyHashPartitioner();
    expect(ours({ topic: 't', partitionMetadata: metadata(6), message: { key: 'user-1', value: null, partition: 4 } })).toBe(4);
  });

  it('keyless messages are spread over the available partitions by kafkajs\' own round robin', () => {
    const ours = KeyHashPartitioner();
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++) seen.add(ours({ topic: 't', partitionMetadata: metadata(6), message: { key: null, value: null } }));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
