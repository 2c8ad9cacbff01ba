/**
 * The state of one input partition (a "task": the same partition number of the heartbeat,
 * override and room topics, and of the changelog), and what it must write. Pure apart from its own
 * memory: Kafka and LevelDB are driven by processor.ts.
 *
 * Emit-on-change that survives crashes: `emitted` is the last view whose snapshot the broker
 * acknowledged. `flush` decides against it and returns the records to write plus a `commit` to call
 * only after they were acknowledged; the changelog entry written with them carries that view, so a
 * restart compares against what readers really got and never swallows a snapshot.
 */
import {
  applyEvent, applyRoomEvent, initialRoomState, initialUserState, nextDeadline, nextSnapshotCheck,
  roomIsGone, roomNextDeadline, roomNextSnapshotCheck, roomSnapshotDecision, roomTick, roomView,
  snapshotDecision, statusTransition, tick, userView,
  type PresenceConfig, type RoomEvent, type RoomState, type RoomView, type UserEvent, type UserState, type UserView,
} from '../core';
import type { PresenceChange, PresenceSnapshot, RoomSnapshot } from '../contract/avro-types';
import { toRoomSnapshot, toSnapshot } from '../contract/snapshot-codec';
import { DeadlineQueue } from '../platform/deadline-queue';

interface UserEntry { readonly kind: 'user'; state: UserState; emitted: UserView | null }
interface RoomEntry { readonly kind: 'room'; state: RoomState; emitted: RoomView | null }
type Entry = UserEntry | RoomEntry;

/** Changelog/store keys: `u/<userId>` and `r/<roomKind>/<roomId>`. */
export const userStoreKey = (userId: string) => `u/${userId}`;
export const roomStoreKey = (roomKey: string) => `r/${roomKey}`;

export interface Keyed<V> { readonly key: string; readonly value: V }

export interface FlushResult {
  readonly snapshots: Keyed<PresenceSnapshot>[];
  readonly roomSnapshots: Keyed<RoomSnapshot | null>[];
  readonly changes: Keyed<PresenceChange>[];
  /** Store key → encoded entry (null deletes it): both the changelog records and the LevelDB batch. */
  readonly changelog: Keyed<string | null>[];
  readonly reasons: Record<string, number>;
  /** Call once every record above was acknowledged: records what readers got, re-arms timers. */
  commit(): void;
}

const ENTRY_FORMAT = 1;

export function encodeEntry(entry: Entry): string {
  return JSON.stringify({ f: ENTRY_FORMAT, k: entry.kind, s: entry.state, e: entry.emitted });
}

export function decodeEntry(encoded: string): Entry {
  const raw = JSON.parse(encoded) as { f: number; k: 'user' | 'room'; s: unknown; e: unknown };
  if (raw.f !== ENTRY_FORMAT || (raw.k !== 'user' && raw.k !== 'room')) throw new Error(`unknown store entry format ${raw.f}/${raw.k}`);
  return raw.k === 'user'
    ? { kind: 'user', state: raw.s as UserState, emitted: raw.e as UserView | null }
    : { kind: 'room', state: raw.s as RoomState, emitted: raw.e as RoomView | null };
}

export class PresenceTask {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();
  readonly deadlines = new DeadlineQueue();

  constructor(readonly partition: number, private readonly cfg: PresenceConfig) {}

  get size(): number {
    return this.entries.size;
  }

  /** Loads restored entries (local store, then changelog delta) and re-arms every timer. */
  load(entries: Iterable<readonly [string, string]>, now: number): void {
    for (const [key, encoded] of entries) this.entries.set(key, decodeEntry(encoded));
    for (const [key, entry] of this.entries) {
      this.schedule(key, entry, now);
      // Deadlines that passed while nobody owned this partition: decide at the next flush.
      if (this.emitDecision(entry, now).emit) this.dirty.add(key);
    }
  }

  applyUser(event: UserEvent, now: number): void {
    const key = userStoreKey(event.userId);
    const entry = this.entries.get(key) as UserEntry | undefined;
    const before = entry?.state ?? initialUserState(event.userId);
    const after = applyEvent(before, event, now, this.cfg);
    if (after === before && entry) return;
    if (entry) entry.state = after;
    else this.entries.set(key, { kind: 'user', state: after, emitted: null });
    this.dirty.add(key);
  }

  applyRoom(event: RoomEvent, now: number): void {
    const key = roomStoreKey(`${event.roomKind}/${event.roomId}`);
    const entry = this.entries.get(key) as RoomEntry | undefined;
    const before = entry?.state ?? initialRoomState(event.roomKind, event.roomId);
    const after = applyRoomEvent(before, event, now, this.cfg);
    if (after === before && entry) return;
    if (entry) entry.state = after;
    else this.entries.set(key, { kind: 'room', state: after, emitted: null });
    this.dirty.add(key);
  }

  /** Marks the keys whose timer is due; the next flush ticks them. */
  fireDue(now: number): number {
    const due = this.deadlines.takeDue(now);
    for (const key of due) this.dirty.add(key);
    return due.length;
  }

  get pending(): number {
    return this.dirty.size;
  }

  /** Everything to write for the keys touched since the last commit, decided at `now`. */
  flush(now: number): FlushResult {
    const snapshots: Keyed<PresenceSnapshot>[] = [];
    const roomSnapshots: Keyed<RoomSnapshot | null>[] = [];
    const changes: Keyed<PresenceChange>[] = [];
    const changelog: Keyed<string | null>[] = [];
    const reasons: Record<string, number> = {};
    const after: Array<() => void> = [];
    const cfg = this.cfg;

    for (const key of this.dirty) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      if (entry.kind === 'user') {
        const state = tick(entry.state, now, cfg);
        const decision = snapshotDecision(entry.emitted, state, now, cfg);
        reasons[decision.reason] = (reasons[decision.reason] ?? 0) + 1;
        let emitted = entry.emitted;
        if (decision.emit) {
          const view = userView(state, now, cfg);
          snapshots.push({ key: state.userId, value: toSnapshot(view, now) });
          const transition = statusTransition(entry.emitted, view, now);
          if (transition) {
            changes.push({ key: state.userId, value: { ...transition, cause: now === transition.at ? 'event' : 'clock' } });
          }
          emitted = view;
        }
        const next: UserEntry = { kind: 'user', state, emitted };
        changelog.push({ key, value: encodeEntry(next) });
        after.push(() => {
          entry.state = state;
          entry.emitted = emitted;
          this.schedule(key, entry, now);
        });
      } else {
        const state = roomTick(entry.state, now, cfg);
        const decision = roomSnapshotDecision(entry.emitted, state, now, cfg);
        reasons[`room-${decision.reason}`] = (reasons[`room-${decision.reason}`] ?? 0) + 1;
        let emitted = entry.emitted;
        if (decision.emit) {
          const view = roomView(state, now, cfg);
          roomSnapshots.push({ key: `${state.roomKind}/${state.roomId}`, value: view && toRoomSnapshot(view, now) });
          emitted = view;
        }
        const gone = roomIsGone(state) && emitted === null;
        changelog.push({ key, value: gone ? null : encodeEntry({ kind: 'room', state, emitted }) });
        after.push(() => {
          if (gone) {
            this.entries.delete(key);
            this.deadlines.schedule(key, null);
            return;
          }
          entry.state = state;
          entry.emitted = emitted;
          this.schedule(key, entry, now);
        });
      }
    }
    return {
      snapshots, roomSnapshots, changes, changelog, reasons,
      commit: () => {
        for (const f of after) f();
        this.dirty.clear();
      },
    };
  }

  /** The user's current state and last emitted view (tests, diagnostics). */
  user(userId: string): { state: UserState; emitted: UserView | null } | undefined {
    const e = this.entries.get(userStoreKey(userId));
    return e?.kind === 'user' ? { state: e.state, emitted: e.emitted } : undefined;
  }

  room(roomKey: string): { state: RoomState; emitted: RoomView | null } | undefined {
    const e = this.entries.get(roomStoreKey(roomKey));
    return e?.kind === 'room' ? { state: e.state, emitted: e.emitted } : undefined;
  }

  private emitDecision(entry: Entry, now: number): { emit: boolean } {
    return entry.kind === 'user'
      ? snapshotDecision(entry.emitted, tick(entry.state, now, this.cfg), now, this.cfg)
      : roomSnapshotDecision(entry.emitted, roomTick(entry.state, now, this.cfg), now, this.cfg);
  }

  private schedule(key: string, entry: Entry, now: number): void {
    const cfg = this.cfg;
    const [deadline, check] = entry.kind === 'user'
      ? [nextDeadline(entry.state, now, cfg), nextSnapshotCheck(entry.emitted, entry.state, cfg)]
      : [roomNextDeadline(entry.state, now, cfg), roomNextSnapshotCheck(entry.emitted, entry.state, cfg)];
    const at = deadline === null ? check : check === null ? deadline : Math.min(deadline, check);
    // A check already due (e.g. a lease that lapsed during downtime) fires on the next tick.
    this.deadlines.schedule(key, at === null ? null : Math.max(at, now));
  }
}
