/**
 * Server-Sent Events subscriptions to users' presence. Each stream gets the current state of its
 * users first, then an event whenever what that caller may see changes: a new snapshot in the
 * replica, or the clock alone (Away, Offline, an override expiring). Clock changes fire from one
 * timer at the earliest `readViewNextChange` over the watched users, never by polling.
 */
import { readViewNextChange, type PresenceConfig, type UserView } from '../core';
import { DeadlineQueue } from '../platform/deadline-queue';
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

export class PresenceStreams {
  private readonly watchers = new Map<string, Set<Subscription>>();
  private readonly deadlines = new DeadlineQueue();
  private timer: NodeJS.Timeout | null = null;
  private timerAt: number | null = null;
  private subscriptions = 0;

  constructor(
    private readonly opts: {
      readonly users: ReadonlyMap<string, UserView>;
      readonly cfg: PresenceConfig;
      readonly clock: () => number;
    },
  ) {}

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
      if (!set) this.watchers.set(userId, (set = new Set()));
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

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = null;
    this.deadlines.clear();
    this.watchers.clear();
  }

  private refresh(userId: string, now: number): void {
    for (const sub of this.watchers.get(userId) ?? []) this.deliver(sub, userId, now);
    this.reschedule(userId, now);
  }

  private deliver(sub: Subscription, userId: string, now: number): void {
    const body = presenceBody(userId, this.opts.users.get(userId), now, this.opts.cfg, sub.callerId === userId ? 'self' : 'others');
    const last = sub.last.get(userId);
    sub.last.set(userId, body);
    if (last === undefined || !samePresence(last, body)) sub.sink.send(body);
  }

  private reschedule(userId: string, now: number): void {
    const view = this.opts.users.get(userId);
    this.deadlines.schedule(userId, view === undefined ? null : readViewNextChange(view, now, this.opts.cfg));
  }

  /** One timer for the earliest deadline; re-armed only when that changes. */
  private arm(): void {
    const next = this.deadlines.next();
    if (next === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = next;
    if (next === null) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - this.opts.clock()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = null;
    const now = this.opts.clock();
    for (const userId of this.deadlines.takeDue(now)) this.refresh(userId, now);
    this.arm();
  }
}
