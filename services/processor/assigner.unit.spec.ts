import fc from 'fast-check';
import { assignTasks } from './assigner';

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
