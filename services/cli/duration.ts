/**
 * Durations as people type them on a command line: a positive whole number and a unit
 * (`90s`, `30m`, `2h`, `1d`, `1w`), or several in descending order (`1h30m`). Plain numbers are
 * refused: "--for 5" could mean anything.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;
const ORDER: readonly Unit[] = ['w', 'd', 'h', 'm', 's', 'ms'];

export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string };

/** `1h` → 3 600 000. Each unit at most once, largest first; the total must be above zero. */
export function parseDuration(text: string): DurationResult {
  const t = text.trim();
  const bad = (reason: string): DurationResult => ({ ok: false, reason: `${JSON.stringify(text)} ${reason}` });
  if (t === '') return bad('is empty; expected e.g. 30m, 1h, 1h30m, 2d');
  const parts = [...t.matchAll(/(\d+)(ms|[smhdw])/g)];
  if (parts.map((p) => p[0]).join('') !== t) return bad('is not a duration; expected a number and a unit (ms, s, m, h, d, w), e.g. 30m, 1h, 1h30m');
  let ms = 0;
  let last = -1;
  for (const p of parts) {
    const unit = p[2] as Unit;
    const at = ORDER.indexOf(unit);
    if (at <= last) return bad('repeats a unit or puts a smaller unit before a larger one (write 1h30m, not 30m1h)');
    last = at;
    ms += Number(p[1]) * UNIT_MS[unit];
  }
  if (!Number.isSafeInteger(ms)) return bad('is too long');
  if (ms <= 0) return bad('must be longer than zero');
  return { ok: true, ms };
}

/** A short rendering for tables: the two largest non-zero units (`1h30m`, `2d3h`, `45s`, `0s`). */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(Math.abs(ms)));
  if (rest < 1_000) return rest === 0 ? '0s' : `${rest}ms`;
  const out: string[] = [];
  for (const unit of ORDER) {
    if (unit === 'ms' || out.length === 2) break;
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0 || out.length > 0) {
      if (n > 0) out.push(`${n}${unit}`);
      else if (out.length > 0) break;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out.join('');
}
