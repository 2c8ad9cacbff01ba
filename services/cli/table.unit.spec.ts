import { formatInstant, formatStreamRow, formatTable } from './table';

describe('formatTable', () => {
  it('pads every column to its widest cell, right-aligns where asked and marks empty cells', () => {
    const text = formatTable(
      [{ header: 'USER' }, { header: 'STATUS' }, { header: 'DEVICES', align: 'right' }],
      [['ana', 'Online', '2'], ['bartholomew', 'DoNotDisturb', '10'], ['cy', '', '0']],
    );
    expect(text).toBe([
      'USER         STATUS        DEVICES',
      'ana          Online              2',
      'bartholomew  DoNotDisturb       10',
      'cy           -                   0',
      '',
    ].join('\n'));
  });

  it('counts code points, not UTF-16 units, and flattens control characters', () => {
    const text = formatTable([{ header: 'A' }, { header: 'B' }], [['😀x', 'y'], ['tab\there', 'z']]);
    expect(text.split('\n')).toEqual(['A         B', '😀x        y', 'tab here  z', '']);
  });

  it('prints only the header for no rows', () => {
    expect(formatTable([{ header: 'USER' }, { header: 'STATUS' }], [])).toBe('USER  STATUS\n');
  });
});

describe('formatStreamRow', () => {
  it('pads to fixed widths and never cuts a wider cell', () => {
    expect(formatStreamRow([4, 6, 3], ['ab', 'Online', 'x'])).toBe('ab    Online  x\n');
    expect(formatStreamRow([2, 3], ['abcdef', 'x'])).toBe('abcdef  x\n');
  });
});

describe('formatInstant', () => {
  const now = Date.UTC(2025, 0, 2, 12, 0, 0);
  it('shows UTC to the second and the distance to now', () => {
    expect(formatInstant(now - 90_000, now)).toBe('2025-01-02T11:58:30Z (1m30s ago)');
    expect(formatInstant(now + 3_600_000, now)).toBe('2025-01-02T13:00:00Z (in 1h)');
    expect(formatInstant(now, now)).toBe('2025-01-02T12:00:00Z (now)');
    expect(formatInstant(null, now)).toBe('-');
  });
});
