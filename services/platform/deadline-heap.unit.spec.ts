import fc from 'fast-check';
import { DeadlineHeap, NOT_QUEUED } from './deadline-heap';

interface Item { readonly name: string; slot: number }
const item = (name: string): Item => ({ name, slot: NOT_QUEUED });

describe('DeadlineHeap', () => {
  it('returns due items earliest first, keeps later ones, and leaves taken items unqueued', () => {
    const q = new DeadlineHeap<Item>();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    q.schedule(b, 20);
    q.schedule(a, 10);
    q.schedule(c, 30);
    expect(q.next()).toBe(10);
    expect(q.takeDue(25).map((x) => x.name)).toEqual(['a', 'b']);
    expect([a.slot, b.slot]).toEqual([NOT_QUEUED, NOT_QUEUED]);
    expect(q.next()).toBe(30);
    expect(q.deadlineOf(c)).toBe(30);
    expect(q.size).toBe(1);
    q.clear();
    expect([q.size, q.next(), c.slot]).toEqual([0, null, NOT_QUEUED]);
  });

  it('rescheduling moves the item either way; null clears it', () => {
    const q = new DeadlineHeap<Item>();
    const [a, b] = [item('a'), item('b')];
    q.schedule(a, 10);
    q.schedule(a, 50);
    q.schedule(b, 20);
    q.schedule(b, null);
    expect(q.deadlineOf(b)).toBeNull();
    expect(q.takeDue(40)).toEqual([]);
    expect(q.deadlineOf(a)).toBe(50);
    q.schedule(a, 5);
    expect(q.next()).toBe(5);
    expect(q.takeDue(50)).toEqual([a]);
    expect(q.next()).toBeNull();
  });

  it('agrees with a naive model under any sequence of operations, each item knowing its slot', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('schedule' as const), name: fc.constantFrom(...names), at: fc.option(fc.integer({ min: 0, max: 100 })) }),
      fc.record({ kind: fc.constant('take' as const), now: fc.integer({ min: 0, max: 100 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new DeadlineHeap<Item>();
        const items = new Map(names.map((n) => [n, item(n)]));
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'schedule') {
            q.schedule(items.get(o.name) as Item, o.at);
            if (o.at === null) model.delete(o.name);
            else model.set(o.name, o.at);
          } else {
            const expected = [...model].filter(([, at]) => at <= o.now).sort((x, y) => x[1] - y[1]);
            const got = q.takeDue(o.now);
            expect(got.map((x) => model.get(x.name))).toEqual(expected.map(([, at]) => at));
            expect(new Set(got.map((x) => x.name))).toEqual(new Set(expected.map(([n]) => n)));
            for (const x of got) model.delete(x.name);
          }
          const min = Math.min(...model.values());
          expect(q.next()).toBe(model.size ? min : null);
          expect(q.size).toBe(model.size);
          for (const [n, it] of items) expect(q.deadlineOf(it)).toBe(model.get(n) ?? null);
        }
      }),
      { numRuns: 500 },
    );
  });
});
