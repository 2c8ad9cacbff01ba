// Test-only: a small timescale so that, within one property run, sessions expire, users turn Away,
// members expire and overrides lapse. Caps are raised so bounds never evict during a run.
import { DEFAULT_CONFIG, validateConfig, type PresenceConfig } from './config';

export const SHORT_THRESHOLDS: PresenceConfig = {
  ...DEFAULT_CONFIG,
  heartbeatIntervalMs: 1_000,
  offlineAfterMs: 3_000,
  awayAfterMs: 5_000,
  roomMemberExpiryMs: 4_000,
  refreshLeadMs: 1_000,
  sessionRetentionMs: 10_000,
  maxIdleMs: 20_000,
  maxSessionsPerUser: 1_000,
  maxMembersPerRoom: 1_000,
};

/**
 * The adaptive offline rule on the same timescale: deadlines between 1.5 s and 4 s, around the fixed
 * 3 s, from a short arrival history.
 */
const adaptive = validateConfig({
  ...SHORT_THRESHOLDS,
  sessionRetentionMs: 24_000, // ≥ (historySize + 1) × maxOfflineAfterMs; sessions are still pruned within the horizon
  adaptiveOffline: { enabled: true, phiThreshold: 3, minOfflineAfterMs: 1_500, maxOfflineAfterMs: 4_000, minStdDevMs: 100, historySize: 5, minSamples: 2 },
});
if (!adaptive.ok) throw new Error(JSON.stringify(adaptive.issues));
export const ADAPTIVE_SHORT_THRESHOLDS: PresenceConfig = adaptive.config;
