/**
 * Server-Sent Events subscriptions to users' presence. Each stream gets the current state of its
 * users first, then an event whenever what that caller may see changes: a new snapshot in the
 * replica, or the clock alone (Away, Offline, an override expiring). Clock changes fire from one
 * timer at the earliest `readViewNextChange` over the watched users, never by polling.
 *
 * Processor watermarks: a user's status is read with the watermark W of its snapshot partition, but
 * its own timer is set from the snapshot alone (readViewNextChange without W: override expiry and
 * the leases), so a new watermark reschedules no user (that would be O(users) per second). While W
 * keeps arriving, the status of a watched user can change by the clock only at those instants; the
 * one other instant is a stall: W + watermarkGraceMs with no newer W. Each partition has one
 * deadline there; when it passes, that partition's watched users are re-evaluated once, and once
 * more when a watermark arrives again after a stall (or for the first time, or is forgotten), since
 * held users may read Online again.
 */
import { readViewNextChange, viewerOf, type PresenceConfig, type UserView, type Watermark } from '../core';
import { DeadlineQueue } from '../platform/deadline-queue';
import { SingleTimer } from '../platform/single-timer';
import { presenceBody, samePresence, type PresenceBody } from './read-model';

export interface StreamSink {
  /** Writes one `presence` event. */
  send(body: PresenceBody): void;
}

interface Subscription {
  readonly callerId: string;
  readonly sink: StreamSink;
  readonly last: Map<string, PresenceBody>;
}

/** Where the watermark of a user's partition comes from (the snapshot replica). */
export interface WatermarkSource {
  /** The snapshot partition of a user, or null while unknown (before the replica started). */
  partitionOf(userId: string): number | null;
  watermark(partition: number): number | null;
}

const NO_WATERMARKS: WatermarkSource = { partitionOf: () => null, watermark: () => null };

export class PresenceStreams {
  private readonly watchers = new Map<string, Set<Subscription>>();
  private readonly deadlines = new DeadlineQueue();
  /** One deadline per partition: its W + watermarkGraceMs (key: the partition number). */
  private readonly stalls = new DeadlineQueue();
  /** Watched users by snapshot partition; `unplaced`: watched before partitions were known. */
  private readonly byPartition = new Map<number, Set<string>>();
  private readonly unplaced = new Set<string>();
  private readonly watermarks: WatermarkSource;
  private readonly timer: SingleTimer;
  private subscriptions = 0;

  constructor(
    private readonly opts: {
      readonly users: ReadonlyMap<string, UserView>;
      readonly cfg: PresenceConfig;
      readonly clock: () => number;
      readonly watermarks?: WatermarkSource;
      /** Is `viewer` in `owner`'s contact list (a contacts-only owner is shown to them)? Default: no one is. */
      readonly isContact?: (owner: string, viewer: string) => boolean;
    },
  ) {
    this.watermarks = opts.watermarks ?? NO_WATERMARKS;
    this.timer = new SingleTimer(opts.clock, () => this.fire());
  }

  /** Open streams. */
  get size(): number {
    return this.subscriptions;
  }

  /** Sends the current state of each user, then follows them; returns the unsubscribe function. */
  subscribe(callerId: string, userIds: readonly string[], sink: StreamSink): () => void {
    const sub: Subscription = { callerId, sink, last: new Map() };
    this.subscriptions++;
    const now = this.opts.clock();
    for (const userId of new Set(userIds)) {
      let set = this.watchers.get(userId);
      if (!set) {
        this.watchers.set(userId, (set = new Set()));
        this.place(userId);
      }
      set.add(sub);
      this.deliver(sub, userId, now);
      this.reschedule(userId, now);
    }
    this.arm();
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.subscriptions--;
      for (const userId of sub.last.keys()) {
        const set = this.watchers.get(userId);
        set?.delete(sub);
        if (set?.size === 0) {
          this.watchers.delete(userId);
          this.deadlines.schedule(userId, null);
          this.unplace(userId);
        }
      }
    };
  }

  /** The replica applied a snapshot (or tombstone) for `userId`. */
  updated(userId: string): void {
    if (!this.watchers.has(userId)) return;
    const now = this.opts.clock();
    this.refresh(userId, now);
    this.arm();
  }

  /**
   * The replica's watermark of `partition` changed (it only rises, or is forgotten: null). O(log P)
   * while the partition keeps up; its watched users are re-evaluated only if it had stalled (its
   * previous W + grace passed), had no watermark before, or lost it.
   */
  watermarkChanged(partition: number, watermark: number | null): void {
    if (this.unplaced.size > 0) for (const userId of [...this.unplaced]) this.place(userId);
    const now = this.opts.clock();
    const pending = this.stalls.deadlineOf(String(partition));
    this.stalls.schedule(String(partition), watermark === null ? null : watermark + this.opts.cfg.watermarkGraceMs);
    // No pending deadline: the partition had no watermark yet, or had stalled (the deadline fired).
    if (pending === null || pending <= now || watermark === null) this.refreshPartition(partition, now);
    this.arm();
  }

  /**
   * `owner`'s contact list changed (`contact` added or removed): the streams following `owner` are
   * evaluated again (only a body that changed is sent, e.g. to `contact` when `owner` is contacts-only).
   */
  contactsChanged(owner: string): void {
    if (!this.watchers.has(owner)) return;
    const now = this.opts.clock();
    for (const sub of this.watchers.get(owner) ?? []) this.deliver(sub, owner, now);
  }

  close(): void {
    this.timer.clear();
    this.deadlines.clear();
    this.stalls.clear();
    this.watchers.clear();
    this.byPartition.clear();
    this.unplaced.clear();
  }

  private place(userId: string): void {
    const p = this.watermarks.partitionOf(userId);
    if (p === null) {
      this.unplaced.add(userId);
      return;
    }
    this.unplaced.delete(userId);
    let set = this.byPartition.get(p);
    if (!set) this.byPartition.set(p, (set = new Set()));
    set.add(userId);
  }

  private unplace(userId: string): void {
    this.unplaced.delete(userId);
    const p = this.watermarks.partitionOf(userId);
    const set = p === null ? undefined : this.byPartition.get(p);
    set?.delete(userId);
    if (set?.size === 0) this.byPartition.delete(p as number);
  }

  private watermarkOf(userId: string): Watermark {
    const p = this.watermarks.partitionOf(userId);
    return p === null ? null : this.watermarks.watermark(p);
  }

  private refreshPartition(partition: number, now: number): void {
    for (const userId of this.byPartition.get(partition) ?? []) this.refresh(userId, now);
  }

  private refresh(userId: string, now: number): void {
    for (const sub of this.watchers.get(userId) ?? []) this.deliver(sub, userId, now);
    this.reschedule(userId, now);
  }

  private deliver(sub: Subscription, userId: string, now: number): void {
    const viewer = viewerOf(sub.callerId, userId, this.opts.isContact);
    const body = presenceBody(userId, this.opts.users.get(userId), now, this.opts.cfg, viewer, this.watermarkOf(userId));
    const last = sub.last.get(userId);
    sub.last.set(userId, body);
    if (last === undefined || !samePresence(last, body)) sub.sink.send(body);
  }

  /** The user's own deadline, from the snapshot alone: a watermark never moves it (see above). */
  private reschedule(userId: string, now: number): void {
    const view = this.opts.users.get(userId);
    this.deadlines.schedule(userId, view === undefined ? null : readViewNextChange(view, now, this.opts.cfg));
  }

  /** One timer for the earliest deadline (a user's or a partition stall); re-armed only when that changes. */
  private arm(): void {
    const users = this.deadlines.next();
    const stall = this.stalls.next();
    const next = users === null ? stall : stall === null ? users : Math.min(users, stall);
    this.timer.arm(next);
  }

  private fire(): void {
    const now = this.opts.clock();
    for (const userId of this.deadlines.takeDue(now)) this.refresh(userId, now);
    // Stalled: W + grace passed with no newer W. The deadline is gone, so the next watermark of
    // the partition re-evaluates it once more.
    for (const p of this.stalls.takeDue(now)) this.refreshPartition(Number(p), now);
    this.arm();
  }
}
