/** Prometheus metrics of the gateway (prom-client), on its own registry. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export function createGatewayMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'presence_gateway_' });
  /** Set by the gateway when socket subscriptions are on. */
  const following: { probe: () => { readonly subscriptions: number; readonly users: number } } = { probe: () => ({ subscriptions: 0, users: 0 }) };
  new Gauge({
    name: 'presence_gateway_subscriptions', help: 'Presence subscriptions its sockets hold (socket × user), and distinct users they follow', labelNames: ['count'], registers: [registry],
    collect() {
      const n = following.probe();
      this.set({ count: 'subscriptions' }, n.subscriptions);
      this.set({ count: 'users' }, n.users);
    },
  });
  return {
    registry,
    following,
    sockets: new Gauge({ name: 'presence_gateway_sockets', help: 'Open WebSocket sessions', registers: [registry] }),
    frames: new Counter({ name: 'presence_gateway_commands_total', help: 'Commands received by transport, type and result (accepted, rejected, failed)', labelNames: ['transport', 'type', 'result'], registers: [registry] }),
    published: new Counter({ name: 'presence_gateway_published_total', help: 'Events published by kind (a heartbeat counts once with its room renewals)', labelNames: ['kind'], registers: [registry] }),
    coalesced: new Counter({ name: 'presence_gateway_heartbeats_coalesced_total', help: 'Heartbeats merged into a held one instead of being published', registers: [registry] }),
    sessionsEnded: new Counter({ name: 'presence_gateway_sessions_ended_total', help: 'Sessions ended with a clean disconnect, by why', labelNames: ['why'], registers: [registry] }),
    connects: new Counter({ name: 'presence_gateway_connects_total', help: 'WebSocket sessions opened (a rate spike across gateways is a reconnect storm)', registers: [registry] }),
    reconnects: new Counter({ name: 'presence_gateway_reconnects_within_grace_total', help: 'Sockets that came back within the reconnect grace (no disconnect published)', registers: [registry] }),
    presenceFrames: new Counter({ name: 'presence_gateway_presence_frames_total', help: 'Presence frames sent to sockets for their subscriptions', registers: [registry] }),
    rejectedUpgrades: new Counter({ name: 'presence_gateway_rejected_upgrades_total', help: 'WebSocket upgrades refused, by HTTP status', labelNames: ['status'], registers: [registry] }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
