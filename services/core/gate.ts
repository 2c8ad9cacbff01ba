import type { PresenceConfig } from './config';
import type { EffectiveStatus } from './events';
import { unreachable } from './events';
import { effectiveStatusOfView, readView, type UserView, type Watermark } from './user';
import { deviceRoutesOfView, targetGateways } from './device-routes';

/** Which channels are push (presence-gated) and which store-and-forward (always delivered). */
export interface ChannelClasses {
  readonly push: readonly string[];
  readonly storeAndForward: readonly string[];
}

export const DEFAULT_CHANNEL_CLASSES: ChannelClasses = Object.freeze({
  push: Object.freeze(['websocket', 'sse', 'web-push', 'mobile-push']),
  storeAndForward: Object.freeze(['in-app', 'email', 'sms', 'chat']),
});

export interface ChannelClassIssue {
  readonly code: 'invalid-channel-classes';
  readonly field: 'push' | 'storeAndForward';
  readonly reason: string;
}

/** Validates channel classes: lists of non-empty strings, no duplicates, no channel in both. */
export function validateChannelClasses(
  input: unknown,
): { readonly ok: true; readonly classes: ChannelClasses } | { readonly ok: false; readonly issues: readonly ChannelClassIssue[] } {
  const issues: ChannelClassIssue[] = [];
  const obj = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const lists: Record<'push' | 'storeAndForward', string[]> = { push: [], storeAndForward: [] };
  for (const field of ['push', 'storeAndForward'] as const) {
    const v = obj[field];
    if (!Array.isArray(v) || !v.every((c): c is string => typeof c === 'string' && c.length > 0)) {
      issues.push({ code: 'invalid-channel-classes', field, reason: 'must be a list of non-empty strings' });
      continue;
    }
    if (new Set(v).size !== v.length) issues.push({ code: 'invalid-channel-classes', field, reason: 'lists a channel twice' });
    lists[field] = v;
  }
  const both = lists.push.filter((c) => lists.storeAndForward.includes(c));
  if (both.length > 0) {
    issues.push({ code: 'invalid-channel-classes', field: 'storeAndForward', reason: `channels in both classes: ${both.join(', ')}` });
  }
  return issues.length === 0 ? { ok: true, classes: { push: lists.push, storeAndForward: lists.storeAndForward } } : { ok: false, issues };
}

export interface GateRequest {
  /** The recipient's effective status at decision time (effectiveStatusOfView, not the masked one). */
  readonly status: EffectiveStatus;
  readonly channel: string;
  /** Security alerts and the like: may pass Do Not Disturb, never Offline. */
  readonly bypassDoNotDisturb: boolean;
  /** False when the gate has no snapshot for the recipient (then status is ignored: Offline). */
  readonly known: boolean;
}

export type GateReason =
  | 'store-and-forward'
  | 'online'
  | 'away'
  | 'busy'
  | 'bypassed-dnd'
  | 'suppressed-dnd'
  | 'suppressed-offline'
  | 'unknown-user-offline';

export const GATE_REASONS: readonly GateReason[] = [
  'store-and-forward', 'online', 'away', 'busy', 'bypassed-dnd', 'suppressed-dnd', 'suppressed-offline', 'unknown-user-offline',
];

export interface GateDecision {
  readonly deliver: boolean;
  readonly reason: GateReason;
}

export type GateResult =
  | { readonly ok: true; readonly decision: GateDecision }
  | { readonly ok: false; readonly rejection: { readonly code: 'unknown-channel'; readonly field: 'channel'; readonly reason: string } };

/**
 * Should this notification go out on this channel now? Store-and-forward channels always deliver;
 * push channels deliver for Online, Away and Busy, are suppressed for Offline (and unknown users) and
 * for DoNotDisturb unless bypassDoNotDisturb. An unknown channel is a typed rejection.
 */
export function gateDecision(req: GateRequest, classes: ChannelClasses = DEFAULT_CHANNEL_CLASSES): GateResult {
  if (classes.storeAndForward.includes(req.channel)) return decided(true, 'store-and-forward');
  if (!classes.push.includes(req.channel)) {
    return { ok: false, rejection: { code: 'unknown-channel', field: 'channel', reason: `unknown channel '${req.channel}'` } };
  }
  if (!req.known) return decided(false, 'unknown-user-offline');
  switch (req.status) {
    case 'Online':
      return decided(true, 'online');
    case 'Away':
      return decided(true, 'away');
    case 'Busy':
      return decided(true, 'busy');
    case 'DoNotDisturb':
      return req.bypassDoNotDisturb ? decided(true, 'bypassed-dnd') : decided(false, 'suppressed-dnd');
    case 'Offline':
      return decided(false, 'suppressed-offline');
    default: {
      const exhaustive: never = req.status;
      return unreachable(exhaustive);
    }
  }
}

function decided(deliver: boolean, reason: GateReason): GateResult {
  return { ok: true, decision: { deliver, reason } };
}

/**
 * Who asks the gate: the notification pipeline (or the user itself) is `trusted` and gets the
 * decision on the real status, so an invisible user still gets pushes when online; anyone else
 * gets it on what they may see (`contact`: a caller in the user's contact list, who sees a user
 * whose visibility is contacts), so the gate cannot reveal that an invisible user is online.
 */
export type GateAudience = 'trusted' | 'contact' | 'others';

/**
 * The recipient's status as the gate sees it at `now`: Offline without a snapshot view. `watermark`:
 * the processor watermark the reader knows for the snapshot's partition (null: none), as in
 * effectiveStatusOfView.
 */
export function gateStatus(view: UserView | undefined, now: number, cfg: PresenceConfig, audience: GateAudience, watermark: Watermark = null): EffectiveStatus {
  if (view === undefined) return 'Offline';
  return audience === 'trusted' ? effectiveStatusOfView(view, now, cfg, watermark) : readView(view, now, cfg, audience, watermark).status;
}

/**
 * Where a decided notification is pushed: for a push channel that delivers, the gateways of the
 * recipient's live sessions in the snapshot (targetGateways: active first), [] when there is none to
 * route to (the delivery worker falls back to offline delivery); null for store-and-forward channels
 * and suppressed pushes. The sessions are the true ones whatever the visibility, so only a trusted
 * audience is told them.
 */
export function decisionTargets(
  channel: string, decision: GateDecision, view: UserView | undefined, now: number, cfg: PresenceConfig,
  classes: ChannelClasses = DEFAULT_CHANNEL_CLASSES, watermark: Watermark = null,
): string[] | null {
  return decision.deliver && classes.push.includes(channel) ? targetGateways(deviceRoutesOfView(view, now, cfg, watermark)) : null;
}
