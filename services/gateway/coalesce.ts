/**
 * Heartbeat coalescing for one session, pure: at most one publish per window.
 *
 * Multi-tab flapping and chatty clients (a heartbeat on every focus or visibility change) send
 * bursts. The first heartbeat after a quiet window goes out at once, so a user coming back is
 * Online without delay and the regular 15 s beat never waits. Heartbeats that arrive inside the
 * window are merged into one held beat (newest activity, latest observation) that goes out when
 * the window closes, and only if it reports newer activity than what was published: a held beat
 * with no newer activity would move lastSeen by less than the window, which no reader can see.
 *
 * Activity is `observedAt - idleMs`; the merge is the same MAX the processor applies, so
 * coalescing never changes the user's status, only how many records carry it.
 */

/** A heartbeat as the gateway observed it. */
export interface Beat {
  readonly observedAt: number;
  readonly idleMs: number;
}

export interface CoalesceState {
  /** When the current window closes; null: no window open, the next beat goes out at once. */
  readonly windowEndsAt: number | null;
  /** Activity (observedAt - idleMs) of the last published beat. */
  readonly publishedActivity: number;
  /** Beats merged inside the open window, not yet published. */
  readonly held: Beat | null;
}

export const IDLE_COALESCE: CoalesceState = Object.freeze({ windowEndsAt: null, publishedActivity: -Infinity, held: null });

export interface Step {
  readonly state: CoalesceState;
  /** The beat to publish now, if any. */
  readonly publish: Beat | null;
}

const activity = (b: Beat): number => b.observedAt - b.idleMs;

/** The newest activity and the latest observation of two beats, as one beat. */
export function mergeBeats(a: Beat, b: Beat): Beat {
  const observedAt = Math.max(a.observedAt, b.observedAt);
  const newest = Math.max(activity(a), activity(b));
  return { observedAt, idleMs: Math.max(0, observedAt - newest) };
}

/** A heartbeat arrived at `now` (its observedAt). */
export function offerBeat(state: CoalesceState, beat: Beat, now: number, windowMs: number): Step {
  const open = state.windowEndsAt !== null && now < state.windowEndsAt;
  if (!open) {
    return { state: { windowEndsAt: now + windowMs, publishedActivity: activity(beat), held: null }, publish: beat };
  }
  return { state: { ...state, held: state.held ? mergeBeats(state.held, beat) : beat }, publish: null };
}

/**
 * The window's end (call at or after `windowEndsAt`): the held beat goes out if it has newer
 * activity, and opens the next window, so a steady stream yields one publish per window.
 */
export function closeWindow(state: CoalesceState, now: number, windowMs: number): Step {
  if (state.windowEndsAt === null || now < state.windowEndsAt) return { state, publish: null };
  const held = state.held;
  if (held && activity(held) > state.publishedActivity) {
    return { state: { windowEndsAt: now + windowMs, publishedActivity: activity(held), held: null }, publish: held };
  }
  return { state: { windowEndsAt: null, publishedActivity: state.publishedActivity, held: null }, publish: null };
}

/** What must still go out when the session ends (before its disconnect): the held beat, if it has newer activity. */
export function drainHeld(state: CoalesceState): Beat | null {
  return state.held && activity(state.held) > state.publishedActivity ? state.held : null;
}
