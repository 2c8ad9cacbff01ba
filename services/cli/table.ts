/**
 * Readable tables for people, pure: columns padded to their widest cell (counted in code points),
 * numbers right-aligned, a dash for an empty cell. Streams (tail, dlq) use fixed widths instead,
 * so a row can be printed as it arrives.
 */
import { formatDuration } from './duration';

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

const EMPTY = '-';
const GAP = '  ';
const width = (s: string): number => [...s].length;
const pad = (s: string, w: number, align: 'left' | 'right') => (align === 'right' ? ' '.repeat(Math.max(0, w - width(s))) + s : s + ' '.repeat(Math.max(0, w - width(s))));
/** Control characters (a tab or newline in a custom text) would break the alignment. */
// eslint-disable-next-line no-control-regex
const clean = (s: string): string => (s === '' ? EMPTY : s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' '));

/** A table with a header row; every row must have one cell per column. Ends with a newline. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => columns.map((_, i) => clean(r[i] ?? '')));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((r) => width(r[i] as string))));
  const line = (r: readonly string[]) => r.map((cell, i) => pad(cell, widths[i] as number, columns[i]?.align ?? 'left')).join(GAP).trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].map((l) => `${l}\n`).join('');
}

/** One row of a stream at fixed widths (a cell wider than its column pushes the rest right, never cut). */
export function formatStreamRow(widths: readonly number[], cells: readonly string[]): string {
  return `${cells.map((c, i) => (i === cells.length - 1 ? clean(c) : pad(clean(c), widths[i] ?? 0, 'left'))).join(GAP).trimEnd()}\n`;
}

/** An instant for a table: UTC to the second, and how long ago (or from now) relative to `now`. */
export function formatInstant(ms: number | null, now: number): string {
  if (ms === null) return EMPTY;
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const d = now - ms;
  if (Math.abs(d) < 1_000) return `${iso} (now)`;
  return d > 0 ? `${iso} (${formatDuration(d)} ago)` : `${iso} (in ${formatDuration(-d)})`;
}
