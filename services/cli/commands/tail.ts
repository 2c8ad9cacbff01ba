/**
 * `presence tail [--user u]... [--from-beginning] [--max N]`: every effective-status transition on
 * presence.changes.v1 as it arrives (from the end, or from the beginning), optionally for some
 * users only; stops after N, or on Ctrl-C. JSON lines with --json.
 */
import type { PresenceChange } from '../../contract/avro-types';
import type { CliCommand } from '../args';
import { describe } from '../connections';
import { formatStreamRow } from '../table';
import type { CommandContext } from './context';
import { readTopic } from './read-topic';

const WIDTHS = [24, 16, 29, 6, 8] as const;

export async function runTail(cmd: Extract<CliCommand, { name: 'tail' }>, ctx: CommandContext): Promise<void> {
  const serde = await ctx.connections().serde();
  const only = new Set(cmd.users);
  let printed = 0;
  await readTopic(ctx, {
    role: 'changes', from: cmd.fromBeginning ? 'earliest' : 'latest', until: 'live',
    onCaughtUp: (topic, partitions) => ctx.out.note(`following ${topic} (${partitions} partitions)${only.size ? ` for ${[...only].join(', ')}` : ''}; Ctrl-C stops`),
    onRecord: async (partition, m) => {
      let change: PresenceChange;
      try {
        change = await serde.decode('changes', m.value);
      } catch (e) {
        ctx.out.note(`skipped partition ${partition} offset ${m.offset}: ${describe(e)}`);
        return 'more';
      }
      if (only.size > 0 && !only.has(change.userId)) return 'more';
      ctx.out.record({ ...change, partition, offset: Number(m.offset) }, () => changeRow(change), changeHeader);
      printed++;
      return cmd.max !== null && printed >= cmd.max ? 'stop' : 'more';
    },
  });
}

export const changeHeader = (): string => formatStreamRow(WIDTHS, ['AT', 'USER', 'CHANGE', 'CAUSE', 'VERSION']);

export function changeRow(c: PresenceChange): string {
  return formatStreamRow(WIDTHS, [new Date(c.at).toISOString(), c.userId, `${c.from} -> ${c.to}`, c.cause, String(c.version)]);
}
