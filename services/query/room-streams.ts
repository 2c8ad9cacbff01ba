/**
 * Server-Sent Events subscriptions to rooms: who is in the room and what each member is doing
 * (typing). Each stream gets the room's current body first, then one whenever what the caller sees
 * changes: a new room snapshot in the replica, or the clock alone (a member's lease running out, an
 * ephemeral state lapsing). Clock changes fire from one timer at the earliest readRoomViewNextChange
 * over the watched rooms, never by polling.
 */
import { readRoomViewNextChange, type PresenceConfig, type RoomView } from '../core';
import { DeadlineQueue } from '../platform/deadline-queue';
import { SingleTimer } from '../platform/single-timer';
import { roomBody, type RoomBody } from '../platform/viewer';

export interface RoomStreamSink {
  /** Writes one `room` event. */
  send(body: RoomBody): void;
}

interface RoomSubscription {
  readonly callerId: string;
  readonly roomKind: string;
  readonly roomId: string;
  readonly sink: RoomStreamSink;
  last: string | null;
}

export class RoomStreams {
  private readonly watchers = new Map<string, Set<RoomSubscription>>();
  private readonly deadlines = new DeadlineQueue();
  private readonly timer: SingleTimer;
  private subscriptions = 0;

  constructor(
    private readonly opts: {
      readonly rooms: ReadonlyMap<string, RoomView>;
      readonly cfg: PresenceConfig;
      readonly clock: () => number;
      /** Whether `callerId` sees `memberId`'s exact times (memberTimesShown: visibility, contacts, last-seen privacy). */
      readonly timesShown: (callerId: string, memberId: string) => boolean;
    },
  ) {
    this.timer = new SingleTimer(opts.clock, () => this.fire());
  }

  /** Open streams. */
  get size(): number {
    return this.subscriptions;
  }

  /** Sends the room's current body, then follows it; returns the unsubscribe function. */
  subscribe(callerId: string, roomKind: string, roomId: string, sink: RoomStreamSink): () => void {
    const key = `${roomKind}/${roomId}`;
    const sub: RoomSubscription = { callerId, roomKind, roomId, sink, last: null };
    this.subscriptions++;
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(sub);
    const now = this.opts.clock();
    this.deliver(sub, key, now);
    this.reschedule(key, now);
    this.arm();
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.subscriptions--;
      set?.delete(sub);
      if (set?.size === 0) {
        this.watchers.delete(key);
        this.deadlines.schedule(key, null);
      }
    };
  }

  /** The replica applied a room snapshot (or tombstone) for `key`. */
  updated(key: string): void {
    if (!this.watchers.has(key)) return;
    this.refresh(key, this.opts.clock());
    this.arm();
  }

  /**
   * `owner`'s contact list changed: the watched rooms `owner` is in are rendered again for their
   * streams (only those whose body changed are sent). O(watched rooms × members) per contact change,
   * which is rare next to snapshots.
   */
  contactsChanged(owner: string): void {
    const now = this.opts.clock();
    for (const key of this.watchers.keys()) {
      if (this.opts.rooms.get(key)?.members.some((m) => m.userId === owner)) {
        for (const sub of this.watchers.get(key) ?? []) this.deliver(sub, key, now);
      }
    }
  }

  close(): void {
    this.timer.clear();
    this.deadlines.clear();
    this.watchers.clear();
  }

  private refresh(key: string, now: number): void {
    for (const sub of this.watchers.get(key) ?? []) this.deliver(sub, key, now);
    this.reschedule(key, now);
  }

  private deliver(sub: RoomSubscription, key: string, now: number): void {
    const body = roomBody(sub.roomKind, sub.roomId, this.opts.rooms.get(key), now, this.opts.cfg, sub.callerId, (m) => this.opts.timesShown(sub.callerId, m));
    // Bodies are small and built in a fixed key order: their JSON is a faithful equality.
    const json = JSON.stringify(body);
    if (json === sub.last) return;
    sub.last = json;
    sub.sink.send(body);
  }

  private reschedule(key: string, now: number): void {
    this.deadlines.schedule(key, readRoomViewNextChange(this.opts.rooms.get(key) ?? null, now, this.opts.cfg));
  }

  private arm(): void {
    const next = this.deadlines.next();
    this.timer.arm(next);
  }

  private fire(): void {
    const now = this.opts.clock();
    for (const key of this.deadlines.takeDue(now)) this.refresh(key, now);
    this.arm();
  }
}
