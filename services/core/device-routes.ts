/**
 * Device presence for routing: which live sessions a user has, through which gateway, active or
 * idle. Its own answer beside the user's one status (effectiveStatus): a delivery worker routes a
 * push to the gateways listed here and falls back to offline delivery when there are none.
 *
 * These are the user's true sessions (as the user sees them), whatever the visibility: they are for
 * the notification pipeline acting on the user's behalf, never for other users (readView with
 * `others` still hides an invisible user's devices).
 */
import type { PresenceConfig } from './config';
import { readView, userView, type DeviceView, type UserState, type UserView, type Watermark } from './user';

/** One live session to route to (the snapshot's Device). */
export type DeviceRoute = DeviceView;

/** The live sessions of `state` at `now`, sorted by (deviceId, sessionId). */
export function deviceRoutes(state: UserState, now: number, cfg: PresenceConfig): readonly DeviceRoute[] {
  return userView(state, now, cfg).devices;
}

/**
 * The same from a snapshot, at the reader's `now`: its listed devices while its lastSeen lease
 * (held by the partition `watermark`, as in effectiveStatusOfView) has not run out, else none. Each
 * device's gateway and active flag are as emitted: the processor re-emits when one changes (an
 * idle crossing is one of its timers), so this agrees with deviceRoutes(state) while it runs.
 * Snapshots written before the flag existed read as active.
 */
export function deviceRoutesOfView(view: UserView | undefined, now: number, cfg: PresenceConfig, watermark: Watermark = null): readonly DeviceRoute[] {
  return view === undefined ? [] : readView(view, now, cfg, 'self', watermark).devices;
}

/**
 * Where to send a push: the distinct gateways of the routes, those with an active session first,
 * then those with idle sessions only, each group sorted by id. Sessions whose gateway is unknown
 * (null) cannot be routed and are left out. Empty: no routable live session (offline delivery).
 */
export function targetGateways(routes: readonly DeviceRoute[]): string[] {
  const active = new Set<string>();
  const idle = new Set<string>();
  for (const r of routes) {
    if (r.gatewayId === null) continue;
    (r.active ? active : idle).add(r.gatewayId);
  }
  for (const g of active) idle.delete(g);
  return [...[...active].sort(), ...[...idle].sort()];
}
