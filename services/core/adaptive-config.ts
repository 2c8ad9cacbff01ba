/**
 * Configuration of adaptive (phi-accrual-like) offline detection: PresenceConfig.adaptiveOffline,
 * validated here against the presence thresholds; see README.md, "Adaptive offline detection".
 * Off by default: with `enabled: false` the rule is exactly the fixed offlineAfterMs.
 */
import type { PresenceConfig } from './config';
import { readOverrides, type ConfigIssue } from './config-overrides';

export interface AdaptiveOfflineConfig {
  /** Use the per-session rule instead of the fixed offlineAfterMs. Default false. */
  readonly enabled: boolean;
  /**
   * Suspicion level at which a silent session is declared offline: phi = −log10 P(gap > silence)
   * under a normal model of the session's recent inter-heartbeat gaps. 1 ≈ 10 % chance that a live
   * session would still be silent, 3 ≈ 0.1 %, 8 ≈ 1e-8. Finite, > 0 and ≤ 16. Default 8.
   */
  readonly phiThreshold: number;
  /** The adaptive deadline is never shorter than this after lastSeen. Default 20 000 ms. */
  readonly minOfflineAfterMs: number;
  /**
   * Nor longer than this. Default = offlineAfterMs, so the worst case never gets worse than the
   * fixed rule; a larger value lets sessions whose history shows long gaps wait longer (and makes
   * their departures slower to detect: see the simulation table in README.md).
   */
  readonly maxOfflineAfterMs: number;
  /** Floor of the gap standard deviation used (a perfectly regular link is not trusted to the ms). Default 1 000 ms. */
  readonly minStdDevMs: number;
  /** Distinct heartbeat instants kept per session (so up to this − 1 gaps). 3..64. Default 16. */
  readonly historySize: number;
  /** Gaps needed before the adaptive rule applies; below it the fixed offlineAfterMs is used. ≥ 1, < historySize. Default 4. */
  readonly minSamples: number;
}

/** The rule reads these. A PresenceConfig merged with an AdaptiveOfflineConfig satisfies it. */
export type AdaptiveRuleConfig = Pick<PresenceConfig, 'offlineAfterMs'> & AdaptiveOfflineConfig;

export function defaultAdaptiveOfflineConfig(presence: Pick<PresenceConfig, 'offlineAfterMs'>): AdaptiveOfflineConfig {
  return Object.freeze({
    enabled: false,
    phiThreshold: 8,
    minOfflineAfterMs: 20_000,
    maxOfflineAfterMs: presence.offlineAfterMs,
    minStdDevMs: 1_000,
    historySize: 16,
    minSamples: 4,
  });
}

const FIELDS: readonly (keyof AdaptiveOfflineConfig)[] = [
  'enabled', 'phiThreshold', 'minOfflineAfterMs', 'maxOfflineAfterMs', 'minStdDevMs', 'historySize', 'minSamples',
];

/** The core's config issue: which field and why. */
export type AdaptiveConfigIssue = ConfigIssue;

export type AdaptiveConfigResult =
  | { readonly ok: true; readonly config: AdaptiveRuleConfig }
  | { readonly ok: false; readonly issues: readonly AdaptiveConfigIssue[] };

/**
 * Merges `overrides` over the defaults (maxOfflineAfterMs follows presence.offlineAfterMs unless
 * set) and validates against the presence configuration. Never throws; lists every bad field.
 */
export function validateAdaptiveConfig(
  overrides: unknown,
  presence: Pick<PresenceConfig, 'offlineAfterMs' | 'heartbeatIntervalMs' | 'sessionRetentionMs'>,
): AdaptiveConfigResult {
  const read = readOverrides(overrides, FIELDS);
  if (!read.ok) return read;
  const { input, issues, bad } = read;
  const d = defaultAdaptiveOfflineConfig(presence);
  const pick = <K extends keyof AdaptiveOfflineConfig>(k: K): unknown => (input[k] === undefined ? d[k] : input[k]);
  const enabled = pick('enabled');
  if (typeof enabled !== 'boolean') bad('enabled', `must be a boolean, got ${String(enabled)}`);
  const phi = pick('phiThreshold');
  if (typeof phi !== 'number' || !Number.isFinite(phi) || phi <= 0 || phi > 16) bad('phiThreshold', `must be a number in (0, 16], got ${String(phi)}`);
  const ints: Record<string, number> = {};
  for (const k of ['minOfflineAfterMs', 'maxOfflineAfterMs', 'minStdDevMs', 'historySize', 'minSamples'] as const) {
    const v = pick(k);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      bad(k, `must be a non-negative integer, got ${String(v)}`);
      ints[k] = d[k];
    } else ints[k] = v;
  }
  const c = { ...d, ...ints, enabled: enabled === true, phiThreshold: typeof phi === 'number' ? phi : d.phiThreshold } as AdaptiveOfflineConfig;
  const rule = (ok: boolean, field: keyof AdaptiveOfflineConfig, reason: string): void => {
    if (!ok) bad(field, reason);
  };
  rule(c.minOfflineAfterMs > presence.heartbeatIntervalMs, 'minOfflineAfterMs', 'must be > heartbeatIntervalMs');
  rule(c.minOfflineAfterMs <= presence.offlineAfterMs, 'minOfflineAfterMs', 'must be ≤ offlineAfterMs');
  rule(c.maxOfflineAfterMs >= presence.offlineAfterMs, 'maxOfflineAfterMs', 'must be ≥ offlineAfterMs');
  rule(c.maxOfflineAfterMs <= presence.sessionRetentionMs, 'maxOfflineAfterMs', 'must be ≤ sessionRetentionMs');
  rule(c.minStdDevMs >= 1, 'minStdDevMs', 'must be ≥ 1');
  rule(c.historySize >= 3 && c.historySize <= 64, 'historySize', 'must be in 3..64');
  rule(c.minSamples >= 1 && c.minSamples < c.historySize, 'minSamples', 'must be ≥ 1 and < historySize');
  // A session pruned after sessionRetentionMs and revived by late heartbeats must estimate as if it
  // had never been pruned: the window (arrival.ts) then holds only heartbeats after the pruned ones.
  rule(
    presence.sessionRetentionMs >= (c.historySize + 1) * c.maxOfflineAfterMs,
    'historySize',
    `(historySize + 1) × maxOfflineAfterMs must be ≤ sessionRetentionMs (${presence.sessionRetentionMs} ms)`,
  );
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: Object.freeze({ offlineAfterMs: presence.offlineAfterMs, ...c }) };
}
