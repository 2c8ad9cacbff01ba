import fc from 'fast-check';
import { IDLE_COALESCE, closeWindow, drainHeld, mergeBeats, offerBeat, type Beat, type CoalesceState } from './coalesce';

const W = 1_000;
const beat = (observedAt: number, idleMs = 0): Beat => ({ observedAt, idleMs });

/** Feeds beats (each arriving at its observedAt) and closes windows as a timer would; returns what was published. */
function run(beats: readonly Beat[], windowMs = W): { published: Beat[]; sentAt: number[]; state: CoalesceState } {
  let state = IDLE_COALESCE;
  const published: Beat[] = [];
  const sentAt: number[] = [];
  const closeUpTo = (now: number) => {
    while (state.windowEndsAt !== null && state.windowEndsAt <= now) {
      const at = state.windowEndsAt;
      const s = closeWindow(state, at, windowMs);
      state = s.state;
      if (s.publish) published.push(s.publish), sentAt.push(at);
    }
  };
  for (const b of beats) {
    closeUpTo(b.observedAt);
    const s = offerBeat(state, b, b.observedAt, windowMs);
    state = s.state;
    if (s.publish) published.push(s.publish), sentAt.push(b.observedAt);
  }
  closeUpTo(Number.MAX_SAFE_INTEGER);
  return { published, sentAt, state };
}

describe('heartbeat coalescing', () => {
  it.each<[string, Beat[], Beat[]]>([
    ['a single beat goes out at once', [beat(0, 500)], [beat(0, 500)]],
    ['beats a heartbeat interval apart all go out', [beat(0), beat(15_000), beat(30_000)], [beat(0), beat(15_000), beat(30_000)]],
    ['a burst of an active tab: the first, then one with the newest activity', [beat(0), beat(100), beat(200), beat(900)], [beat(0), beat(900)]],
    ['a burst of background tabs with older activity: only the first', [beat(0, 0), beat(100, 5_000), beat(300, 60_000)], [beat(0, 0)]],
    ['the newest activity wins over the latest observation', [beat(0, 10_000), beat(100, 0), beat(500, 60_000)], [beat(0, 10_000), beat(500, 400)]],
    ['idle becoming active inside the window goes out at its end', [beat(0, 400_000), beat(300, 0)], [beat(0, 400_000), beat(300, 0)]],
    ['a steady stream faster than the window: one per window', [0, 250, 500, 750, 1_000, 1_250, 1_500, 1_750, 2_000, 2_250].map((t) => beat(t)), [beat(0), beat(750), beat(1_750), beat(2_250)]],
  ])('%s', (_name, input, expected) => {
    expect(run(input).published).toEqual(expected);
  });

  it('drains a held beat with newer activity when the session ends', () => {
    let s = offerBeat(IDLE_COALESCE, beat(0, 1_000), 0, W).state;
    s = offerBeat(s, beat(200, 0), 200, W).state;
    expect(drainHeld(s)).toEqual(beat(200, 0));
    expect(drainHeld(offerBeat(s, beat(300, 5_000), 300, W).state)).toEqual(beat(300, 100));
    expect(drainHeld(offerBeat(IDLE_COALESCE, beat(0), 0, W).state)).toBeNull();
  });

  it('closing before the window ends changes nothing', () => {
    const s = offerBeat(offerBeat(IDLE_COALESCE, beat(0), 0, W).state, beat(10), 10, W).state;
    expect(closeWindow(s, 999, W)).toEqual({ state: s, publish: null });
    expect(closeWindow(IDLE_COALESCE, 5, W)).toEqual({ state: IDLE_COALESCE, publish: null });
  });

  it('merging clamps to the latest observation', () => {
    expect(mergeBeats(beat(100, 0), beat(50, 0))).toEqual(beat(100, 0));
  });

  const beats = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3_000 }), idleMs: fc.integer({ min: 0, max: 20_000 }) }), { minLength: 1, maxLength: 60 })
    .map((xs) => {
      let t = 1_000_000;
      return xs.map(({ gap, idleMs }) => beat((t += gap), idleMs));
    });
  const act = (b: Beat) => b.observedAt - b.idleMs;

  it('property: the newest activity is always published, and nothing newer than was sent', () => {
    fc.assert(fc.property(beats, (input) => {
      const { published } = run(input);
      expect(Math.max(...published.map(act))).toBe(Math.max(...input.map(act)));
      for (const p of published) expect(input.some((b) => b.observedAt === p.observedAt)).toBe(true);
    }));
  });

  it('property: at most one publish per window', () => {
    fc.assert(fc.property(beats, (input) => {
      const { sentAt } = run(input);
      for (let i = 1; i < sentAt.length; i++) expect((sentAt[i] as number) - (sentAt[i - 1] as number)).toBeGreaterThanOrEqual(W);
    }));
  });

  it('property: a beat arriving when nothing was sent for a window goes out at once, unchanged', () => {
    fc.assert(fc.property(beats, (input) => {
      const { published, sentAt } = run(input);
      for (const b of input) {
        const quiet = !sentAt.some((t) => t > b.observedAt - W && t <= b.observedAt);
        if (quiet) expect(published).toContain(b);
      }
    }));
  });
});
