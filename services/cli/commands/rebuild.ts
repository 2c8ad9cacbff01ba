/**
 * `presence rebuild --to-prefix <p> [--from-prefix <q>]`: replays the retained input topics of the
 * source prefix (TOPIC_PREFIX by default) into the outputs of a fresh prefix, through the live
 * processor's own code and its journal (services/processor/rebuild.ts), and exits once the inputs
 * are read to the ends they had at the start. Provisions the target prefix (topics with the
 * source's partition count, schemas under its subjects) and refuses one whose outputs already hold
 * records. Prints what it did: steps, records, transitions, snapshots.
 */
import { provisionTopics } from '../../contract/provision';
import { TOPICS, topicName, type TopicRole } from '../../contract/topics';
import { createLogger } from '../../platform/log';
import { rebuild, type RebuildSummary } from '../../processor/rebuild';
import type { CliCommand } from '../args';
import { describe } from '../connections';
import { CliError, UnreachableError, UsageError } from '../errors';
import { formatTable } from '../table';
import type { CommandContext } from './context';

/** The outputs a rebuild writes: a target where any of them holds records is not fresh. */
const OUTPUTS: readonly TopicRole[] = ['snapshot', 'roomSnapshot', 'changes', 'roomChanges', 'dlq'];

export async function runRebuild(cmd: Extract<CliCommand, { name: 'rebuild' }>, ctx: CommandContext): Promise<void> {
  const from = cmd.fromPrefix ?? ctx.env.TOPIC_PREFIX;
  const to = cmd.toPrefix;
  if (from === to) throw new UsageError('--to-prefix', `must differ from the source prefix ${JSON.stringify(from)} (TOPIC_PREFIX or --from-prefix): a rebuild writes into a fresh prefix`);
  const c = ctx.connections();
  const source = topicName('heartbeat', from);
  const partitions = await c.withAdmin(async (admin) => {
    try {
      const existing = new Set(await admin.listTopics());
      if (!existing.has(source)) {
        throw new CliError('CONFIG', `nothing to rebuild from: topic ${source} does not exist (source prefix ${JSON.stringify(from)}, from TOPIC_PREFIX or --from-prefix)`, 1);
      }
      for (const role of OUTPUTS) {
        const topic = topicName(role, to);
        if (!existing.has(topic)) continue;
        const held = (await admin.fetchTopicOffsets(topic)).some((o) => BigInt(o.high) > BigInt(o.low));
        if (held) throw new CliError('CONFIG', `--to-prefix ${JSON.stringify(to)}: ${topic} already holds records; a rebuild writes into a fresh prefix`, 1);
      }
      const n = (await admin.fetchTopicMetadata({ topics: [source] })).topics[0]?.partitions.length ?? 0;
      await provisionTopics(admin, { prefix: to, partitions: n, replicationFactor: ctx.env.TOPIC_REPLICATION_FACTOR });
      return n;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new UnreachableError(`cannot prepare the rebuild on Kafka at ${ctx.env.KAFKA_BROKERS.join(',')} (KAFKA_BROKERS): ${describe(e)}`, e);
    }
  });
  const [fromSerde, toSerde] = [await c.serde(from), await c.serde(to)];
  ctx.out.note(`rebuilding ${partitions} partitions of ${JSON.stringify(from)} into ${JSON.stringify(to)} (${TOPICS.snapshot.name}, ${TOPICS.changes.name}, ...)`);
  let summary: RebuildSummary;
  try {
    summary = await rebuild({
      kafka: c.kafka, from: { prefix: from, serde: fromSerde }, to: { prefix: to, serde: toSerde }, cfg: ctx.presence,
      log: createLogger('rebuild', ctx.env.LOG_LEVEL), clock: ctx.clock,
      onPartition: (p) => ctx.out.note(`partition ${p.partition}: ${p.steps} steps, ${p.records} records, ${p.transitions} transitions, ${p.snapshots} snapshots`),
    });
  } catch (e) {
    throw new UnreachableError(`rebuild into ${JSON.stringify(to)} failed (start again on a fresh --to-prefix): ${describe(e)}`, e);
  }
  if (!summary.journal) ctx.out.note(`no journal under ${JSON.stringify(from)}: replayed on stream time, not equal to the live run`);
  else if (summary.unjournaled > 0) ctx.out.note(`${summary.unjournaled} records were not in the journal: applied on stream time`);
  ctx.out.document(summary, () => rebuildTable(summary));
}

export function rebuildTable(s: RebuildSummary): string {
  return `rebuilt ${JSON.stringify(s.fromPrefix)} into ${JSON.stringify(s.toPrefix)}${s.journal ? '' : ' (no journal: on stream time)'}\n` + formatTable(
    [{ header: 'PARTITIONS' }, { header: 'STEPS' }, { header: 'RECORDS' }, { header: 'UNJOURNALED' }, { header: 'TRANSITIONS' }, { header: 'SNAPSHOTS' }, { header: 'ROOM SNAPSHOTS' }, { header: 'DEAD LETTERS' }],
    [[s.partitions, s.steps, s.records, s.unjournaled, s.transitions, s.snapshots, s.roomSnapshots, s.deadLetters].map(String)],
  );
}
