/**
 * The state of one input partition (a "task": the same partition number of the heartbeat,
 * override and room topics, of the changelog and of the snapshot topics), and what it must write.
 * Pure apart from its own memory: Kafka and LevelDB are driven by the record collector and the
 * checkpointer.
 *
 * Two kinds of dirt, two cadences, each a mark on the key's entry and a list of the marked entries
 * (no set of keys: marking costs no hash lookup on the hot path):
 *   - `dirty`: keys to decide on at the next flush (per batch and per timer tick). A flush returns
 *     the snapshots and changes to send and a `commit` to call once they were acknowledged, which
 *     records them as what readers were told (`emitted`).
 *   - `unsaved`: keys whose entry must reach the changelog and the store at the next checkpoint
 *     (every commit interval): a key touched many times in an interval is written once. A heartbeat
 *     that only moves an open session's lastSeen/lastActivity forward is soft state and makes no
 *     key unsaved: the next heartbeat restores it (see `load`).
 *
 * Snapshot versions follow what readers were told: each snapshot's version is above the last one
 * emitted for its key (and never below the state's), so a reader that drops versions not above the
 * last never drops a change, even across a restore.
 */
import {
  applyRoomEvent, applyToTicked, endGatewaySessions, initialRoomState, initialUserState, isOpen, nextDeadline, nextSnapshotCheck,
  roomIsGone, roomNextDeadline, roomNextSnapshotCheck, roomSnapshotDecision, roomTick, roomView,
  snapshotDecision, statusTransition, tick, userView, withSessionFields, withUserFields,
  type PresenceConfig, type RoomEvent, type RoomState, type RoomView, type Session, type UserEvent, type UserState, type UserView,
} from '../core';
import type { PresenceChange, PresenceSnapshot, RoomChange, RoomSnapshot } from '../contract/avro-types';
import { toRoomSnapshot, toSnapshot } from '../contract/snapshot-codec';
import { DeadlineHeap, NOT_QUEUED, type DeadlineSlot } from '../platform/deadline-heap';
import { GatewayIndex, type LeaseTask } from './gateway-leases';
import { CHECKPOINT_KEY, decodeCheckpoint, decodeEntry, encodeCheckpoint, encodeEntry, type CheckpointMarker, type Entry, type RoomEntry, type UserEntry } from './entry-codec';
import { advanceInPlace } from './soft-heartbeat';

/** Changelog/store keys: `u/<userId>` and `r/<roomKind>/<roomId>`. */
export const userStoreKey = (userId: string) => `u/${userId}`;
export const roomStoreKey = (roomKey: string) => `r/${roomKey}`;

/**
 * Keys in memory: a user's is its userId itself (the string its state already holds: no key string
 * built per event or kept per user), a room's is NUL + its key; ids never contain control
 * characters (hygiene), so the two never meet. Store keys are made only at checkpoints and restores.
 */
const ROOM = '\u0000';
const roomMemKey = (roomKey: string) => ROOM + roomKey;
const storeKeyOf = (memKey: string) => (memKey.startsWith(ROOM) ? roomStoreKey(memKey.slice(1)) : userStoreKey(memKey));
/** storeKey === userStoreKey(userId), without building the latter. */
const isStoreKeyOf = (storeKey: string, userId: string) => storeKey.length === userId.length + 2 && storeKey.startsWith('u/') && storeKey.endsWith(userId);
function memKeyOf(storeKey: string): string {
  if (storeKey.startsWith('u/')) return storeKey.slice(2);
  if (storeKey.startsWith('r/')) return roomMemKey(storeKey.slice(2));
  throw new Error(`unknown store key ${JSON.stringify(storeKey)}`);
}

export interface Keyed<V> { readonly key: string; readonly value: V }

/**
 * A key's entry as the task holds it: the stored entry plus the task's bookkeeping. A user entry
 * may be compact: its state and emitted view are then null and `packed` holds its encoded entry
 * (see `PresenceTaskOptions.compactQuietMs`); `warm` decodes it before anything reads them.
 */
type TaskEntry = Entry & DeadlineSlot & {
  /** Its key in the task (the map's: a user's userId, a room's NUL + key). */
  readonly key: string;
  /** DIRTY | UNSAVED | GONE | STATUS_BY_EVENT. */
  marks: number;
  /** The task's change count when the entry was last marked unsaved (a checkpoint clears only what it wrote). */
  unsavedAt: number;
  /** The task's touch count when the entry was last marked dirty (a checkpoint compacts only what nothing touched since). */
  touchedAt: number;
  /** The encoded entry (latin1) of a compact entry, else null. */
  packed: string | null;
};
type TaskUserEntry = TaskEntry & UserEntry;
type TaskRoomEntry = TaskEntry & RoomEntry;

const DIRTY = 1;
const UNSAVED = 2;
/** Deleted from the task (an emptied room, a restored tombstone): the next checkpoint writes a tombstone. */
const GONE = 4;
/**
 * The user's recorded status was set by an event (applied here), not by the clock: its change is
 * reported with cause 'event' whenever it is flushed (at once, or after a catch-up or a failed
 * send). Not stored: a restored entry's status was emitted already.
 */
const STATUS_BY_EVENT = 8;

/** Every entry is made here, so all have one shape (one hidden class for the hot paths). */
function taskEntry(key: string, e: Entry): TaskEntry {
  return { kind: e.kind, state: e.state, emitted: e.emitted, key, slot: NOT_QUEUED, marks: 0, unsavedAt: 0, touchedAt: 0, packed: null } as TaskEntry;
}

/** A compact entry's state and emitted view, decoded. */
const unpack = (entry: TaskEntry): Entry => decodeEntry(Buffer.from(entry.packed as string, 'latin1'));

/** The task's options beyond the presence rules. */
export interface PresenceTaskOptions {
  /**
   * A user entry with nothing due for at least this long (no timer, or one further away) and
   * untouched since it was saved is held as its encoded entry (about a fifth of the decoded
   * objects' memory) until its next event or timer decodes it: a restore leaves such users
   * encoded, and a checkpoint packs those it wrote. 0: every entry stays decoded.
   */
  readonly compactQuietMs: number;
}

export const DEFAULT_TASK_OPTIONS: PresenceTaskOptions = { compactQuietMs: 60_000 };

export interface FlushResult {
  readonly snapshots: Keyed<PresenceSnapshot>[];
  readonly roomSnapshots: Keyed<RoomSnapshot | null>[];
  /** One per room snapshot (for the retained room-changes topic); an emptied room has no members. */
  readonly roomChanges: Keyed<RoomChange>[];
  readonly changes: Keyed<PresenceChange>[];
  readonly reasons: Record<string, number>;
  /** Call once every record above was acknowledged: records what readers got, re-arms timers. */
  commit(): void;
}

export interface CheckpointResult {
  /** Store key → encoded entry (null deletes it), the checkpoint marker last. */
  readonly changelog: Keyed<Buffer | null>[];
  /** Call once the changelog records were acknowledged and the store written. */
  commit(): void;
}

/** A session is soft-changed when only its lastSeen/lastActivity moved while it stayed open. */
function sameDurably(a: Session, b: Session): boolean {
  return a === b || (a.deviceId === b.deviceId && a.sessionId === b.sessionId && a.platform === b.platform && a.endedAt === b.endedAt && isOpen(a) === isOpen(b)
    && (a.gatewayId ?? null) === (b.gatewayId ?? null));
}

/** True when `after` differs from `before` in more than soft lastSeen/lastActivity progress. */
export function durablyChanged(before: UserState, after: UserState): boolean {
  if (before === after) return false;
  if (before.override !== after.override || before.visibility !== after.visibility) return true;
  if (before.status !== after.status || before.statusSince !== after.statusSince) return true;
  if (before.sessions.length !== after.sessions.length) return true;
  for (let i = 0; i < before.sessions.length; i++) {
    if (!sameDurably(before.sessions[i] as Session, after.sessions[i] as Session)) return true;
  }
  return false;
}

const nextVersion = (stateVersion: number, emitted: { version: number } | null) => Math.max(stateVersion, (emitted?.version ?? 0) + 1);

/** A key's decision in a flush, applied by its commit. */
interface Decided {
  readonly key: string;
  readonly entry: TaskEntry;
  readonly state: UserState | RoomState;
  readonly emitted: UserView | RoomView | null;
  readonly save: boolean;
  readonly gone: boolean;
  /** The flush's tick moved the user's status (the clock did): its commit clears STATUS_BY_EVENT. */
  readonly clockMoved: boolean;
}

export class PresenceTask implements LeaseTask {
  private readonly entries = new Map<string, TaskEntry>();
  /** Counts markDirty calls: an entry's touchedAt says whether it was touched after a checkpoint was taken. */
  private touches = 0;
  /** Entries held compact (encoded) now. */
  private compacted = 0;
  /** The entries marked DIRTY, each once. */
  private dirty: TaskEntry[] = [];
  /** The entries marked UNSAVED, each once. */
  private unsaved: TaskEntry[] = [];
  /** Counts marks of unsaved: a checkpoint keeps what was marked again after it was taken. */
  private unsavedMarks = 0;
  /** The restore's start (resetLoad): users loaded while it is set may be left compact. */
  private loadNow: number | null = null;
  /** The checkpoint marker among the records loaded so far (restore). */
  private loadedMarker: CheckpointMarker | null = null;
  readonly deadlines = new DeadlineHeap<TaskEntry>();
  /** Gateway leases (gateway-leases.ts): finds the users of a dead gateway by scanning this task's users. */
  readonly gateways = new GatewayIndex(() => this.userStates());

  constructor(readonly partition: number, private readonly cfg: PresenceConfig, private readonly options: PresenceTaskOptions = DEFAULT_TASK_OPTIONS) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keys waiting for the next flush (a flush that failed keeps them). */
  get pending(): number {
    return this.dirty.length;
  }

  /** Keys waiting for the next checkpoint. */
  get unsavedCount(): number {
    return this.unsaved.length;
  }

  private markDirty(entry: TaskEntry): void {
    entry.touchedAt = ++this.touches;
    if ((entry.marks & DIRTY) !== 0) return;
    entry.marks |= DIRTY;
    this.dirty.push(entry);
  }

  private markUnsaved(entry: TaskEntry): void {
    entry.unsavedAt = ++this.unsavedMarks;
    if ((entry.marks & UNSAVED) !== 0) return;
    entry.marks |= UNSAVED;
    this.unsaved.push(entry);
  }

  private add(key: string, e: Entry): TaskEntry {
    const entry = taskEntry(key, e);
    this.entries.set(key, entry);
    return entry;
  }

  /** Decodes a compact entry in place (it is decoded from then on); a decoded one is left as it is. */
  private warm<E extends TaskEntry>(entry: E): E {
    if (entry.state === null) {
      const decoded = unpack(entry);
      entry.state = decoded.state;
      entry.emitted = decoded.emitted;
      this.compacted--;
    }
    entry.packed = null;
    return entry;
  }

  /** The entry's state and emitted view, decoded for a look without keeping them (a compact entry stays compact). */
  private peek(entry: TaskEntry): Entry {
    return entry.state !== null ? entry : unpack(entry);
  }

  /** Whether nothing is due for the entry within compactQuietMs of `now` (its timer is armed). */
  private quiet(entry: TaskEntry, now: number): boolean {
    const quietMs = this.options.compactQuietMs;
    if (quietMs <= 0 || entry.kind !== 'user' || (entry.marks & (DIRTY | UNSAVED | GONE)) !== 0) return false;
    const at = this.deadlines.deadlineOf(entry);
    return at === null || at >= now + quietMs;
  }

  private compact(entry: TaskEntry, packed: string): void {
    this.compacted++;
    entry.packed = packed;
    (entry as TaskUserEntry).state = null as unknown as UserState;
    entry.emitted = null;
  }

  /** Entries held encoded (compact). */
  get compactCount(): number {
    return this.compacted;
  }

  /** Drops the key's entry (its timer too); a checkpoint writes its tombstone. */
  private remove(key: string, entry: TaskEntry): void {
    this.entries.delete(key);
    this.forget(entry);
    entry.marks |= GONE;
  }

  /**
   * Loads restored entries (local store, then changelog delta) and returns the checkpoint marker
   * among them, if any. A restored session's lastSeen may lag its last heartbeat (soft progress is
   * not written), but never the lease readers were told: every snapshot makes its key unsaved, so
   * the stored state is at least as new as the emitted view, and the processor's lease refresh
   * keeps that view within offlineAfter − refreshLead of the heartbeats. In 'watermark' lease mode
   * there is no refresh, so the sessions the checkpointed view lists as live are taken as seen (and
   * a device shown active, as active) at the checkpoint instant: they were live then.
   */
  load(encoded: Iterable<readonly [string, Buffer | string]>): CheckpointMarker | null {
    for (const [key, value] of encoded) this.loadEntry(key, value);
    return this.finishLoad();
  }

  /** One restored record (store or changelog, in that order; a later one for a key replaces it). See `load`. */
  loadEntry(storeKey: string, value: Buffer | string): void {
    if (storeKey === CHECKPOINT_KEY) {
      this.loadedMarker = decodeCheckpoint(value);
      return;
    }
    const decoded = decodeEntry(value);
    // A user's key is its userId (storeKeyOf): the decoded string serves as both, where a slice of
    // the store key would be a second copy that also keeps the whole store key alive.
    const key = decoded.kind === 'user' && isStoreKeyOf(storeKey, decoded.state.userId) ? decoded.state.userId : memKeyOf(storeKey);
    const replaced = this.entries.get(key);
    if (replaced !== undefined) this.forget(replaced);
    const entry = taskEntry(key, decoded);
    this.entries.set(key, entry);
    // A quiet user is decided on here, its timer armed and its bytes kept: its decoded objects die
    // young instead of living until start() (see compactQuietMs).
    const now = this.loadNow;
    if (now === null || decoded.kind !== 'user' || this.options.compactQuietMs <= 0) return;
    this.schedule(entry, now);
    if (!this.emitDecision(entry, now).emit && this.quiet(entry, now)) {
      this.compact(entry, (typeof value === 'string' ? Buffer.from(value, 'utf8') : value).toString('latin1'));
    } else {
      this.deadlines.schedule(entry, null); // start() decides
    }
  }

  /** Unschedules an entry that leaves the task (removed, or replaced by a later restored record). */
  private forget(entry: TaskEntry): void {
    this.deadlines.schedule(entry, null);
    if (entry.state === null) this.compacted--;
  }

  /** A restored tombstone: the key was deleted after the record loaded before. */
  unloadEntry(storeKey: string): void {
    if (storeKey === CHECKPOINT_KEY) {
      this.loadedMarker = null;
      return;
    }
    const key = memKeyOf(storeKey);
    const entry = this.entries.get(key);
    if (entry) this.remove(key, entry);
  }

  /**
   * Forgets everything loaded (before a restore, so a retried one starts clean; a local store that
   * failed mid-read). With `now` (the restore's start), quiet users are left compact as they load.
   */
  resetLoad(now: number | null = null): void {
    this.loadNow = now;
    this.entries.clear();
    this.deadlines.clear();
    this.compacted = 0;
    this.dirty = [];
    this.unsaved = [];
    this.loadedMarker = null;
  }

  /** After the last loadEntry: the restored checkpoint marker, if any (see `load`). */
  finishLoad(): CheckpointMarker | null {
    const marker = this.loadedMarker;
    this.loadedMarker = null;
    this.loadNow = null;
    // Without lease refreshes nothing bounds how old a live session's stored lastSeen is.
    if (marker !== null && this.cfg.snapshotLeases === 'watermark') {
      for (const entry of this.entries.values()) {
        if (entry.kind !== 'user') continue;
        if (entry.state === null) this.forget(this.warm(entry)); // start() re-arms it
        entry.state = seenAtCheckpoint(entry, marker.at, this.cfg);
      }
    }
    return marker;
  }

  /**
   * Records a snapshot readers got after the checkpoint (read back from the snapshot topic's
   * partition by the restore): it is the emitted view from now on, and versions continue above it.
   */
  restoreEmittedUser(view: UserView): void {
    const key = view.userId;
    const entry = this.entries.get(key) as TaskUserEntry | undefined;
    if (entry) {
      this.warm(entry);
      entry.emitted = view;
      if (entry.state.version < view.version) entry.state = withUserFields(entry.state, { version: view.version });
      this.markUnsaved(entry);
    } else {
      this.markUnsaved(this.add(key, { kind: 'user', state: withUserFields(initialUserState(view.userId), { version: view.version }), emitted: view }));
    }
  }

  /** As restoreEmittedUser for a room; `view` null is a tombstone (the room was emitted empty). */
  restoreEmittedRoom(roomKey: string, view: RoomView | null, versionFloor: number): void {
    const key = roomMemKey(roomKey);
    const entry = this.entries.get(key) as TaskRoomEntry | undefined;
    if (entry) {
      entry.emitted = view;
      if (entry.state.version < versionFloor) entry.state = { ...entry.state, version: versionFloor };
      this.markUnsaved(entry);
    } else if (view !== null) {
      this.markUnsaved(this.add(key, { kind: 'room', state: { ...initialRoomState(view.roomKind, view.roomId), version: view.version }, emitted: view }));
    } // else a tombstone for a room this task never held: nothing to save
  }

  /** Re-arms every timer after a restore and marks the keys whose view is due already (a compact user's timer was armed as it loaded). */
  start(now: number): void {
    for (const entry of this.entries.values()) {
      if (entry.state === null) continue;
      this.schedule(entry, now);
      // Deadlines that passed while nobody owned this partition: decide at the next flush.
      if (this.emitDecision(entry, now).emit) this.markDirty(entry);
    }
  }

  applyUser(event: UserEvent, now: number): void {
    const key = event.userId;
    const found = this.entries.get(key) as TaskUserEntry | undefined;
    const entry = found !== undefined && found.state === null ? this.warm(found) : found;
    if (entry !== undefined && event.type === 'heartbeat') {
      const sessionsBefore = entry.state.sessions;
      const statusBefore = entry.state.status;
      const inPlace = advanceInPlace(entry.state, event, now, this.cfg);
      if (inPlace !== 'not-soft') {
        // In place means no tick was due: a status that moved, the heartbeat moved.
        if (entry.state.status !== statusBefore) entry.marks |= STATUS_BY_EVENT;
        this.markDirty(entry);
        if (inPlace === 'status') this.markUnsaved(entry); // same sessions, same gateways: the index stands
        if (inPlace === 'opened') {
          this.markUnsaved(entry);
          this.gateways.track(key, { sessions: sessionsBefore }, entry.state);
        }
        return;
      }
    }
    const before = entry?.state ?? initialUserState(event.userId);
    const ticked = tick(before, now, this.cfg);
    const after = applyToTicked(ticked, event, now, this.cfg);
    if (after === before && entry) return;
    if (entry) entry.state = after;
    const changed = entry ?? this.add(key, { kind: 'user', state: after, emitted: null });
    if (after.status !== ticked.status) changed.marks |= STATUS_BY_EVENT;
    else if (ticked.status !== before.status) changed.marks &= ~STATUS_BY_EVENT;
    this.markDirty(changed);
    // Only a durable change can move a session between gateways or open/close one: soft
    // heartbeats (most of them) skip both the save and the gateway index.
    if (!entry || durablyChanged(before, after)) {
      this.markUnsaved(changed);
      this.gateways.track(key, before, after); // gateway leases
    }
  }

  /**
   * Gateway leases (gateway-leases.ts): the gateway is gone up to `deadUpTo`; ends, for the users
   * `keys`, the open sessions last heard through it by then (the core's endGatewaySessions). The
   * changed users are flushed by the next flush and saved by the next checkpoint.
   */
  endGatewaySessions(gatewayId: string, deadUpTo: number, now: number, keys: Iterable<string>): number {
    let changed = 0;
    for (const key of keys) {
      const found = this.entries.get(key);
      if (found?.kind !== 'user') continue;
      const entry = this.warm(found);
      const after = endGatewaySessions(entry.state, gatewayId, deadUpTo, now, this.cfg);
      if (after === entry.state) continue;
      if (after.status !== entry.state.status) entry.marks &= ~STATUS_BY_EVENT; // a lease ran out: the clock's
      entry.state = after;
      this.markDirty(entry);
      this.markUnsaved(entry);
      changed++;
    }
    return changed;
  }

  applyRoom(event: RoomEvent, now: number): void {
    const key = roomMemKey(`${event.roomKind}/${event.roomId}`);
    const entry = this.entries.get(key) as TaskRoomEntry | undefined;
    const before = entry?.state ?? initialRoomState(event.roomKind, event.roomId);
    const after = applyRoomEvent(before, event, now, this.cfg);
    if (after === before && entry) return;
    if (entry) entry.state = after;
    const changed = entry ?? this.add(key, { kind: 'room', state: after, emitted: null });
    this.markDirty(changed);
    this.markUnsaved(changed);
  }

  /** Marks the keys whose timer is due; the next flush ticks them. */
  fireDue(now: number): number {
    const due = this.deadlines.takeDue(now);
    for (const entry of due) this.markDirty(entry);
    return due.length;
  }

  /**
   * Everything to send for the keys touched since the last flush, decided at `now`. A status change
   * is the event's when an event set the status (STATUS_BY_EVENT) and this flush's tick did not move
   * it again; else the clock's, even when a heartbeat applied after an expiry found it, or its
   * instant falls on `now`. `limit`: decide only the first that many keys; the rest wait for the
   * next flush (its commit leaves them pending), so a catch-up's end can be sent in parts
   * (task-writer.ts).
   */
  flush(now: number, limit = Infinity): FlushResult {
    const snapshots: Keyed<PresenceSnapshot>[] = [];
    const roomSnapshots: Keyed<RoomSnapshot | null>[] = [];
    const roomChanges: Keyed<RoomChange>[] = [];
    const changes: Keyed<PresenceChange>[] = [];
    const reasons: Record<string, number> = {};
    // What commit() records, one plain record per key (no closure per key: the flush is hot).
    const after: Decided[] = [];
    const cfg = this.cfg;
    const taken = this.dirty.length <= limit ? this.dirty : this.dirty.slice(0, limit);
    const touchesAtTaking = this.touches;

    for (const entry of taken) {
      if ((entry.marks & GONE) !== 0) continue;
      if (entry.state === null) this.warm(entry); // a compact user's timer fired
      if (entry.kind === 'user') {
        const key = entry.state.userId;
        const state = tick(entry.state, now, cfg);
        const clockMoved = state.status !== entry.state.status;
        const decision = snapshotDecision(entry.emitted, state, now, cfg);
        reasons[decision.reason] = (reasons[decision.reason] ?? 0) + 1;
        let emitted = entry.emitted;
        if (decision.emit) {
          const view = userView(state, now, cfg, nextVersion(state.version, entry.emitted), entry.emitted);
          snapshots.push({ key: state.userId, value: toSnapshot(view, now) });
          const transition = statusTransition(entry.emitted, view, now);
          if (transition) {
            const { userId, from, to, at, version } = transition; // a literal: a spread adding `cause` takes V8's slow path
            const cause = !clockMoved && (entry.marks & STATUS_BY_EVENT) !== 0 ? 'event' : 'clock';
            changes.push({ key: userId, value: { userId, from, to, at, version, cause } });
          }
          emitted = view;
        }
        after.push({ key, entry, state, emitted, save: emitted !== entry.emitted || durablyChanged(entry.state, state), gone: false, clockMoved });
      } else {
        const state = roomTick(entry.state, now, cfg);
        const decision = roomSnapshotDecision(entry.emitted, state, now, cfg);
        reasons[`room-${decision.reason}`] = (reasons[`room-${decision.reason}`] ?? 0) + 1;
        let emitted = entry.emitted;
        if (decision.emit) {
          const base = roomView(state, now, cfg);
          const version = nextVersion(state.version, entry.emitted);
          const view = base && { ...base, version };
          const roomKey = `${state.roomKind}/${state.roomId}`;
          const snapshot = view && toRoomSnapshot(view, now);
          roomSnapshots.push({ key: roomKey, value: snapshot });
          roomChanges.push({ key: roomKey, value: { roomKind: state.roomKind, roomId: state.roomId, members: snapshot?.members ?? [], version, at: now } });
          emitted = view;
        }
        const gone = roomIsGone(state) && emitted === null;
        after.push({ key: entry.key, entry, state, emitted, save: gone || emitted !== entry.emitted || state !== entry.state, gone, clockMoved: false });
      }
    }
    return {
      snapshots, roomSnapshots, roomChanges, changes, reasons,
      // Records what readers were told. A key touched after the flush was taken (events applied
      // while a failed send waited for its retry) keeps its newer state and stays dirty: the next
      // flush decides it again, against the view recorded here.
      commit: () => {
        for (const d of after) {
          const touchedSince = d.entry.touchedAt > touchesAtTaking;
          if (d.save) this.markUnsaved(d.entry);
          if (d.gone && !touchedSince) {
            this.remove(d.key, d.entry);
            continue;
          }
          if (!touchedSince) {
            if (d.clockMoved) d.entry.marks &= ~STATUS_BY_EVENT;
            d.entry.state = d.state;
          }
          d.entry.emitted = d.emitted;
          this.schedule(d.entry, now);
        }
        for (const entry of taken) if (entry.touchedAt <= touchesAtTaking) entry.marks &= ~DIRTY;
        // The list keeps exactly the entries still marked (each is in it once), whatever other
        // flush was committed in between: a part's commit filters the ≤ 83,000 keys of a catch-up's end.
        this.dirty = this.dirty.filter((entry) => (entry.marks & DIRTY) !== 0);
      },
    };
  }

  /**
   * The changelog records of every unsaved key (a deleted key is a tombstone) and the marker. Its
   * commit packs the users it wrote that nothing touched since and that are quiet at `marker.at`
   * (compactQuietMs): the bytes written are the entry.
   */
  checkpoint(marker: CheckpointMarker): CheckpointResult {
    const changelog: Keyed<Buffer | null>[] = [];
    const taken = this.unsavedMarks;
    const touched = this.touches;
    const compacting = this.options.compactQuietMs > 0;
    // The entries written, in changelog order (a copy: keys marked after taking join this.unsaved).
    const written = compacting ? this.unsaved.slice() : this.unsaved;
    // Dirty now: a flush may still change it after these bytes were encoded (not packed by the commit).
    const dirtyAtTaking = compacting ? written.map((entry) => (entry.marks & DIRTY) !== 0) : [];
    for (const entry of written) {
      changelog.push({ key: storeKeyOf(entry.key), value: (entry.marks & GONE) !== 0 ? null : encodeEntry(entry) });
    }
    changelog.push({ key: CHECKPOINT_KEY, value: encodeCheckpoint(marker) });
    return {
      changelog,
      commit: () => {
        // What was marked again after this checkpoint was taken waits for the next one.
        this.unsaved = this.unsaved.filter((entry) => {
          if (entry.unsavedAt > taken) return true;
          entry.marks &= ~UNSAVED;
          return false;
        });
        if (!compacting) return;
        for (let i = 0; i < written.length; i++) {
          const entry = written[i] as TaskEntry;
          const value = changelog[i]?.value;
          if (value && !dirtyAtTaking[i] && entry.touchedAt <= touched && entry.state !== null && this.entries.get(entry.key) === entry && this.quiet(entry, marker.at)) {
            this.compact(entry, value.toString('latin1'));
          }
        }
      },
    };
  }

  /** Every user's key and current state (the gateway index scans them; compact ones are decoded for the look only). */
  private *userStates(): Generator<readonly [string, UserState]> {
    for (const [key, entry] of this.entries) if (entry.kind === 'user') yield [key, (this.peek(entry) as UserEntry).state];
  }

  /** The user's current state and last emitted view (tests, diagnostics). */
  user(userId: string): { state: UserState; emitted: UserView | null } | undefined {
    const found = this.entries.get(userId);
    if (found?.kind !== 'user') return undefined;
    const e = this.peek(found) as UserEntry;
    return { state: e.state, emitted: e.emitted };
  }

  room(roomKey: string): { state: RoomState; emitted: RoomView | null } | undefined {
    const e = this.entries.get(roomMemKey(roomKey));
    return e?.kind === 'room' ? { state: e.state, emitted: e.emitted } : undefined;
  }

  private emitDecision(entry: TaskEntry, now: number): { emit: boolean } {
    return entry.kind === 'user'
      ? snapshotDecision(entry.emitted, tick(entry.state, now, this.cfg), now, this.cfg)
      : roomSnapshotDecision(entry.emitted, roomTick(entry.state, now, this.cfg), now, this.cfg);
  }

  private schedule(entry: TaskEntry, now: number): void {
    const cfg = this.cfg;
    // Two lets, not a destructured pair: this runs for every key of every commit.
    let deadline: number | null;
    let check: number | null;
    if (entry.kind === 'user') {
      deadline = nextDeadline(entry.state, now, cfg);
      check = nextSnapshotCheck(entry.emitted, entry.state, cfg);
    } else {
      deadline = roomNextDeadline(entry.state, now, cfg);
      check = roomNextSnapshotCheck(entry.emitted, entry.state, cfg);
    }
    const at = deadline === null ? check : check === null ? deadline : Math.min(deadline, check);
    // A check already due (e.g. a lease that lapsed during downtime) fires on the next tick.
    this.deadlines.schedule(entry, at === null ? null : Math.max(at, now));
  }
}

/**
 * The soft state a checkpoint did not write, bounded from below ('watermark' lease mode): every open
 * session the emitted view lists as live was live at the checkpoint `at` (had it expired, the view
 * would say so), and a user shown Online was active then. A session that really went silent just
 * before the checkpoint is thus read as Offline up to offlineAfter later after a failover, never
 * earlier.
 */
function seenAtCheckpoint(entry: UserEntry, at: number, cfg: PresenceConfig): UserState {
  const { state, emitted } = entry;
  if (emitted === null || emitted.devices.length === 0) return state;
  const online = emitted.status === 'Online';
  let raised = false;
  let activeRaised = false;
  // Entries of format 5 read every device as active: only a user active at emission can have one.
  const activeAtEmission = emitted.lastActive !== null && emitted.lastActive + cfg.awayAfterMs > emitted.emittedAt;
  const sessions = state.sessions.map((s) => {
    if (!isOpen(s) || (s.lastSeen as number) >= at) return s;
    const device = emitted.devices.find((d) => d.deviceId === s.deviceId && d.sessionId === s.sessionId);
    if (device === undefined) return s;
    raised = true;
    // A device shown active was active at the checkpoint (had it turned idle, the view would say so);
    // an idle one keeps its activity, so it does not turn active by the failover.
    if (!device.active || !activeAtEmission) return withSessionFields(s, { lastSeen: at });
    activeRaised = true;
    return withSessionFields(s, { lastSeen: at, lastActivity: Math.max(s.lastActivity ?? at, at) });
  });
  if (!raised) return state;
  const lastActivity = (online || activeRaised) && (state.lastActivity ?? -Infinity) < at ? at : state.lastActivity;
  return withUserFields(state, { sessions, lastSeen: Math.max(state.lastSeen ?? at, at), lastActivity });
}
