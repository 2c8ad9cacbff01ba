/**
 * Presence over the gateway socket: a socket follows a bounded list of users (subscribe /
 * unsubscribe frames), gets their current presence at once, then every change, exactly as the
 * query service's SSE stream would show them to that socket's user: the same PresenceStreams, so
 * the same viewer rules (self or others), clock-driven changes from one timer, and the processor
 * watermark rule.
 *
 * Lazy fan-out: the gateway holds the snapshots of the users its own sockets follow and nothing
 * else. A newly followed user's current snapshot comes from the query service's replica (POST
 * /v1/snapshots:batchGet, as a trusted caller); every later one from a tail of
 * presence.snapshot.v1 read from its end (SnapshotReplica in tail mode), which decodes only the
 * records of followed users. A user is added to the tail's filter before its fetch, so a snapshot
 * written meanwhile is not missed; the higher version wins.
 *
 * Contacts-only users: the hub also holds the contact lists of the users it follows (and only
 * theirs), so the streams show a user whose visibility is contacts to the sockets whose user is in
 * that list and Offline to the rest. The list comes with the fetched snapshot, later changes from a
 * tail of presence.contacts.v1 that decodes only followed owners' records (the key names the owner).
 * Contact records arriving while an owner's fetch is in flight are held and applied after the
 * fetched list (replaying a change the query replica already had is harmless: the last record per
 * key wins on both sides).
 */
import { idRejection, type ContactEvent, type PresenceConfig, type Rejection, type UserView } from '../core';
import { ContactBook } from '../platform/contacts-replica';
import type { Logger } from '../platform/log';
import { PresenceStreams, type StreamSink, type WatermarkSource } from '../query/presence-streams';
import type { PresenceBody } from '../query/read-model';

/** What the query service answers for one user (POST /v1/snapshots:batchGet). */
export interface FetchedSnapshot {
  readonly userId: string;
  readonly view: UserView | null;
  /** The query replica's watermark of the user's partition, if it knows one. */
  readonly watermark: number | null;
  /** The user's contact list (who sees them when their visibility is contacts); absent from an older query service: none. */
  readonly contacts?: readonly { readonly contact: string; readonly addedAt: number }[];
}

export type FetchSnapshots = (userIds: readonly string[]) => Promise<readonly FetchedSnapshot[]>;

export interface SubscriptionHubOptions {
  readonly cfg: PresenceConfig;
  readonly clock: () => number;
  readonly fetchSnapshots: FetchSnapshots;
  /** Users one socket may follow at once. */
  readonly maxPerSocket: number;
  /** The tail's partitioning and watermarks (the SnapshotReplica in tail mode). */
  readonly watermarks: WatermarkSource;
  readonly log: Logger;
}

/** A subscribe or unsubscribe the socket's client got wrong, naming the field. */
export class SubscriptionRejected extends Error {
  constructor(readonly rejection: Rejection) {
    super(`${rejection.field} ${rejection.reason}`);
  }
}

/** One socket's subscriptions. */
export interface SocketFollows {
  /** Follows `userIds` (more of them); resolves once each one's current presence was sent. Returns how many it follows now. */
  subscribe(userIds: unknown): Promise<number>;
  unsubscribe(userIds: unknown): number;
  close(): void;
}

export class SubscriptionHub {
  private readonly views = new Map<string, UserView>();
  /** Sockets following each user: the tail decodes only these. */
  private readonly followers = new Map<string, number>();
  /** Fetches in flight, by user: a second socket waits for the first's. */
  private readonly fetching = new Map<string, Promise<void>>();
  /** Watermarks the query service reported with fetched snapshots (the tail's may come later). */
  private readonly fetchedWatermarks = new Map<number, number>();
  /** The followed users' contact lists. */
  private readonly contacts = new ContactBook();
  /** Contact records of owners whose fetch is in flight, applied after the fetched list. */
  private readonly pendingContacts = new Map<string, ContactEvent[]>();
  private readonly streams: PresenceStreams;
  private sockets = 0;
  private follows = 0;

  constructor(private readonly o: SubscriptionHubOptions) {
    const source: WatermarkSource = {
      partitionOf: (u) => o.watermarks.partitionOf(u),
      watermark: (p) => {
        const tail = o.watermarks.watermark(p);
        const fetched = this.fetchedWatermarks.get(p) ?? null;
        return tail === null ? fetched : fetched === null ? tail : Math.max(tail, fetched);
      },
    };
    this.streams = new PresenceStreams({ users: this.views, cfg: o.cfg, clock: o.clock, watermarks: source, isContact: (owner, viewer) => this.contacts.isContact(owner, viewer) });
  }

  /** The tail's filter: is anyone here following `userId`? */
  isFollowed(userId: string): boolean {
    return this.followers.has(userId);
  }

  /** Subscriptions held (socket × user) and distinct users followed, for metrics and the bench. */
  get size(): { readonly sockets: number; readonly subscriptions: number; readonly users: number } {
    return { sockets: this.sockets, subscriptions: this.follows, users: this.followers.size };
  }

  /** A snapshot from the tail (null: a tombstone). Older versions than the one held are ignored. */
  applySnapshot(userId: string, view: UserView | null): void {
    if (!this.followers.has(userId)) return;
    if (!this.keep(userId, view)) return;
    if (!this.fetching.has(userId)) this.streams.updated(userId);
  }

  /** A record of the contacts tail (a followed owner's list changed). */
  applyContact(e: ContactEvent): void {
    if (!this.followers.has(e.owner)) return;
    const pending = this.pendingContacts.get(e.owner);
    if (pending) {
      pending.push(e);
      return;
    }
    this.contacts.apply(e);
    this.streams.contactsChanged(e.owner);
  }

  /** The tail saw a new processor watermark for a snapshot partition. */
  watermarkChanged(partition: number, watermark: number | null): void {
    this.streams.watermarkChanged(partition, watermark);
  }

  /** A socket of `callerId`: what it follows is sent as presence bodies to `send`. */
  open(callerId: string, send: (body: PresenceBody) => void): SocketFollows {
    const sink: StreamSink = { send };
    const mine = new Map<string, () => void>();
    let closed = false;
    this.sockets++;
    return {
      subscribe: async (raw) => {
        const userIds = this.idsOf(raw).filter((u) => !mine.has(u));
        if (mine.size + userIds.length > this.o.maxPerSocket) {
          throw new SubscriptionRejected({ code: 'too-many-entries', field: 'userIds', reason: `a socket follows at most ${this.o.maxPerSocket} users (it follows ${mine.size})` });
        }
        for (const u of userIds) mine.set(u, () => undefined); // reserved: a concurrent subscribe counts them
        try {
          await this.fetch(userIds);
        } catch (e) {
          // Not followed after all (those the socket dropped meanwhile were unfollowed then).
          for (const u of userIds) {
            if (!mine.has(u)) continue;
            mine.delete(u);
            this.unfollow(u);
          }
          throw e;
        }
        for (const u of userIds) {
          if (closed || !mine.has(u)) continue; // closed, or unsubscribed while fetching
          mine.set(u, this.streams.subscribe(callerId, [u], sink));
        }
        return mine.size;
      },
      unsubscribe: (raw) => {
        for (const u of this.idsOf(raw)) {
          const stop = mine.get(u);
          if (stop === undefined) continue;
          mine.delete(u);
          stop();
          this.unfollow(u);
        }
        return mine.size;
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.sockets--;
        for (const [u, stop] of mine) {
          stop();
          this.unfollow(u);
        }
        mine.clear();
      },
    };
  }

  close(): void {
    this.streams.close();
    this.views.clear();
    this.followers.clear();
    this.pendingContacts.clear();
  }

  /**
   * Follows each user once more (the caller unfollows them if this fails); fetches the current
   * snapshot of those nobody followed yet.
   */
  private async fetch(userIds: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: string[] = [];
    for (const u of userIds) {
      const n = this.followers.get(u) ?? 0;
      this.followers.set(u, n + 1);
      this.follows++;
      const inFlight = this.fetching.get(u);
      if (inFlight) waits.push(inFlight);
      else if (n === 0) fresh.push(u);
    }
    if (fresh.length > 0) {
      for (const u of fresh) this.pendingContacts.set(u, []);
      const done = this.o.fetchSnapshots(fresh).then((answers) => {
        for (const a of answers) {
          if (!this.followers.has(a.userId)) continue;
          this.keep(a.userId, a.view);
          this.contacts.replace(a.userId, (a.contacts ?? []).map((c) => [c.contact, c.addedAt] as const));
          for (const e of this.pendingContacts.get(a.userId) ?? []) this.contacts.apply(e);
          this.pendingContacts.delete(a.userId);
          const p = this.o.watermarks.partitionOf(a.userId);
          if (a.watermark !== null && p !== null && a.watermark > (this.fetchedWatermarks.get(p) ?? -Infinity)) this.fetchedWatermarks.set(p, a.watermark);
        }
      });
      const settled = done.finally(() => {
        for (const u of fresh) {
          if (this.fetching.get(u) === settled) this.fetching.delete(u);
          // Not in the answer (or the fetch failed): what the tail brought is all there is.
          for (const e of this.pendingContacts.get(u) ?? []) if (this.followers.has(u)) this.contacts.apply(e);
          this.pendingContacts.delete(u);
        }
      });
      for (const u of fresh) this.fetching.set(u, settled);
      waits.push(settled);
    }
    await Promise.all(waits);
  }

  /** Holds `view` for `userId` if it is newer than the one held; true when it changed. */
  private keep(userId: string, view: UserView | null): boolean {
    const held = this.views.get(userId);
    if (view === null) return held === undefined ? false : this.views.delete(userId);
    if (held !== undefined && held.version >= view.version) return false;
    this.views.set(userId, view);
    return true;
  }

  private unfollow(userId: string): void {
    const n = this.followers.get(userId);
    if (n === undefined) return;
    this.follows--;
    if (n > 1) this.followers.set(userId, n - 1);
    else {
      this.followers.delete(userId);
      this.views.delete(userId);
      this.contacts.forget(userId);
      this.pendingContacts.delete(userId);
    }
  }

  /** The frame's `userIds`: a non-empty array of ids (each checked like any id), deduplicated. */
  private idsOf(raw: unknown): string[] {
    if (!Array.isArray(raw) || raw.length === 0) throw new SubscriptionRejected({ code: 'wrong-type', field: 'userIds', reason: 'must be a non-empty array of user ids' });
    const out = new Set<string>();
    raw.forEach((v, i) => {
      if (typeof v !== 'string') throw new SubscriptionRejected({ code: 'wrong-type', field: `userIds.${i}`, reason: 'must be a string' });
      const bad = idRejection(`userIds.${i}`, v, this.o.cfg);
      if (bad) throw new SubscriptionRejected(bad);
      out.add(v);
    });
    return [...out];
  }
}
