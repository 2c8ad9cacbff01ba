/**
 * `presence dlq [--max N] [--follow]`: every dead letter on presence.dlq.v1 from the beginning, with
 * where the record came from (topic, partition, offset), its code, field and reason, and what the
 * code means. JSON lines with --json (original bytes: key as text, value as base64).
 */
import type { DeadLetter } from '../../contract/avro-types';
import type { CliCommand } from '../args';
import { describe } from '../connections';
import { detailedCode, explainDeadLetter } from '../explain';
import { formatStreamRow } from '../table';
import type { CommandContext } from './context';
import { readTopic } from './read-topic';

const WIDTHS = [10, 20, 17, 36, 24, 12] as const;

export interface DeadLetterLine {
  readonly dlqPartition: number;
  readonly dlqOffset: number;
  readonly failedAt: number;
  readonly service: string;
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly sourceOffset: number;
  readonly errorCode: string;
  readonly detailedCode: string;
  readonly field: string | null;
  readonly reason: string;
  readonly explanation: string;
  readonly key: string | null;
  readonly valueBase64: string | null;
  readonly valueBytes: number;
}

export async function runDlq(cmd: Extract<CliCommand, { name: 'dlq' }>, ctx: CommandContext): Promise<void> {
  const serde = await ctx.connections().serde();
  let printed = 0;
  let total = 0;
  await readTopic(ctx, {
    role: 'dlq', from: 'earliest', until: cmd.follow ? 'live' : 'end',
    onCaughtUp: (topic) => {
      if (cmd.follow) ctx.out.note(`read ${printed} dead letter${printed === 1 ? '' : 's'} of ${topic}; following, Ctrl-C stops`);
    },
    onRecord: async (partition, m) => {
      total++;
      let letter: DeadLetter;
      try {
        letter = await serde.decode('dlq', m.value);
      } catch (e) {
        ctx.out.note(`skipped dead-letter partition ${partition} offset ${m.offset}: ${describe(e)}`);
        return 'more';
      }
      const line = deadLetterLine(partition, Number(m.offset), letter);
      ctx.out.record(line, () => deadLetterRows(line), deadLetterHeader);
      printed++;
      return cmd.max !== null && printed >= cmd.max ? 'stop' : 'more';
    },
  });
  if (!cmd.follow && total === 0) ctx.out.note(`no dead letters on ${ctx.connections().topic('dlq')}`);
}

export function deadLetterLine(dlqPartition: number, dlqOffset: number, d: DeadLetter): DeadLetterLine {
  return {
    dlqPartition, dlqOffset, failedAt: d.failedAt, service: d.service,
    sourceTopic: d.sourceTopic, sourcePartition: d.sourcePartition, sourceOffset: d.sourceOffset,
    errorCode: d.errorCode, detailedCode: detailedCode(d.errorCode, d.reason), field: d.field, reason: d.reason,
    explanation: explainDeadLetter(d.errorCode, d.field, d.reason),
    key: d.key === null ? null : d.key.toString('utf8'), valueBase64: d.value === null ? null : d.value.toString('base64'), valueBytes: d.value?.length ?? 0,
  };
}

export const deadLetterHeader = (): string => formatStreamRow(WIDTHS, ['DLQ', 'FAILED AT', 'SERVICE', 'SOURCE', 'CODE', 'FIELD', 'REASON']);

/** A row, then the explanation indented under it. */
export function deadLetterRows(l: DeadLetterLine): string {
  const failedAt = new Date(l.failedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return formatStreamRow(WIDTHS, [`${l.dlqPartition}@${l.dlqOffset}`, failedAt, l.service, `${l.sourceTopic}[${l.sourcePartition}]@${l.sourceOffset}`, l.detailedCode, l.field ?? '-', l.reason])
    + `    meaning: ${l.explanation}\n`;
}
