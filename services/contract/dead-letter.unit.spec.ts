import { MAX_DEAD_LETTER_BYTES, deadLetterOf } from './dead-letter';

const why = { code: 'undecodable', field: null, reason: 'not framed' };

describe('deadLetterOf', () => {
  it('keeps where the record came from, why, and its bytes', () => {
    const key = Buffer.from('ana');
    const value = Buffer.from([1, 2, 3]);
    expect(deadLetterOf({ topic: 't', partition: 2, offset: '41', key, value }, why, 'processor', 9)).toEqual({
      sourceTopic: 't', sourcePartition: 2, sourceOffset: 41, key, value, errorCode: 'undecodable', field: null, reason: 'not framed', service: 'processor', failedAt: 9,
    });
  });

  it.each([
    ['value', { key: null, value: Buffer.alloc(MAX_DEAD_LETTER_BYTES + 10, 7) }, `not framed (value cut from ${MAX_DEAD_LETTER_BYTES + 10} to ${MAX_DEAD_LETTER_BYTES} bytes)`],
    ['key and value', { key: Buffer.alloc(MAX_DEAD_LETTER_BYTES + 1), value: Buffer.alloc(MAX_DEAD_LETTER_BYTES * 15) },
      `not framed (key cut from ${MAX_DEAD_LETTER_BYTES + 1} to ${MAX_DEAD_LETTER_BYTES} bytes; value cut from ${MAX_DEAD_LETTER_BYTES * 15} to ${MAX_DEAD_LETTER_BYTES} bytes)`],
  ])('cuts an oversize %s and says so', (_name, bytes, reason) => {
    const d = deadLetterOf({ topic: 't', partition: 0, offset: '0', ...bytes }, why, 'gate', 1);
    expect(d.value?.length).toBe(MAX_DEAD_LETTER_BYTES);
    expect(d.key === null || d.key.length <= MAX_DEAD_LETTER_BYTES).toBe(true);
    expect(d.reason).toBe(reason);
  });

  it('an exact-size value is kept whole; a copy, not the fetch buffer', () => {
    const value = Buffer.alloc(MAX_DEAD_LETTER_BYTES, 1);
    const d = deadLetterOf({ topic: 't', partition: 0, offset: '0', key: null, value }, why, 'gate', 1);
    expect(d.value).toEqual(value);
    expect(d.value).not.toBe(value);
    expect(d.reason).toBe('not framed');
  });
});
