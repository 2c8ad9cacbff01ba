/** Prometheus metrics of the processor (prom-client), on its own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createProcessorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'presence_processor_' });
  const m = {
    registry,
    events: new Counter({ name: 'presence_processor_events_total', help: 'Input events applied, by kind', labelNames: ['kind'], registers: [registry] }),
    snapshots: new Counter({ name: 'presence_processor_snapshots_total', help: 'Snapshots written, by topic role and reason', labelNames: ['topic'], registers: [registry] }),
    transitions: new Counter({
      name: 'presence_processor_transitions_total', registers: [registry], labelNames: ['to', 'cause'],
      help: 'Status transitions written, by new status and cause (event: an input record; clock: a threshold or expiry). to="Offline",cause="clock": users whose last session expired without a clean disconnect',
    }),
    eventDelay: new Histogram({
      name: 'presence_processor_event_delay_seconds', registers: [registry],
      help: 'From a heartbeat\'s observedAt (gateway clock) to its application by the processor; one heartbeat in 16 sampled',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
    dlq: new Counter({ name: 'presence_processor_dlq_total', help: 'Records dead-lettered, by error code', labelNames: ['code'], registers: [registry] }),
    timersPending: new Gauge({ name: 'presence_processor_timers_pending', help: 'Keys with a pending deadline', registers: [registry] }),
    keys: new Gauge({ name: 'presence_processor_keys', help: 'Users and rooms held in memory', registers: [registry] }),
    compactKeys: new Gauge({ name: 'presence_processor_compact_keys', help: 'Users of presence_processor_keys held as their encoded entry (nothing due within PROCESSOR_COMPACT_QUIET_MS)', registers: [registry] }),
    inputLag: new Gauge({ name: 'presence_processor_input_lag_records', help: 'Records behind the end of each input partition after its last batch (fetch position, not commits)', labelNames: ['topic', 'partition'], registers: [registry] }),
    restoreRecords: new Counter({ name: 'presence_processor_restore_records_total', help: 'Changelog records restored', registers: [registry] }),
    restoreRatio: new Gauge({ name: 'presence_processor_restore_progress_ratio', help: 'Progress of the running restore, 0..1 (1 when none runs)', registers: [registry] }),
    batchSeconds: new Histogram({
      name: 'presence_processor_batch_seconds', help: 'Time to process and commit one input batch or timer flush', labelNames: ['source'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
    }),
  };
  m.restoreRatio.set(1);
  return m;
}
export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>;
