import { keyOf } from './apply-batch';

describe('keyOf: a heartbeat record\'s key, as a string', () => {
  it.each<[string, Buffer | null, unknown, string | null]>([
    ['the ASCII userId itself', Buffer.from('user-42'), 'user-42', 'user-42'],
    ['another id of the same length', Buffer.from('user-43'), 'user-42', 'user-43'],
    ['a shorter key', Buffer.from('user-4'), 'user-42', 'user-4'],
    ['a non-ASCII id (decoded, equal)', Buffer.from('üser-42'), 'üser-42', 'üser-42'],
    ['bytes that read as the id in Latin-1 only', Buffer.from('é', 'latin1'), 'é', Buffer.from('é', 'latin1').toString()],
    ['no key', null, 'user-42', null],
    ['a value without a string userId', Buffer.from('k'), 7, 'k'],
    ['an empty key and id', Buffer.alloc(0), '', ''],
  ])('%s', (_name, key, userId, expected) => {
    expect(keyOf(key, userId)).toBe(expected);
    // Whatever the path, the result is the key decoded as UTF-8.
    expect(keyOf(key, userId)).toBe(key === null ? null : key.toString());
  });

  it('returns the value\'s own string when the bytes match (no second copy)', () => {
    const userId = ['user', '42'].join('-');
    expect(Object.is(keyOf(Buffer.from('user-42'), userId), userId)).toBe(true);
  });
});
