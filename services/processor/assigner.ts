/**
 * A co-partitioned assignor: kafkajs' only built-in (round robin over topic-partitions) can give
 * heartbeat partition 2 to one member and override partition 2 to another whenever the partition
 * count does not divide evenly, splitting one user's state across two processors. This one assigns
 * partition *numbers* (tasks) round robin and gives each member every subscribed topic's partition
 * of its tasks, like Kafka Streams' task assignment.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export function assignTasks(memberIds: readonly string[], topicPartitions: Record<string, number[]>): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const tasks = [...new Set(Object.values(topicPartitions).flat())].sort((a, b) => a - b);
  const out = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  tasks.forEach((task, i) => {
    const assignment = out.get(members[i % members.length] as string) as Record<string, number[]>;
    for (const [topic, partitions] of Object.entries(topicPartitions)) {
      if (partitions.includes(task)) (assignment[topic] ??= []).push(task);
    }
  });
  return out;
}

export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'PresenceCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const topicPartitions = Object.fromEntries(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
    const plan = assignTasks(members.map((m) => m.memberId), topicPartitions);
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'PresenceCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});
