import { formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['1h', 3_600_000], ['30m', 1_800_000], ['2h', 7_200_000], ['90s', 90_000], ['1d', 86_400_000], ['1w', 604_800_000],
    ['1h30m', 5_400_000], ['250ms', 250], ['1m30s', 90_000], [' 5m ', 300_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([
    ['', 'is empty'], ['5', 'is not a duration'], ['h', 'is not a duration'], ['1.5h', 'is not a duration'], ['-1h', 'is not a duration'],
    ['1 h', 'is not a duration'], ['1y', 'is not a duration'], ['30m1h', 'smaller unit before a larger'], ['1h1h', 'repeats a unit'],
    ['0m', 'longer than zero'], ['99999999999999999w', 'too long'],
  ])('refuses %j (%s)', (text, why) => {
    const r = parseDuration(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'], [250, '250ms'], [45_000, '45s'], [90_000, '1m30s'], [3_600_000, '1h'], [5_400_000, '1h30m'],
    [3_600_000 + 5_000, '1h'], [2 * 86_400_000 + 3 * 3_600_000 + 60_000, '2d3h'], [-60_000, '1m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
