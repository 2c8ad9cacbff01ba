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
 *
 * Sticky to local stores, like Kafka Streams' task assignor: each member says in its subscription's
 * userData which tasks its local store holds, and a task goes to a member that holds it as long as
 * that keeps the counts even, so a restart (or a process running several stream threads, each with
 * its own store) restores from the local store instead of the changelog.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/** A group member, the topics it subscribed to and the tasks (partition numbers) its local store holds. */
export interface Subscriber {
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly localTasks?: readonly number[];
}

/**
 * The plan: member → topic → partitions. A bare member id means "subscribed to every topic" (the
 * single-deployment case). For each partition number, the topics that have it are grouped by the
 * exact set of members subscribed to them; each group's task goes to one of those members, so
 * co-subscribed topics stay together and nobody gets a topic it did not ask for. Within a group a
 * task goes first to the least loaded member holding it locally while that member has fewer than
 * the even share (rounded down), then to the least loaded member (lowest id on ties: round robin when nobody
 * holds anything).
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
  const holds = new Map<string, ReadonlySet<number>>(subs.map((m) => [m.memberId, new Set(m.localTasks ?? [])]));
  // topic → sorted subscriber ids; topics grouped by that list (the key).
  const subscribersOf = new Map<string, string[]>();
  for (const topic of all) subscribersOf.set(topic, subs.filter((m) => m.topics.includes(topic)).map((m) => m.memberId));
  const groups = new Map<string, { ids: string[]; units: { task: number; topics: string[] }[] }>();
  const tasks = [...new Set(Object.values(topicPartitions).flat())].sort((a, b) => a - b);
  for (const task of tasks) {
    const unitOf = new Map<string, { task: number; topics: string[] }>();
    for (const topic of all) {
      if (!topicPartitions[topic]?.includes(task)) continue;
      const ids = subscribersOf.get(topic) as string[];
      if (ids.length === 0) continue;
      const key = ids.join('\u0000');
      let unit = unitOf.get(key);
      if (!unit) {
        unit = { task, topics: [] };
        unitOf.set(key, unit);
        const g = groups.get(key) ?? { ids, units: [] };
        g.units.push(unit);
        groups.set(key, g);
      }
      unit.topics.push(topic);
    }
  }
  for (const g of groups.values()) {
    // At most the even share's floor by holding: the rest then evens the counts out to within one.
    const share = Math.max(1, Math.floor(g.units.length / g.ids.length));
    const load = new Map<string, number>(g.ids.map((id) => [id, 0]));
    const leastLoaded = (ids: readonly string[]) => ids.reduce((best, id) => ((load.get(id) as number) < (load.get(best) as number) ? id : best));
    const give = (id: string, unit: { task: number; topics: string[] }) => {
      load.set(id, (load.get(id) as number) + 1);
      const assignment = out.get(id) as Record<string, number[]>;
      for (const topic of unit.topics) (assignment[topic] ??= []).push(unit.task);
    };
    const rest: { task: number; topics: string[] }[] = [];
    for (const unit of g.units) {
      const holders = g.ids.filter((id) => holds.get(id)?.has(unit.task) && (load.get(id) as number) < share);
      if (holders.length > 0) give(leastLoaded(holders), unit);
      else rest.push(unit);
    }
    for (const unit of rest) give(leastLoaded(g.ids), unit);
  }
  for (const assignment of out.values()) for (const ps of Object.values(assignment)) ps.sort((a, b) => a - b);
  return out;
}

/** The topics a member subscribed to, from its group metadata (kafkajs' MemberMetadata encoding). */
export function subscriptionOf(memberMetadata: Buffer): string[] {
  return AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? [];
}

/** The tasks a member's local store holds, from its subscription's userData; none when absent or unreadable (older members). */
export function localTasksOf(memberMetadata: Buffer): number[] {
  const userData = AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData;
  if (!userData || userData.length === 0) return [];
  try {
    const tasks = (JSON.parse(userData.toString('utf8')) as { localTasks?: unknown }).localTasks;
    return Array.isArray(tasks) ? tasks.filter((t): t is number => Number.isInteger(t)) : [];
  } catch {
    return [];
  }
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

/** The assignor; `localTasks` says, at each join, which tasks this member's local store holds. */
export function coPartitionedAssigner(localTasks: () => readonly number[] = () => []): PartitionAssigner {
  return ({ cluster }) => ({
    name: 'PresenceCoPartitioned',
    version: 1,
    async assign({ members, topics }) {
      const topicPartitions = Object.fromEntries(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
      const subscribers = members.map((m) => ({ memberId: m.memberId, topics: subscriptionOf(m.memberMetadata), localTasks: localTasksOf(m.memberMetadata) }));
      const plan = assignTasks(subscribers, topicPartitions);
      return [...plan].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      const userData = Buffer.from(JSON.stringify({ localTasks: [...localTasks()].sort((a, b) => a - b) }), 'utf8');
      return { name: 'PresenceCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }) };
    },
  });
}

export const CoPartitionedAssigner: PartitionAssigner = coPartitionedAssigner();
