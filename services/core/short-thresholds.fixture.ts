// Test-only: a small timescale so that, within one property run, sessions expire, users turn Away,
// members expire and overrides lapse. Caps are raised so bounds never evict during a run.
import { DEFAULT_CONFIG, type PresenceConfig } from './config';

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
