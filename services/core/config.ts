/**
 * The one validated configuration of the presence rules: thresholds and input limits.
 * Every field is an integer (milliseconds, counts or bytes). See README.md for the rationale.
 */
import { readOverrides, type ConfigIssue } from './config-overrides';
import { validateAdaptiveConfig, type AdaptiveRuleConfig } from './adaptive-config';

export { readOverrides, type ConfigIssue } from './config-overrides';

export interface PresenceConfig {
  /** How often clients are expected to heartbeat (users and rooms). Default 15 000 ms. */
  readonly heartbeatIntervalMs: number;
  /** A session with no heartbeat for this long is gone (three missed beats). Default 45 000 ms. */
  readonly offlineAfterMs: number;
  /** A user whose last activity is this old reads as Away. Default 300 000 ms (5 min). */
  readonly awayAfterMs: number;
  /** A room member with no join/heartbeat for this long is no longer present. Default 60 000 ms. */
  readonly roomMemberExpiryMs: number;
  /**
   * Lease refresh lead: the processor re-emits a snapshot this long before a reader, recomputing
   * from the last emitted snapshot, would otherwise conclude Offline/Away/expired while newer
   * heartbeats say otherwise. Absorbs timer and pipeline lag. Default = heartbeatIntervalMs.
   */
  readonly refreshLeadMs: number;
  /**
   * Extra time a reader keeps trusting a snapshot's lastSeen lease beyond offlineAfterMs (and
   * roomMemberExpiryMs) before decaying it to Offline (or dropping the member). While the processor
   * runs, exact transitions still come from its timers, so readers agree with the rules at every
   * instant; the grace only bounds how long a stale Online may be served if the processor stops, and
   * in exchange lease refreshes are rarer: about one snapshot per
   * (offlineAfterMs + leaseGraceMs − refreshLeadMs) per online user instead of one per
   * (offlineAfterMs − refreshLeadMs). Default 0: a stale Online is never served.
   */
  readonly leaseGraceMs: number;
  /** Timestamps later than now + this are clamped to now + this. Default 5 000 ms. */
  readonly maxClockSkewMs: number;
  /** Maximum length of any id (UTF-16 code units). Default 128. */
  readonly maxIdLength: number;
  /** Maximum custom status text length in characters (code points) after trimming; longer is rejected. Default 100. */
  readonly maxCustomTextLength: number;
  /** Maximum number of entries of room member metadata. Default 16. */
  readonly maxMetadataEntries: number;
  /** Maximum total UTF-8 size of room member metadata keys plus values. Default 1 024 bytes. */
  readonly maxMetadataBytes: number;
  /** Sessions kept per user; beyond it the least recently seen (ended ones first) is evicted. Default 32. */
  readonly maxSessionsPerUser: number;
  /** Members kept per room; beyond it the least recently seen (departed ones first) is evicted. Default 500. */
  readonly maxMembersPerRoom: number;
  /** How long a member's ephemeral room state (typing) lasts when its event names no ttl. Default 5 000 ms. */
  readonly roomEphemeralTtlMs: number;
  /** The longest ttl an ephemeral room state may ask for; longer is rejected. Default 30 000 ms. */
  readonly maxRoomEphemeralTtlMs: number;
  /**
   * How long an ended or expired session / departed member is kept before pruning. Must be at least
   * offlineAfterMs and roomMemberExpiryMs, so a late, older event can never revive a pruned entry.
   * Default 3 600 000 ms (1 h).
   */
  readonly sessionRetentionMs: number;
  /** Reported idle times above this are clamped to it. Must be ≥ awayAfterMs. Default 30 days. */
  readonly maxIdleMs: number;
  /**
   * How long past a partition's processor watermark W (presence.processor-watermark.v1) a reader
   * keeps trusting that partition's snapshots: a listed device stays live and an unexpired activity
   * lease stays active until W + watermarkGraceMs even when the snapshot's own lastSeen/lastActive
   * lease ran out. It must cover the watermark interval plus pipeline lag; it bounds how long a stale
   * Online is served when the processor stops. Ignored by readers that know no watermark. Default 5 000 ms.
   */
  readonly watermarkGraceMs: number;
  /**
   * How the processor keeps readers' leases alive: 'per-user' re-emits a user's snapshot before its
   * lastSeen/lastActive lease runs out (about one snapshot per 30 s per online user); 'watermark'
   * does not (nextSnapshotCheck only refreshes before an override hiding an idle lease expires) and
   * relies on the processor publishing a watermark per partition. Default 'per-user'.
   */
  readonly snapshotLeases: SnapshotLeases;
  /**
   * The adaptive offline rule (adaptive-config.ts, arrival.ts), validated against the fields above;
   * absent (the default) or `enabled: false`: a session is offline offlineAfterMs after its last
   * heartbeat. Set it through validateConfig({ adaptiveOffline: {...} }), which keeps its
   * offlineAfterMs equal to this config's.
   */
  readonly adaptiveOffline?: AdaptiveRuleConfig;
}

export type SnapshotLeases = 'per-user' | 'watermark';
export const SNAPSHOT_LEASES: readonly SnapshotLeases[] = ['per-user', 'watermark'];

/** Defaults of the architecture: 15 s heartbeat, 45 s offline, 5 min away, 60 s room member expiry. */
export const DEFAULT_CONFIG: PresenceConfig = Object.freeze({
  heartbeatIntervalMs: 15_000,
  offlineAfterMs: 45_000,
  awayAfterMs: 300_000,
  roomMemberExpiryMs: 60_000,
  refreshLeadMs: 15_000,
  leaseGraceMs: 0,
  maxClockSkewMs: 5_000,
  maxIdLength: 128,
  maxCustomTextLength: 100,
  maxMetadataEntries: 16,
  maxMetadataBytes: 1_024,
  maxSessionsPerUser: 32,
  maxMembersPerRoom: 500,
  roomEphemeralTtlMs: 5_000,
  maxRoomEphemeralTtlMs: 30_000,
  sessionRetentionMs: 3_600_000,
  maxIdleMs: 30 * 24 * 3_600_000,
  watermarkGraceMs: 5_000,
  snapshotLeases: 'per-user',
});

type NumericField = Exclude<keyof PresenceConfig, 'snapshotLeases' | 'adaptiveOffline'>;
const NUMERIC_FIELDS = Object.keys(DEFAULT_CONFIG).filter((f): f is NumericField => f !== 'snapshotLeases');
const FIELDS: readonly (keyof PresenceConfig)[] = [...NUMERIC_FIELDS, 'snapshotLeases', 'adaptiveOffline'];

export type ConfigResult =
  | { readonly ok: true; readonly config: PresenceConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Merges `overrides` over the defaults and validates the result. `refreshLeadMs` defaults to the
 * (possibly overridden) `heartbeatIntervalMs`. Unknown fields are reported, never ignored.
 * Never throws: every bad field is listed in `issues`.
 */
export function validateConfig(overrides: unknown = {}): ConfigResult {
  const read = readOverrides(overrides, FIELDS);
  if (!read.ok) return read;
  const { input, issues, bad } = read;
  const merged: Record<string, number | string> = {};
  const leases = input['snapshotLeases'] ?? DEFAULT_CONFIG.snapshotLeases;
  if (typeof leases === 'string' && (SNAPSHOT_LEASES as readonly string[]).includes(leases)) {
    merged['snapshotLeases'] = leases;
  } else {
    bad('snapshotLeases', `must be one of ${SNAPSHOT_LEASES.join(', ')}, got ${String(leases)}`);
    merged['snapshotLeases'] = DEFAULT_CONFIG.snapshotLeases;
  }
  for (const field of NUMERIC_FIELDS) {
    const value = input[field] === undefined ? fallback(field, input) : input[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      bad(field, `must be a non-negative integer, got ${String(value)}`);
      merged[field] = DEFAULT_CONFIG[field];
    } else {
      merged[field] = value;
    }
  }
  const c = merged as unknown as PresenceConfig;
  const rule = (ok: boolean, field: keyof PresenceConfig, reason: string): void => {
    if (!ok) bad(field, reason);
  };
  rule(c.heartbeatIntervalMs > 0, 'heartbeatIntervalMs', 'must be > 0');
  rule(c.offlineAfterMs > c.heartbeatIntervalMs, 'offlineAfterMs', 'must be > heartbeatIntervalMs');
  rule(c.awayAfterMs > 0, 'awayAfterMs', 'must be > 0');
  rule(c.roomMemberExpiryMs > c.heartbeatIntervalMs, 'roomMemberExpiryMs', 'must be > heartbeatIntervalMs');
  rule(
    c.refreshLeadMs < Math.min(c.offlineAfterMs, c.awayAfterMs, c.roomMemberExpiryMs),
    'refreshLeadMs',
    'must be < offlineAfterMs, awayAfterMs and roomMemberExpiryMs',
  );
  rule(c.maxIdLength >= 1, 'maxIdLength', 'must be ≥ 1');
  rule(c.maxSessionsPerUser >= 1, 'maxSessionsPerUser', 'must be ≥ 1');
  rule(c.maxMembersPerRoom >= 1, 'maxMembersPerRoom', 'must be ≥ 1');
  rule(c.roomEphemeralTtlMs >= 1 && c.roomEphemeralTtlMs <= c.maxRoomEphemeralTtlMs, 'roomEphemeralTtlMs', 'must be ≥ 1 and ≤ maxRoomEphemeralTtlMs');
  rule(
    c.sessionRetentionMs >= Math.max(c.offlineAfterMs, c.roomMemberExpiryMs),
    'sessionRetentionMs',
    'must be ≥ offlineAfterMs and ≥ roomMemberExpiryMs',
  );
  rule(c.maxIdleMs >= c.awayAfterMs, 'maxIdleMs', 'must be ≥ awayAfterMs');
  if (input['adaptiveOffline'] !== undefined) {
    const adaptive = validateAdaptiveConfig(input['adaptiveOffline'], c);
    if (adaptive.ok) (merged as Record<string, unknown>)['adaptiveOffline'] = adaptive.config;
    else for (const i of adaptive.issues) bad(`adaptiveOffline.${i.field}`, i.reason);
  }
  return issues.length === 0 ? { ok: true, config: Object.freeze(c) } : { ok: false, issues };
}

function fallback(field: NumericField, input: Record<string, unknown>): unknown {
  if (field === 'refreshLeadMs' && input['heartbeatIntervalMs'] !== undefined) return input['heartbeatIntervalMs'];
  return DEFAULT_CONFIG[field];
}

/** Renders issues as one line, e.g. for a start-up failure message. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.reason}`).join('; ');
}
