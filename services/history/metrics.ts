/** Prometheus metrics of the history service (prom-client), on its own registry. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export function createHistoryMetrics(probe: { ready: () => boolean }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'presence_history_' });
  new Gauge({ name: 'presence_history_index_ready', help: '1 once the index caught up with the end offsets read at start', registers: [registry], collect() { this.set(probe.ready() ? 1 : 0); } });
  return {
    registry,
    requests: new Counter({ name: 'presence_history_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [registry] }),
    indexed: new Counter({ name: 'presence_history_indexed_records_total', help: 'Records read into the index by topic role', labelNames: ['role'], registers: [registry] }),
    undecodable: new Counter({ name: 'presence_history_undecodable_total', help: 'Records skipped as undecodable', registers: [registry] }),
  };
}
export type HistoryMetrics = ReturnType<typeof createHistoryMetrics>;
