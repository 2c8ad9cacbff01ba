/** Prometheus metrics of the query service (prom-client), on its own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createQueryMetrics(probe: { lag: () => number; ready: () => boolean; streams: () => number; roomStreams: () => number; users: () => number; rooms: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'presence_query_' });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge('presence_query_replica_lag_records', 'Snapshot records not yet applied to the replica (sum over partitions)', probe.lag);
  gauge('presence_query_replica_ready', '1 once the replica caught up with the high watermarks read at start', () => (probe.ready() ? 1 : 0));
  gauge('presence_query_sse_clients', 'Open SSE presence streams', probe.streams);
  gauge('presence_query_room_sse_clients', 'Open SSE room streams', probe.roomStreams);
  gauge('presence_query_replica_users', 'Users in the replica', probe.users);
  gauge('presence_query_replica_rooms', 'Rooms in the replica', probe.rooms);
  return {
    registry,
    requests: new Counter({ name: 'presence_query_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [registry] }),
    latency: new Histogram({
      name: 'presence_query_request_seconds', help: 'HTTP request latency by route', labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
    }),
    decayedReads: new Counter({
      name: 'presence_query_decayed_reads_total', registers: [registry],
      help: 'Presence reads whose status the clock moved away from the snapshot\'s (a lease or an override ran out with no newer snapshot: normal for Away, a sign of a lagging processor when frequent for Offline)',
    }),
    undecodable: new Counter({ name: 'presence_query_undecodable_total', help: 'Snapshot records skipped as undecodable', registers: [registry] }),
    contactsRejected: new Counter({ name: 'presence_query_contacts_rejected_total', help: 'Contact records this replica skipped (malformed; the validator dead-letters them once)', registers: [registry] }),
    contactsDeadLettered: new Counter({ name: 'presence_query_contacts_dead_letters_total', help: 'Contact records this member of the validator group wrote to the dead-letter topic (malformed or past the bound)', registers: [registry] }),
  };
}
export type QueryMetrics = ReturnType<typeof createQueryMetrics>;
