/**
 * A co-partitioned assignor: kafkajs' only built-in (round robin over topic-partitions) can give
 * heartbeat partition 2 to one member and override partition 2 to another whenever the partition
 * count does not divide evenly, splitting one user's state across two processors. This one assigns
 * partition *numbers* (tasks) round robin and gives each member every subscribed topic's partition
 * of its tasks, like Kafka Streams' task assignment.
 *
 * A member only ever gets partitions of topics it subscribed to (its group metadata lists them).
 * Two deployments that share a group id by mistake (different TOPIC_PREFIX, same group) are then
 * assigned their own topics only; members with the same subscription share whole tasks among
 * themselves, and a topic nobody subscribed to is assigned to nobody.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/** A group member and the topics it subscribed to. */
export interface Subscriber {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/**
 * The plan: member → topic → partitions. A bare member id means "subscribed to every topic" (the
 * single-deployment case). For each partition number, the topics that have it are grouped by the
 * exact set of members subscribed to them; each group's task goes to one of those members, round
 * robin per group, so co-subscribed topics stay together and nobody gets a topic it did not ask for.
 */
export function assignTasks(
  members: readonly (string | Subscriber)[],
  topicPartitions: Record<string, number[]>,
): Map<string, Record<string, number[]>> {
  const all = Object.keys(topicPartitions);
  const subs = members
    .map((m) => (typeof m === 'string' ? { memberId: m, topics: all } : m))
    .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const out = new Map<string, Record<string, number[]>>(subs.map((m) => [m.memberId, {}]));
  // topic → sorted subscriber ids; topics grouped by that list (the key).
  const subscribersOf = new Map<string, string[]>();
  for (const topic of all) subscribersOf.set(topic, subs.filter((m) => m.topics.includes(topic)).map((m) => m.memberId));
  const next = new Map<string, number>(); // round-robin position per subscriber group
  const tasks = [...new Set(Object.values(topicPartitions).flat())].sort((a, b) => a - b);
  for (const task of tasks) {
    const groups = new Map<string, { ids: string[]; topics: string[] }>();
    for (const topic of all) {
      if (!topicPartitions[topic]?.includes(task)) continue;
      const ids = subscribersOf.get(topic) as string[];
      if (ids.length === 0) continue;
      const key = ids.join('\u0000');
      const g = groups.get(key) ?? { ids, topics: [] };
      g.topics.push(topic);
      groups.set(key, g);
    }
    for (const [key, g] of groups) {
      const i = next.get(key) ?? 0;
      next.set(key, i + 1);
      const assignment = out.get(g.ids[i % g.ids.length] as string) as Record<string, number[]>;
      for (const topic of g.topics) (assignment[topic] ??= []).push(task);
    }
  }
  return out;
}

/** The topics a member subscribed to, from its group metadata (kafkajs' MemberMetadata encoding). */
export function subscriptionOf(memberMetadata: Buffer): string[] {
  return AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? [];
}

/**
 * A loud warning when this member was assigned no partition of its subscribed topics although those
 * topics have partitions, else null. Call it where the assignment is logged (GROUP_JOIN). Legitimate
 * when there are more members than partitions; otherwise it usually means another deployment shares
 * the group id with different topics, or a topic is missing.
 */
export function assignmentWarning(o: {
  readonly groupId: string;
  readonly memberId?: string;
  /** What GROUP_JOIN's payload.memberAssignment says this member got. */
  readonly memberAssignment: Readonly<Record<string, readonly number[]>>;
  /** The topics this member subscribed to, with their partition counts (0 or absent: unknown/none). */
  readonly partitionCounts: Readonly<Record<string, number>>;
}): string | null {
  const subscribed = Object.keys(o.partitionCounts);
  const got = subscribed.reduce((n, t) => n + (o.memberAssignment[t]?.length ?? 0), 0);
  const exist = subscribed.reduce((n, t) => n + Math.max(0, o.partitionCounts[t] ?? 0), 0);
  if (got > 0 || exist === 0) return null;
  return `consumer group ${o.groupId}: member ${o.memberId ?? '(this one)'} was assigned NO partitions although its topics `
    + `${subscribed.map((t) => `${t} (${o.partitionCounts[t]})`).join(', ')} have ${exist}; either the group has more members than `
    + `partitions, or another deployment shares group id ${o.groupId} with other topics (set PROCESSOR_GROUP_ID or TOPIC_PREFIX apart)`;
}

export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'PresenceCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const topicPartitions = Object.fromEntries(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
    const subscribers = members.map((m) => ({ memberId: m.memberId, topics: subscriptionOf(m.memberMetadata) }));
    const plan = assignTasks(subscribers, topicPartitions);
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'PresenceCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});
