import fc from 'fast-check';
import { AssignerProtocol } from 'kafkajs';
import { assignmentWarning, assignTasks, coPartitionedAssigner, CoPartitionedAssigner, localTasksOf } from './assigner';

describe('assignTasks', () => {
  it('gives one member every topic of a partition number, even when counts do not divide', () => {
    const plan = assignTasks(['b', 'a'], { hb: [0, 1, 2], ov: [0, 1, 2], room: [0, 1, 2] });
    expect(plan.get('a')).toEqual({ hb: [0, 2], ov: [0, 2], room: [0, 2] });
    expect(plan.get('b')).toEqual({ hb: [1], ov: [1], room: [1] });
  });

  it('every partition of every topic goes to exactly one member, the same for all topics', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 24 }), (members, partitions) => {
      const ids = Array.from({ length: members }, (_, i) => `m${i}`);
      const all = Array.from({ length: partitions }, (_, i) => i);
      const plan = assignTasks(ids, { x: all, y: all, z: all });
      const owner = new Map<number, string>();
      for (const [m, a] of plan) {
        expect(a['x'] ?? []).toEqual(a['y'] ?? []);
        expect(a['y'] ?? []).toEqual(a['z'] ?? []);
        for (const p of a['x'] ?? []) {
          expect(owner.has(p)).toBe(false);
          owner.set(p, m);
        }
      }
      expect(owner.size).toBe(partitions);
    }));
  });
});

describe('assignTasks, sticky to local stores', () => {
  const six = [0, 1, 2, 3, 4, 5];
  const member = (memberId: string, localTasks: number[]) => ({ memberId, topics: ['hb', 'ov'], localTasks });

  it('gives each task to the member whose store holds it', () => {
    const plan = assignTasks([member('a', [1, 3, 5]), member('b', [0, 2, 4])], { hb: six, ov: six });
    expect(plan.get('a')).toEqual({ hb: [1, 3, 5], ov: [1, 3, 5] });
    expect(plan.get('b')).toEqual({ hb: [0, 2, 4], ov: [0, 2, 4] });
  });

  it('keeps the counts even when one member holds everything', () => {
    const plan = assignTasks([member('a', six), member('b', [])], { hb: six, ov: six });
    expect(plan.get('a')?.['hb']).toHaveLength(3);
    expect(plan.get('b')?.['hb']).toHaveLength(3);
  });

  it('property: every task has one owner, counts differ by at most one, and holders keep their even share', () => {
    fc.assert(fc.property(
      fc.array(fc.subarray([0, 1, 2, 3, 4, 5, 6, 7, 8]), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1, max: 9 }),
      (holdings, partitions) => {
        const all = Array.from({ length: partitions }, (_, i) => i);
        const members = holdings.map((h, i) => member(`m${i}`, h));
        const plan = assignTasks(members, { hb: all, ov: all });
        const counts = members.map((m) => plan.get(m.memberId)?.['hb']?.length ?? 0);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(partitions);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        const owned = new Set(members.flatMap((m) => plan.get(m.memberId)?.['hb'] ?? []));
        expect(owned.size).toBe(partitions);
        // A task held by exactly one member goes elsewhere only when that member is at its share.
        const share = Math.max(1, Math.floor(partitions / members.length));
        for (const m of members) {
          const mine = plan.get(m.memberId)?.['hb'] ?? [];
          const heldHere = all.filter((t) => m.localTasks.includes(t));
          const kept = heldHere.filter((t) => mine.includes(t)).length;
          expect(kept).toBeGreaterThanOrEqual(Math.min(share, heldHere.filter((t) => members.filter((o) => o.localTasks.includes(t)).length === 1).length));
        }
      },
    ));
  });
});

describe('assignTasks with subscriptions (deployments sharing a group id)', () => {
  const three = [0, 1, 2];
  const topics = { 'a.hb': three, 'a.ov': three, 'b.hb': three, 'b.ov': three };

  it('assigns each member only topics it subscribed to, whole tasks within each deployment', () => {
    const plan = assignTasks([
      { memberId: 'a1', topics: ['a.hb', 'a.ov'] },
      { memberId: 'b1', topics: ['b.hb', 'b.ov'] },
      { memberId: 'a2', topics: ['a.hb', 'a.ov'] },
    ], topics);
    expect(plan.get('a1')).toEqual({ 'a.hb': [0, 2], 'a.ov': [0, 2] });
    expect(plan.get('a2')).toEqual({ 'a.hb': [1], 'a.ov': [1] });
    expect(plan.get('b1')).toEqual({ 'b.hb': [0, 1, 2], 'b.ov': [0, 1, 2] });
  });

  it('a topic nobody subscribed to is assigned to nobody', () => {
    const plan = assignTasks([{ memberId: 'm', topics: ['x'] }], { x: [0], y: [0, 1] });
    expect(plan.get('m')).toEqual({ x: [0] });
  });

  it('property: never a topic outside the subscription; every subscribed partition has exactly one owner', () => {
    const topicNames = ['p.hb', 'p.ov', 'q.hb', 'q.ov', 'r.x'];
    fc.assert(fc.property(
      fc.array(fc.subarray(topicNames, { minLength: 1 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 8 }),
      (subscriptions, partitions) => {
        const all = Array.from({ length: partitions }, (_, i) => i);
        const members = subscriptions.map((topics, i) => ({ memberId: `m${i}`, topics }));
        const plan = assignTasks(members, Object.fromEntries(topicNames.map((t) => [t, all])));
        const owners = new Map<string, number>();
        for (const m of members) {
          for (const [topic, ps] of Object.entries(plan.get(m.memberId) ?? {})) {
            expect(m.topics).toContain(topic);
            for (const p of ps) owners.set(`${topic}/${p}`, (owners.get(`${topic}/${p}`) ?? 0) + 1);
          }
        }
        const subscribed = new Set(subscriptions.flat());
        for (const t of topicNames) for (const p of all) expect(owners.get(`${t}/${p}`) ?? 0).toBe(subscribed.has(t) ? 1 : 0);
      },
    ));
  });
});

describe('CoPartitionedAssigner (as kafkajs calls it)', () => {
  it('carries each member\'s local tasks in its subscription and assigns by them', async () => {
    const cluster = { findTopicPartitionMetadata: (t: string) => [0, 1, 2, 3].map((partitionId) => ({ partitionId, topic: t })) };
    const a = coPartitionedAssigner(() => [3, 1])({ cluster } as never);
    const b = coPartitionedAssigner(() => [0, 2])({ cluster } as never);
    const metadataA = a.protocol({ topics: ['hb'] }).metadata;
    expect(localTasksOf(metadataA)).toEqual([1, 3]);
    const result = await a.assign({ members: [{ memberId: 'a', memberMetadata: metadataA }, { memberId: 'b', memberMetadata: b.protocol({ topics: ['hb'] }).metadata }], topics: ['hb'] });
    const decoded = Object.fromEntries(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment]));
    expect(decoded).toEqual({ a: { hb: [1, 3] }, b: { hb: [0, 2] } });
  });

  it('reads no local tasks from an older member\'s empty or foreign userData', () => {
    expect(localTasksOf(AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['hb'], userData: Buffer.alloc(0) }))).toEqual([]);
    expect(localTasksOf(AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['hb'], userData: Buffer.from('not json') }))).toEqual([]);
  });

  it('reads each member\'s subscription from its group metadata', async () => {
    const cluster = { findTopicPartitionMetadata: (t: string) => [0, 1].map((partitionId) => ({ partitionId, topic: t })) };
    const assigner = CoPartitionedAssigner({ cluster } as never);
    const member = (memberId: string, topics: string[]) => ({ memberId, memberMetadata: assigner.protocol({ topics }).metadata });
    const result = await assigner.assign({ members: [member('a', ['a.hb']), member('b', ['b.hb'])], topics: ['a.hb', 'b.hb'] });
    const decoded = Object.fromEntries(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment]));
    expect(decoded).toEqual({ a: { 'a.hb': [0, 1] }, b: { 'b.hb': [0, 1] } });
  });
});

describe('assignmentWarning', () => {
  it('warns when nothing was assigned while the subscribed topics have partitions', () => {
    const w = assignmentWarning({ groupId: 'g', memberId: 'm1', memberAssignment: {}, partitionCounts: { hb: 3, ov: 3 } });
    expect(w).toMatch(/member m1 was assigned NO partitions/);
    expect(w).toMatch(/hb \(3\), ov \(3\) have 6/);
    expect(w).toMatch(/shares group id g/);
  });
  it('is silent when something was assigned, or when no partitions exist', () => {
    expect(assignmentWarning({ groupId: 'g', memberAssignment: { hb: [0] }, partitionCounts: { hb: 3 } })).toBeNull();
    expect(assignmentWarning({ groupId: 'g', memberAssignment: {}, partitionCounts: { hb: 0 } })).toBeNull();
    expect(assignmentWarning({ groupId: 'g', memberAssignment: { other: [1] }, partitionCounts: { hb: 2 } })).not.toBeNull();
  });
});
