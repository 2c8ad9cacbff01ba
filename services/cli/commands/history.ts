/**
 * `presence history <user> [--since 2h | --from T [--to T]]`: the history service's status
 * intervals of the user in the window (status, from, to, duration, cause, who set a manual status
 * and why), then the settings written in it (the audit). --json prints the service's answer.
 */
import type { CliCommand } from '../args';
import { formatDuration } from '../duration';
import type { HistoryActor, HistoryBody } from '../history-client';
import { formatInstant, formatTable } from '../table';
import type { CommandContext } from './context';

export async function runHistory(cmd: Extract<CliCommand, { name: 'history' }>, ctx: CommandContext): Promise<void> {
  const now = ctx.clock();
  const w = cmd.window;
  const from = 'sinceMs' in w ? now - w.sinceMs : w.from;
  // The service answers nothing after now; a window ending later is clipped there.
  const to = 'sinceMs' in w ? now : (w.to ?? now);
  if (to <= from) {
    ctx.out.document({ userId: cmd.user, from, to, intervals: [], settings: [] }, () => `${cmd.user}: the window starts in the future; nothing is known yet\n`);
    return;
  }
  const body = await ctx.history().history(cmd.user, from, to);
  ctx.out.document(body, () => historyTable(body, now));
}

/** `user:alice`, `admin:ops`; a dash when not recorded. */
export const actorCell = (a: HistoryActor | null): string => (a === null ? '' : `${a.kind}:${a.id}`);

export function historyTable(h: HistoryBody, now: number): string {
  const head = `${h.userId}: ${h.intervals.length} interval${h.intervals.length === 1 ? '' : 's'} from ${formatInstant(h.from, now)} to ${formatInstant(h.to, now)}\n`;
  const intervals = formatTable(
    [{ header: 'STATUS' }, { header: 'FROM' }, { header: 'TO' }, { header: 'DURATION', align: 'right' }, { header: 'CAUSE' }, { header: 'SET BY' }, { header: 'REASON' }],
    h.intervals.map((iv) => [
      iv.status, formatInstant(iv.from, now), formatInstant(iv.to, now), formatDuration(iv.to - iv.from), iv.cause ?? '',
      iv.setBy === null ? '' : `${actorCell(iv.setBy.actor) || 'unrecorded'} (${iv.setBy.status})`, iv.setBy?.reason ?? '',
    ]),
  );
  if (h.settings.length === 0) return `${head}${intervals}`;
  const settings = formatTable(
    [{ header: 'SET AT' }, { header: 'SETTING' }, { header: 'VALUE' }, { header: 'ACTOR' }, { header: 'REASON' }],
    h.settings.map((s) => [formatInstant(s.at, now), s.kind, s.customText ? `${s.value} ${JSON.stringify(s.customText)}` : s.value, actorCell(s.actor), s.reason ?? '']),
  );
  return `${head}${intervals}\nsettings written in the window:\n${settings}`;
}
