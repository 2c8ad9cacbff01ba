/** Admin-side measurements and housekeeping of the bench: offsets, lag, fresh output topics, cleanup. */
import type { Admin } from 'kafkajs';
import { createTopicsAndWait } from '../../services/contract/provision';
import { TOPICS, topicName, type TopicRole } from '../../services/contract/topics';

const sumOffsets = (offsets: ReadonlyArray<{ offset: string }>) => offsets.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);

/** Sum over partitions of the group's committed offsets on `topic` (uncommitted partitions count 0). */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  return sumOffsets(res.flatMap((t) => t.partitions));
}

/** Sum over partitions of the high watermark. */
export async function endTotal(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
}

/** Records not yet committed by the group on `topics`. */
export async function groupLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<number> {
  let lag = 0;
  for (const topic of topics) lag += (await endTotal(admin, topic)) - (await committedTotal(admin, groupId, topic));
  return lag;
}

/**
 * Replaces the given topics of a prefix by empty ones with the contract's config. The two guarantee
 * modes read the same pre-filled input, but each must start like a fresh deployment: with its own
 * empty changelog (or it would restore the other mode's state first) and empty outputs.
 */
export async function recreateTopics(admin: Admin, prefix: string, roles: readonly TopicRole[], partitions: number): Promise<void> {
  const names = roles.map((r) => topicName(r, prefix));
  await admin.deleteTopics({ topics: names, timeout: 30_000 });
  for (let attempt = 0; ; attempt++) {
    try {
      await createTopicsAndWait(admin, roles.map((role) => ({
        topic: topicName(role, prefix), numPartitions: partitions, replicationFactor: 1,
        configEntries: Object.entries(TOPICS[role].config).map(([name, value]) => ({ name, value })),
      })));
      return;
    } catch (e) {
      // A deletion is asynchronous in the controller: the name may still be taken for a moment.
      if (attempt >= 50 || !/exists|marked for deletion/i.test(String((e as Error).message ?? e))) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Deletes every topic and consumer group whose name contains `runId`; best effort. */
export async function deleteRunArtifacts(admin: Admin, runId: string): Promise<{ topics: number; groups: number }> {
  const topics = (await admin.listTopics()).filter((t) => t.includes(runId));
  if (topics.length) await admin.deleteTopics({ topics, timeout: 60_000 }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(runId));
  if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
  return { topics: topics.length, groups: groups.length };
}

/**
 * Deletes one phase's topics once it is measured: left in place, a finished phase's compacted
 * topics (hundreds of thousands of records) are cleaned by the broker while later phases run.
 */
export async function deletePhaseTopics(admin: Admin, prefix: string): Promise<number> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics, timeout: 60_000 }).catch(() => undefined);
  return topics.length;
}

/** Deletes the registry subjects registered under the run's prefixes (soft, then permanent); best effort. */
export async function deleteSubjects(registryUrl: string, runId: string): Promise<number> {
  const res = await fetch(`${registryUrl}/subjects`);
  if (!res.ok) return 0;
  const subjects = ((await res.json()) as string[]).filter((s) => s.includes(runId));
  for (const s of subjects) {
    const url = `${registryUrl}/subjects/${encodeURIComponent(s)}`;
    await fetch(url, { method: 'DELETE' }).catch(() => undefined);
    await fetch(`${url}?permanent=true`, { method: 'DELETE' }).catch(() => undefined);
  }
  return subjects.length;
}
