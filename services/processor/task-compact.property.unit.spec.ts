import fc from 'fast-check';
import { DEFAULT_CONFIG, type PresenceConfig, type UserEvent } from '../core';
import { ADAPTIVE_SHORT_THRESHOLDS, SHORT_THRESHOLDS } from '../core/short-thresholds.fixture';
import { U, userEvent } from '../core/user-events.fixture';
import { PresenceTask, type PresenceTaskOptions } from './task';

const V = 'v';
const instantOf = (e: UserEvent) => ('observedAt' in e ? e.observedAt : e.setAt);

type Step =
  | { readonly kind: 'event'; readonly e: UserEvent }
  | { readonly kind: 'flush' }
  | { readonly kind: 'checkpoint' }
  | { readonly kind: 'take' }
  | { readonly kind: 'commit' }
  | { readonly kind: 'clock'; readonly dt: number }
  | { readonly kind: 'restore' };

/** Two users' events (the fixture's and a copy renamed), flushes, checkpoints, time passing, restores from the last checkpoint. */
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.tuple(userEvent, fc.boolean()).map(([e, other]): Step => ({ kind: 'event', e: other ? { ...e, userId: V } : e })), weight: 8 },
  { arbitrary: fc.constant<Step>({ kind: 'flush' }), weight: 3 },
  { arbitrary: fc.constant<Step>({ kind: 'checkpoint' }), weight: 3 },
  // A checkpoint taken, then committed after more steps (its records in flight meanwhile).
  { arbitrary: fc.constant<Step>({ kind: 'take' }), weight: 2 },
  { arbitrary: fc.constant<Step>({ kind: 'commit' }), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 12_000 }).map((dt): Step => ({ kind: 'clock', dt })), weight: 3 },
  { arbitrary: fc.constant<Step>({ kind: 'restore' }), weight: 1 },
);

/** One task and the store its committed checkpoints wrote (what a restore reads back). */
class Run {
  task: PresenceTask;
  readonly store = new Map<string, Buffer>();
  private inFlight: ReturnType<PresenceTask['checkpoint']> | null = null;
  constructor(private readonly cfg: PresenceConfig, private readonly options: PresenceTaskOptions) {
    this.task = new PresenceTask(0, cfg, options);
  }
  checkpoint(at: number) {
    this.take(at);
    return this.commit();
  }
  take(at: number) {
    this.inFlight ??= this.task.checkpoint({ at, snapshotEnd: null, roomSnapshotEnd: null });
    return this.inFlight.changelog;
  }
  commit() {
    const cp = this.inFlight;
    if (cp === null) return [];
    this.inFlight = null;
    cp.commit();
    for (const { key, value } of cp.changelog) {
      if (value === null) this.store.delete(key);
      else this.store.set(key, value);
    }
    return cp.changelog;
  }
  restore(now: number): void {
    this.inFlight = null; // lost with the process
    this.task = new PresenceTask(0, this.cfg, this.options);
    this.task.resetLoad(now); // as a restore does: quiet users are left compact as they load
    this.task.load(this.store);
    this.task.start(now);
  }
}

describe('compact entries (PresenceTask compactQuietMs)', () => {
  it.each<[string, PresenceConfig]>([
    ['short thresholds', SHORT_THRESHOLDS], ['the adaptive offline rule', ADAPTIVE_SHORT_THRESHOLDS], ['watermark leases', { ...SHORT_THRESHOLDS, snapshotLeases: 'watermark' }], ['the defaults', DEFAULT_CONFIG],
  ])('a task that packs quiet users writes exactly what one that never does writes (%s)', (_, cfg) => {
    let packedSomewhere = 0;
    let warmedFromPacked = 0;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const plain = new Run(cfg, { compactQuietMs: 0 });
        // 1 ms: every user with nothing due right now is packed whenever it may be.
        const compacting = new Run(cfg, { compactQuietMs: 1 });
        let now = 0;
        for (const s of steps) {
          if (s.kind === 'event') {
            now = Math.max(now, instantOf(s.e));
            const wasPacked = compacting.task.compactCount;
            plain.task.applyUser(s.e, now);
            compacting.task.applyUser(s.e, now);
            if (compacting.task.compactCount < wasPacked) warmedFromPacked++;
          } else if (s.kind === 'flush' || s.kind === 'clock') {
            if (s.kind === 'clock') {
              now += s.dt;
              expect(compacting.task.fireDue(now)).toBe(plain.task.fireDue(now));
            }
            const a = plain.task.flush(now);
            const b = compacting.task.flush(now);
            expect(b.snapshots).toEqual(a.snapshots);
            expect(b.changes).toEqual(a.changes);
            a.commit();
            b.commit();
          } else if (s.kind === 'checkpoint' || s.kind === 'take' || s.kind === 'commit') {
            const step = s.kind;
            expect(compacting[step](now)).toEqual(plain[step](now));
            packedSomewhere += compacting.task.compactCount;
          } else {
            plain.restore(now);
            compacting.restore(now);
            packedSomewhere += compacting.task.compactCount;
          }
          for (const u of [U, V]) expect(compacting.task.user(u)).toEqual(plain.task.user(u));
          expect(compacting.task.size).toBe(plain.task.size);
          expect(compacting.task.pending).toBe(plain.task.pending);
        }
      }),
      { numRuns: 1_500 },
    );
    // Users were packed and then decoded by an event, so the law above is not vacuous.
    expect(packedSomewhere).toBeGreaterThan(100);
    expect(warmedFromPacked).toBeGreaterThan(20);
  });

  it('a checkpoint does not pack a user touched after it was taken (its bytes would lose the newer lastSeen)', () => {
    const t0 = 1_700_000_000_000;
    const beat = (at: number) => ({ type: 'heartbeat' as const, userId: 'ann', deviceId: 'd', sessionId: 's', platform: 'web' as const, observedAt: at, idleMs: 0 });
    const run = new Run(DEFAULT_CONFIG, { compactQuietMs: 1 });
    run.task.applyUser(beat(t0), t0);
    run.task.flush(t0).commit();
    run.take(t0);
    run.task.applyUser(beat(t0 + 5_000), t0 + 5_000); // soft: only lastSeen moves, nothing to save
    run.task.flush(t0 + 5_000).commit();
    run.commit();
    expect(run.task.compactCount).toBe(0);
    expect(run.task.user('ann')?.state.lastSeen).toBe(t0 + 5_000);
    // Untouched since, the next checkpoint packs it (nothing is unsaved: the marker alone is written).
    run.task.applyUser({ ...beat(t0 + 6_000), sessionId: 's2' }, t0 + 6_000); // durable: a new session
    run.task.flush(t0 + 6_000).commit();
    run.checkpoint(t0 + 6_000);
    expect(run.task.compactCount).toBe(1);
    expect(run.task.user('ann')?.state.lastSeen).toBe(t0 + 6_000);
  });

  it('a restore leaves the quiet users packed, and their next event decodes them', () => {
    const t0 = 1_700_000_000_000;
    const run = new Run(DEFAULT_CONFIG, { compactQuietMs: 60_000 });
    for (const [i, u] of ['ann', 'bob', 'cy'].entries()) {
      run.task.applyUser({ type: 'heartbeat', userId: u, deviceId: 'd', sessionId: 's', platform: 'web', observedAt: t0 + i, idleMs: 0 }, t0 + i);
    }
    run.task.applyUser({ type: 'disconnect', userId: 'cy', deviceId: 'd', sessionId: 's', platform: 'web', observedAt: t0 + 3 }, t0 + 3);
    run.task.flush(t0 + 3).commit();
    run.checkpoint(t0 + 3);
    // ann and bob expire at the offline threshold (45 s: not quiet for 60 s); cy is offline, kept for the retention.
    expect(run.task.compactCount).toBe(1);
    run.restore(t0 + 10);
    expect(run.task.compactCount).toBe(1);
    expect(run.task.user('cy')?.state.sessions).toHaveLength(1);
    expect(run.task.compactCount).toBe(1); // a look does not decode it
    run.task.applyUser({ type: 'heartbeat', userId: 'cy', deviceId: 'd', sessionId: 's2', platform: 'web', observedAt: t0 + 20, idleMs: 0 }, t0 + 20);
    expect(run.task.compactCount).toBe(0);
    const flushed = run.task.flush(t0 + 20);
    expect(flushed.snapshots.map((s) => [s.key, s.value.status])).toEqual([['cy', 'Online']]);
  });
});
