import { Counter, Gauge, Registry } from 'prom-client';
import { aggregateThreadMetrics, assignmentsSettled, combineHealth, threadAggregator } from './stream-threads';

describe('assignmentsSettled', () => {
  it.each<[string, (number[] | null)[], boolean]>([
    ['every thread holds a disjoint share', [[0, 2, 4], [1, 3, 5]], true],
    ['a thread has no assignment yet', [[0, 1, 2, 3, 4, 5], null], false],
    ['the first thread still holds the previous generation', [[0, 1, 2, 3, 4, 5], [1, 3, 5]], false],
    ['an empty share (more members than tasks) is settled', [[0], []], true],
    ['one thread', [[0, 1]], true],
  ])('%s', (_name, assignments, settled) => {
    expect(assignmentsSettled(assignments)).toBe(settled);
  });
});

describe('thread metrics aggregation', () => {
  it('takes process-wide figures once and the least restore progress; sums the rest', async () => {
    expect(threadAggregator('presence_processor_process_resident_memory_bytes', 'sum')).toBe('first');
    expect(threadAggregator('presence_processor_events_total', 'sum')).toBe('sum');
    const thread = (events: number, rssBytes: number, progress: number) => {
      const registry = new Registry();
      new Counter({ name: 'presence_processor_events_total', help: 'e', labelNames: ['kind'], registers: [registry] }).inc({ kind: 'heartbeat' }, events);
      new Gauge({ name: 'presence_processor_process_resident_memory_bytes', help: 'r', registers: [registry] }).set(rssBytes);
      new Gauge({ name: 'presence_processor_restore_progress_ratio', help: 'p', registers: [registry] }).set(progress);
      return registry.getMetricsAsJSON();
    };
    const text = await aggregateThreadMetrics([await thread(3, 1_000, 1), await thread(4, 1_000, 0.25)]).metrics();
    expect(text).toContain('presence_processor_events_total{kind="heartbeat"} 7');
    expect(text).toContain('presence_processor_process_resident_memory_bytes 1000');
    expect(text).toContain('presence_processor_restore_progress_ratio 0.25');
  });
});

describe('combineHealth', () => {
  const status = (partitions: number[], healthy: boolean, sinceGroupContactMs: number) => ({
    type: 'status' as const, ready: healthy, healthy, health: { alive: true, sinceGroupContactMs, partitions, stalledPartitions: [] },
  });

  it('joins the threads\' partitions and takes the longest silence', () => {
    const h = combineHealth([{ thread: 0, status: status([0, 2], true, 100), fresh: true }, { thread: 1, status: status([1], true, 900), fresh: true }]);
    expect(h).toMatchObject({ alive: true, sinceGroupContactMs: 900, partitions: [0, 1, 2] });
    expect(h.threads.map((t) => t.healthy)).toEqual([true, true]);
  });

  it('a thread without a status, or with a stale one, is not alive or not healthy', () => {
    const h = combineHealth([{ thread: 0, status: status([0], true, 100), fresh: false }, { thread: 1, status: null, fresh: true }]);
    expect(h.alive).toBe(false);
    expect(h.threads.map((t) => t.healthy)).toEqual([false, false]);
  });
});
