/**
 * Adaptive offline detection, the pure part: a per-session estimate of the inter-heartbeat gap and
 * a phi-accrual-like expiry rule. Not wired into user.ts yet (see README.md, "Adaptive offline
 * detection (draft)").
 *
 * Replay-safe by construction: a session keeps the set of its most recent distinct heartbeat
 * instants (observedAt), sorted, at most `historySize` of them. The estimate is a pure function of
 * that set, and the set is a semilattice: recording = union with {observedAt} then keep the newest
 * K, so duplicates, replays and reordering give the same set (hence the same estimate), and merging
 * two copies is union-then-newest-K as well. Plain arrays of integers: JSON-friendly and small.
 */
import type { AdaptiveRuleConfig } from './adaptive-config';

/** Distinct heartbeat instants (epoch ms), strictly ascending, at most historySize of them. */
export type ArrivalHistory = readonly number[];

export const EMPTY_ARRIVALS: ArrivalHistory = Object.freeze([]) as ArrivalHistory;

/**
 * Records one heartbeat instant: the newest `k` distinct instants of history ∪ {observedAt}.
 * Returns `history` itself when nothing changes (a duplicate, or older than a full history).
 */
export function recordArrival(history: ArrivalHistory, observedAt: number, k: number): ArrivalHistory {
  const n = history.length;
  // Fast path: the usual case, a heartbeat newer than all the others.
  if (n === 0 || observedAt > (history[n - 1] as number)) {
    return n < k ? [...history, observedAt] : [...history.slice(n - k + 1), observedAt];
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((history[mid] as number) < observedAt) lo = mid + 1;
    else hi = mid;
  }
  if (history[lo] === observedAt) return history;
  if (n >= k && lo === 0) return history; // older than every kept instant of a full history
  const next = history.slice();
  next.splice(lo, 0, observedAt);
  return next.length > k ? next.slice(next.length - k) : next;
}

/** The newest `k` distinct instants of a ∪ b (commutative, associative, idempotent). */
export function mergeArrivals(a: ArrivalHistory, b: ArrivalHistory, k: number): ArrivalHistory {
  const out: number[] = [];
  let i = a.length - 1;
  let j = b.length - 1;
  while (out.length < k && (i >= 0 || j >= 0)) {
    const x = i >= 0 ? (a[i] as number) : -Infinity;
    const y = j >= 0 ? (b[j] as number) : -Infinity;
    const m = x >= y ? x : y;
    if (x === m) i--;
    if (y === m) j--;
    out.push(m);
  }
  out.reverse();
  if (sameArray(out, a)) return a;
  if (sameArray(out, b)) return b;
  return out;
}

function sameArray(x: readonly number[], y: readonly number[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Mean and standard deviation of the gaps of a history. */
export interface ArrivalEstimate {
  /** Number of gaps (history length − 1), ≥ 1. */
  readonly samples: number;
  readonly meanMs: number;
  /** Sample standard deviation (0 with one gap). */
  readonly stdDevMs: number;
}

/**
 * The gap estimate of a history, or null with fewer than two instants in its window. The window is
 * the instants after the last gap of `capMs` or more (the rule's maxOfflineAfterMs): a silence that
 * long took the session offline under any setting, so what came before it describes an earlier
 * link (another network, a laptop lid closed), not this one. That also keeps the estimate of a
 * session revived by late heartbeats after pruning equal to the unpruned one (see
 * validateAdaptiveConfig: sessionRetentionMs ≥ (historySize + 1) × maxOfflineAfterMs).
 */
export function arrivalEstimate(history: ArrivalHistory, capMs: number): ArrivalEstimate | null {
  let from = 0;
  for (let i = history.length - 1; i > 0; i--) {
    if ((history[i] as number) - (history[i - 1] as number) >= capMs) {
      from = i;
      break;
    }
  }
  const n = history.length - 1 - from;
  if (n < 1) return null;
  const mean = ((history[history.length - 1] as number) - (history[from] as number)) / n;
  let sq = 0;
  for (let i = from + 1; i < history.length; i++) {
    const d = (history[i] as number) - (history[i - 1] as number) - mean;
    sq += d * d;
  }
  return { samples: n, meanMs: mean, stdDevMs: n > 1 ? Math.sqrt(sq / (n - 1)) : 0 };
}

/**
 * z such that P(Z > z) = 10^−phi for a standard normal Z (Acklam's rational approximation, relative
 * error < 1.2e-9). Increasing in phi.
 */
export function normalTailQuantile(phi: number): number {
  const p = Math.pow(10, -phi);
  // Acklam: inverse CDF at p (lower tail), negated.
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  return -x;
}

/** Complementary error function (W. J. Cody's rational fit via Numerical Recipes' erfcc, |rel err| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * The suspicion of a silence of `elapsedMs` since the last heartbeat: −log10 P(gap > elapsed) with
 * gap ~ Normal(mean, max(stdDev, minStdDevMs)). For metrics and diagnostics; the rule itself uses the
 * closed form in adaptiveOfflineAfter.
 */
export function phi(estimate: ArrivalEstimate, elapsedMs: number, cfg: Pick<AdaptiveRuleConfig, 'minStdDevMs'>): number {
  const sd = Math.max(estimate.stdDevMs, cfg.minStdDevMs);
  const tail = 0.5 * erfc((elapsedMs - estimate.meanMs) / (sd * Math.SQRT2));
  return tail <= 0 ? Infinity : -Math.log10(tail);
}

/**
 * How long after its last heartbeat a session with this estimate is declared offline: the silence
 * at which phi reaches cfg.phiThreshold (mean + z·sd), clamped to [minOfflineAfterMs,
 * maxOfflineAfterMs] and rounded up to the ms. With no estimate, or fewer than minSamples gaps, the
 * fixed offlineAfterMs (which validation keeps within the clamp).
 */
export function adaptiveOfflineAfter(estimate: ArrivalEstimate | null, cfg: AdaptiveRuleConfig): number {
  if (estimate === null || estimate.samples < cfg.minSamples) return cfg.offlineAfterMs;
  const raw = estimate.meanMs + normalTailQuantile(cfg.phiThreshold) * Math.max(estimate.stdDevMs, cfg.minStdDevMs);
  return Math.ceil(Math.min(cfg.maxOfflineAfterMs, Math.max(cfg.minOfflineAfterMs, raw)));
}

/** The instant a session last seen at `lastSeen` is offline under the adaptive rule (ignores cfg.enabled). */
export function adaptiveOfflineDeadline(estimate: ArrivalEstimate | null, lastSeen: number, cfg: AdaptiveRuleConfig): number {
  return lastSeen + adaptiveOfflineAfter(estimate, cfg);
}

/** What the rule needs of a session: the fields of core's Session plus its arrival history. */
export interface SessionTimes {
  readonly lastSeen: number | null;
  readonly endedAt: number | null;
  /** recordArrival of every heartbeat's observedAt (absent = empty: the fixed rule applies). */
  readonly arrivals?: ArrivalHistory;
}

/**
 * The instant at which an open session goes offline with no newer event: lastSeen + the adaptive
 * deadline (cfg.enabled) or + offlineAfterMs (the fixed rule, so the default changes nothing).
 * Null when the session is not open (never heart-beat, or cleanly disconnected at or after its last
 * heartbeat): it is not live at any instant, as core's isOpen/isLive say. So, matching isLive:
 * live at t ⇔ sessionOfflineAt(s, cfg) !== null && t < sessionOfflineAt(s, cfg).
 */
export function sessionOfflineAt(s: SessionTimes, cfg: AdaptiveRuleConfig): number | null {
  if (s.lastSeen === null || (s.endedAt !== null && s.endedAt >= s.lastSeen)) return null;
  if (!cfg.enabled) return s.lastSeen + cfg.offlineAfterMs;
  return adaptiveOfflineDeadline(arrivalEstimate(s.arrivals ?? EMPTY_ARRIVALS, cfg.maxOfflineAfterMs), s.lastSeen, cfg);
}
