/** Prometheus metrics of the notification gate (prom-client), on its own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createGateMetrics(probe: { lag: () => number; ready: () => boolean; users: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'presence_gate_' });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge('presence_gate_replica_lag_records', 'Snapshot records not yet applied to the replica (sum over partitions)', probe.lag);
  gauge('presence_gate_replica_ready', '1 once the replica caught up with the high watermarks read at start', () => (probe.ready() ? 1 : 0));
  gauge('presence_gate_replica_users', 'Users in the replica', probe.users);
  return {
    registry,
    decisions: new Counter({ name: 'presence_gate_decisions_total', help: 'Decisions written, by reason and outcome', labelNames: ['reason', 'deliver'], registers: [registry] }),
    dlq: new Counter({ name: 'presence_gate_dlq_total', help: 'Requests dead-lettered, by error code', labelNames: ['code'], registers: [registry] }),
    sendFailures: new Counter({ name: 'presence_gate_send_failures_total', help: 'Failed produce requests of decisions (each replaces the producer; the batch is decided again)', registers: [registry] }),
    undecodableSnapshots: new Counter({ name: 'presence_gate_replica_undecodable_total', help: 'Snapshot records skipped by the replica as undecodable', registers: [registry] }),
    requestAge: new Histogram({
      name: 'presence_gate_request_age_seconds', help: 'From requestedAt to the decision (includes producer clock skew; negative counts as 0)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'presence_gate_batch_seconds', help: 'Time to decide, write and commit one batch of requests',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
    }),
  };
}
export type GateMetrics = ReturnType<typeof createGateMetrics>;
