/**
 * The notification gate's decision, pure: a decoded request, the replica's view of the recipient
 * (or none), the clock and the channel classes give either the decision record to write or the
 * reason the request goes to the dead-letter topic. The rule itself is the core's `gateDecision`,
 * the same one the query service's /v1/gate uses; this module only checks the request and builds
 * the records.
 */
import { decisionTargets, gateDecision, gateStatus, idRejection, type ChannelClasses, type PresenceConfig, type UserView, type Watermark } from '../core';
import type { DeadLetter, NotificationDecision, NotificationRequest } from '../contract/avro-types';
import { deadLetterOf, type SourceRecord } from '../contract/dead-letter';

/** The service name written into dead letters. */
export const SERVICE = 'notification-gate';

/** Why a request could not be decided: the DLQ record's errorCode, field and reason. */
export interface GateRejection {
  /** A serde code (undecodable, unknown-schema, wrong-schema, unencodable) or `rejected`. */
  readonly code: string;
  readonly field: string | null;
  readonly reason: string;
}

export type RequestOutcome =
  | { readonly ok: true; readonly decision: NotificationDecision }
  | { readonly ok: false; readonly rejection: GateRejection };

const rejected = (field: string, code: string, reason: string): RequestOutcome => ({
  ok: false,
  rejection: { code: 'rejected', field, reason: `${code}: ${reason}` },
});

/** The core's id rule, as a dead-letter rejection. */
function checkId(field: string, value: string, cfg: PresenceConfig): RequestOutcome | null {
  const r = idRejection(field, value, cfg);
  return r && rejected(r.field, r.code, r.reason);
}

/**
 * Decides one request. The recipient's status is recomputed from the snapshot view with `now`
 * (never the status stored in it), the true status rather than the one others see. Without a view
 * the status is Offline and `userKnown` is false. Ids and the channel are checked first; an unknown
 * channel is a rejection, not a suppression. A push that goes out names its targetGateways (the
 * core's decisionTargets: [] when there is no session to route to). `watermark`: the processor
 * watermark of the recipient's snapshot partition as the replica knows it (null: none; the
 * snapshot's leases alone).
 */
export function decideRequest(
  req: NotificationRequest,
  view: UserView | undefined,
  now: number,
  cfg: PresenceConfig,
  classes: ChannelClasses,
  watermark: Watermark = null,
): RequestOutcome {
  const bad = checkId('requestId', req.requestId, cfg) ?? checkId('userId', req.userId, cfg) ?? checkId('channel', req.channel, cfg);
  if (bad) return bad;
  const known = view !== undefined;
  const status = gateStatus(view, now, cfg, 'trusted', watermark);
  const result = gateDecision({ status, channel: req.channel, bypassDoNotDisturb: req.bypassDoNotDisturb, known }, classes);
  if (!result.ok) return rejected(result.rejection.field, result.rejection.code, result.rejection.reason);
  return {
    ok: true,
    decision: {
      requestId: req.requestId, userId: req.userId, channel: req.channel,
      deliver: result.decision.deliver, reason: result.decision.reason,
      status, userKnown: known, decidedAt: now,
      targetGateways: decisionTargets(req.channel, result.decision, view, now, cfg, classes, watermark),
    },
  };
}

export type { SourceRecord } from '../contract/dead-letter';

/** The DLQ record for `source`, built as every consumer builds it (oversize bytes cut). */
export function deadLetter(source: SourceRecord, rejection: GateRejection, now: number): DeadLetter {
  return deadLetterOf(source, rejection, SERVICE, now);
}
