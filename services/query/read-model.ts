/**
 * What the query service answers, computed from the replica's snapshot views with the presence core
 * and the current clock (pure: the view, `now` and the viewer are arguments). A stale Online is
 * never served beyond the core's bound: status is recomputed at read time, so a user whose lease ran
 * out reads Offline when the processor is down, at the latest watermarkGraceMs after the last
 * processor watermark of the user's partition (`watermark`, null when none is known).
 */
import {
  decisionTargets, deviceRoutesOfView, effectiveStatusOfView, gateDecision, gateStatus, lastSeenApprox, readView,
  type ActivitySource, type ActivityType, type ChannelClasses, type DeviceRoute, type EffectiveStatus, type GateAudience, type GateReason, type LastSeenBucket, type LastSeenPrivacy, type PresenceConfig,
  type UserView, type Viewer, type Visibility, type Watermark,
} from '../core';

/** An activity in force as the API shows it. */
export interface ActivityBody {
  readonly activity: ActivityType;
  readonly source: ActivitySource;
  readonly customText: string | null;
  readonly emoji: string | null;
  readonly expiresAt: number | null;
}

export interface PresenceBody {
  readonly userId: string;
  readonly status: EffectiveStatus;
  readonly statusSince: number | null;
  readonly lastSeen: number | null;
  readonly lastActive: number | null;
  readonly override: { readonly status: string; readonly customText: string | null; readonly expiresAt: number | null } | null;
  /**
   * Only while the user has an activity in force (and is not hidden from the viewer): the current one
   * (the first by precedence, the one folded into `status` unless the override decides it)...
   */
  readonly activity?: ActivityBody;
  /** ...and every activity in force, one at most per source, in precedence order (the current one first). */
  readonly activities?: readonly ActivityBody[];
  /** Only for another user whose last-seen privacy is coarse (their times are null): recently, within a week, long ago. */
  readonly lastSeenApprox?: LastSeenBucket;
  /** Only in the user's own presence. */
  readonly visibility?: Visibility;
  /** Only in the user's own presence. */
  readonly lastSeenPrivacy?: LastSeenPrivacy;
  readonly devices: readonly { readonly deviceId: string; readonly sessionId: string; readonly platform: string }[];
}

/** Unknown users read as Offline with nothing else: the service does not reveal whether an account exists. */
export function presenceBody(
  userId: string, view: UserView | undefined, now: number, cfg: PresenceConfig, viewer: Viewer, watermark: Watermark = null,
): PresenceBody {
  if (view === undefined) {
    return { userId, status: 'Offline', statusSince: null, lastSeen: null, lastActive: null, override: null, devices: [] };
  }
  const v = readView(view, now, cfg, viewer, watermark);
  const body: PresenceBody = {
    userId, status: v.status, statusSince: v.statusSince, lastSeen: v.lastSeen, lastActive: v.lastActive,
    override: v.override && { status: v.override.status, customText: v.override.customText, expiresAt: v.override.expiresAt },
    devices: v.devices.map((d) => ({ deviceId: d.deviceId, sessionId: d.sessionId, platform: d.platform })),
    ...activityFields(v),
  };
  if (viewer === 'self') return { ...body, visibility: v.visibility, lastSeenPrivacy: v.lastSeenPrivacy };
  const approx = lastSeenApprox(view, now, viewer);
  return approx === null ? body : { ...body, lastSeenApprox: approx };
}

function activityFields(v: UserView): { activity?: ActivityBody; activities?: ActivityBody[] } {
  const list = (v.activities ?? []).map((a): ActivityBody => ({ activity: a.activity, source: a.source, customText: a.customText, emoji: a.emoji, expiresAt: a.expiresAt }));
  const first = list[0];
  return first === undefined ? {} : { activity: first, activities: list };
}

/** The clock moved the status away from the snapshot's (a lease or an override ran out, no newer snapshot). */
export function decayedAtRead(view: UserView | undefined, now: number, cfg: PresenceConfig, watermark: Watermark = null): boolean {
  return view !== undefined && effectiveStatusOfView(view, now, cfg, watermark) !== view.status;
}

/** Two bodies are the same to a reader (an SSE stream sends only when this is false). */
export function samePresence(a: PresenceBody, b: PresenceBody): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export { roomBody, type RoomBody } from '../platform/viewer';

export type GateAnswer =
  | { readonly ok: true; readonly body: {
    readonly deliver: boolean; readonly reason: GateReason; readonly status: EffectiveStatus; readonly userKnown: boolean;
    /** Only for a trusted audience: as on notification.decision.v1 (core decisionTargets). */
    readonly targetGateways?: string[] | null;
  } }
  | { readonly ok: false; readonly field: 'channel'; readonly error: string };

/**
 * The gate check, with the same core rule as the notification-gate consumer. A trusted caller (the
 * notification pipeline, listed in QUERY_GATE_CALLERS, or the user itself) gets the decision on the
 * real effective status, so an invisible user still gets pushes when online; anyone else gets it on
 * what they may see, so the gate cannot be used to find out that an invisible user is online. A
 * trusted caller also gets the decision's targetGateways, as the notification gate writes them.
 */
export function gateAnswer(
  q: { readonly userId: string; readonly channel: string; readonly bypassDoNotDisturb: boolean },
  view: UserView | undefined, now: number, cfg: PresenceConfig, classes: ChannelClasses, audience: GateAudience,
  watermark: Watermark = null,
): GateAnswer {
  const status = gateStatus(view, now, cfg, audience, watermark);
  const result = gateDecision({ status, channel: q.channel, bypassDoNotDisturb: q.bypassDoNotDisturb, known: view !== undefined }, classes);
  if (!result.ok) return { ok: false, field: 'channel', error: result.rejection.reason };
  const body = { deliver: result.decision.deliver, reason: result.decision.reason, status, userKnown: view !== undefined };
  // The target gateways reveal the true sessions: only for the pipeline and the user itself.
  return { ok: true, body: audience === 'trusted' ? { ...body, targetGateways: decisionTargets(q.channel, result.decision, view, now, cfg, classes, watermark) } : body };
}

/** The answer of GET /v1/users/:userId/devices: the user's live sessions to route pushes to. */
export interface DevicesBody {
  readonly userId: string;
  readonly devices: readonly DeviceRoute[];
}

/**
 * Device presence for a trusted caller (a delivery worker): the live sessions with their gateway,
 * platform and active flag (the core's deviceRoutesOfView), whatever the user's visibility. An
 * unknown user, like one without a live session, has none: deliver offline.
 */
export function devicesBody(userId: string, view: UserView | undefined, now: number, cfg: PresenceConfig, watermark: Watermark = null): DevicesBody {
  return {
    userId,
    devices: deviceRoutesOfView(view, now, cfg, watermark).map((d) => ({ deviceId: d.deviceId, sessionId: d.sessionId, platform: d.platform, gatewayId: d.gatewayId, active: d.active })),
  };
}
