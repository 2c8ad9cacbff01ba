import fc from 'fast-check';
import { DeadlineQueue } from './deadline-queue';

describe('DeadlineQueue', () => {
  it('returns due keys earliest first and keeps later ones', () => {
    const q = new DeadlineQueue();
    q.schedule('b', 20);
    q.schedule('a', 10);
    q.schedule('c', 30);
    expect(q.next()).toBe(10);
    expect(q.takeDue(25)).toEqual(['a', 'b']);
    expect(q.next()).toBe(30);
    expect(q.size).toBe(1);
  });

  it('rescheduling replaces the deadline; null clears it', () => {
    const q = new DeadlineQueue();
    q.schedule('a', 10);
    q.schedule('a', 50);
    q.schedule('b', 20);
    q.schedule('b', null);
    expect(q.takeDue(40)).toEqual([]);
    expect(q.deadlineOf('a')).toBe(50);
    expect(q.takeDue(50)).toEqual(['a']);
    expect(q.next()).toBeNull();
  });

  it.each([['default compaction', undefined], ['compacting at every chance (rebuild exercised)', 0]])('agrees with a naive model under any sequence of operations (%s)', (_name, slack) => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('schedule' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), at: fc.option(fc.integer({ min: 0, max: 100 })) }),
      fc.record({ kind: fc.constant('take' as const), now: fc.integer({ min: 0, max: 100 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new DeadlineQueue(slack);
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'schedule') {
            q.schedule(o.key, o.at);
            if (o.at === null) model.delete(o.key);
            else model.set(o.key, o.at);
          } else {
            const expected = [...model].filter(([, at]) => at <= o.now).sort((x, y) => x[1] - y[1]);
            const got = q.takeDue(o.now);
            expect(got.map((k) => model.get(k))).toEqual(expected.map(([, at]) => at));
            expect(new Set(got)).toEqual(new Set(expected.map(([k]) => k)));
            for (const k of got) model.delete(k);
          }
          const min = Math.min(...model.values());
          expect(q.next()).toBe(model.size ? min : null);
          expect(q.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
