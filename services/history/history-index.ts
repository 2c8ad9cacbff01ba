/**
 * The history service's local index (classic-level): everything it answers from, and the topic
 * offsets it reflects, written together in one batch per input batch, so a restart resumes where the
 * index ends and a replayed record overwrites itself (keys are made of the record's own fields).
 *
 * Keys (utf8; ids never hold control characters, so NUL ends an id and a prefix scan is exact):
 *   u/<userId>\0<at, 15 digits>\0<version, 16 digits>   a status change (PresenceChange, JSON)
 *   r/<roomKey>\0<at, 15 digits>\0<version, 16 digits>  a room change (RoomChange, JSON)
 *   v/<userId>\0<at, 15 digits>                          the user's visibility from then on
 *   p/<userId>                                           the user's latest visibility and last-seen privacy
 *   s/<userId>\0<setAt, 15 digits>\0<eventId>            a register write with its audit (Setting, JSON)
 *   o/<topic>\0<partition>                               the next offset to read
 */
import { ClassicLevel } from 'classic-level';
import type { LastSeenPrivacy, Visibility } from '../core';
import type { Setting } from './audit';
import type { RoomChangeRecord, StatusChange, VisibilityMark } from './timeline';

const SEP = '\u0000';
const END = '\u0001';
const at15 = (n: number) => String(Math.max(0, Math.trunc(n))).padStart(15, '0');
const v16 = (n: number) => String(Math.max(0, Math.trunc(n))).padStart(16, '0');

export const userChangeKey = (userId: string, c: StatusChange) => `u/${userId}${SEP}${at15(c.at)}${SEP}${v16(c.version)}`;
export const roomChangeKey = (roomKey: string, c: { at: number; version: number }) => `r/${roomKey}${SEP}${at15(c.at)}${SEP}${v16(c.version)}`;
const visibilityKey = (userId: string, at: number) => `v/${userId}${SEP}${at15(at)}`;
const settingsKey = (userId: string) => `p/${userId}`;
const settingKey = (userId: string, s: Setting) => `s/${userId}${SEP}${at15(s.at)}${SEP}${s.eventId}`;
const offsetKey = (topic: string, partition: number) => `o/${topic}${SEP}${partition}`;

export interface UserSettings {
  readonly visibility: Visibility;
  readonly lastSeenPrivacy: LastSeenPrivacy;
}

export type IndexWrite =
  | { readonly kind: 'userChange'; readonly userId: string; readonly change: StatusChange }
  | { readonly kind: 'roomChange'; readonly roomKey: string; readonly change: RoomChangeRecord }
  | { readonly kind: 'settings'; readonly userId: string; readonly at: number; readonly settings: UserSettings; readonly visibilityChanged: boolean }
  | { readonly kind: 'setting'; readonly userId: string; readonly setting: Setting };

export class HistoryIndex {
  /** Latest settings per user read or written (the index is the truth; this saves a read per snapshot). */
  private readonly settingsCache = new Map<string, UserSettings | null>();

  private constructor(private readonly db: ClassicLevel<string, string>) {}

  static async open(dir: string): Promise<HistoryIndex> {
    const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    return new HistoryIndex(db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** The stored next offset of every topic-partition (topic → partition → offset). */
  async offsets(): Promise<Map<string, Map<number, bigint>>> {
    const out = new Map<string, Map<number, bigint>>();
    for await (const [key, value] of this.db.iterator({ gte: 'o/', lt: 'o0' })) {
      const [topic, partition] = key.slice(2).split(SEP) as [string, string];
      const byPartition = out.get(topic) ?? new Map<number, bigint>();
      byPartition.set(Number(partition), BigInt(value));
      out.set(topic, byPartition);
    }
    return out;
  }

  /** Applies the writes of one input batch and records where that partition goes on, atomically. */
  async write(writes: readonly IndexWrite[], position: { topic: string; partition: number; next: bigint }): Promise<void> {
    const batch = this.db.batch();
    for (const w of writes) {
      switch (w.kind) {
        case 'userChange':
          batch.put(userChangeKey(w.userId, w.change), JSON.stringify(w.change));
          break;
        case 'roomChange':
          batch.put(roomChangeKey(w.roomKey, w.change), JSON.stringify(w.change));
          break;
        case 'settings':
          batch.put(settingsKey(w.userId), JSON.stringify(w.settings));
          if (w.visibilityChanged) batch.put(visibilityKey(w.userId, w.at), w.settings.visibility);
          break;
        case 'setting':
          batch.put(settingKey(w.userId, w.setting), JSON.stringify(w.setting));
          break;
        default: {
          const never: never = w;
          throw new Error(`unknown index write ${JSON.stringify(never)}`);
        }
      }
    }
    batch.put(offsetKey(position.topic, position.partition), position.next.toString());
    await batch.write();
    for (const w of writes) if (w.kind === 'settings') this.settingsCache.set(w.userId, w.settings);
  }

  async settings(userId: string): Promise<UserSettings | null> {
    if (this.settingsCache.has(userId)) return this.settingsCache.get(userId) ?? null;
    const raw = await this.db.get(settingsKey(userId));
    const value = raw === undefined ? null : (JSON.parse(raw) as UserSettings);
    if (this.settingsCache.size > 100_000) this.settingsCache.clear();
    this.settingsCache.set(userId, value);
    return value;
  }

  /** The user's changes from the last one before `from` (the status at `from`) up to `to` (exclusive). */
  async userChanges(userId: string, from: number, to: number): Promise<StatusChange[]> {
    const prefix = `u/${userId}${SEP}`;
    const before = await this.db.values({ gte: prefix, lt: `${prefix}${at15(from)}`, reverse: true, limit: 1 }).all();
    const within = await this.db.values({ gte: `${prefix}${at15(from)}`, lt: `${prefix}${at15(Math.max(from, to))}` }).all();
    const next = await this.db.values({ gte: `${prefix}${at15(Math.max(from, to))}`, lt: `u/${userId}${END}`, limit: 1 }).all();
    return [...before, ...within, ...next].map((v) => JSON.parse(v) as StatusChange);
  }

  /** The room's last change at or before `t` and any others at the same instant. */
  async roomChangesAt(roomKey: string, t: number): Promise<RoomChangeRecord[]> {
    const prefix = `r/${roomKey}${SEP}`;
    const last = await this.db.values({ gte: prefix, lt: `${prefix}${at15(t + 1)}`, reverse: true, limit: 1 }).all();
    return last.map((v) => JSON.parse(v) as RoomChangeRecord);
  }

  /**
   * The user's register writes made in [from, to), and the last status write before `from` (the
   * manual status in force at the window's start, for attributing its first interval).
   */
  async settingsWritten(userId: string, from: number, to: number): Promise<Setting[]> {
    const prefix = `s/${userId}${SEP}`;
    const lo = `${prefix}${at15(from)}`;
    const before: Setting[] = [];
    for await (const v of this.db.values({ gte: prefix, lt: lo, reverse: true })) {
      const s = JSON.parse(v) as Setting;
      if (s.kind === 'status') {
        before.push(s);
        break;
      }
    }
    const within = await this.db.values({ gte: lo, lt: `${prefix}${at15(Math.max(from, to))}` }).all();
    return [...before, ...within.map((v) => JSON.parse(v) as Setting)];
  }

  /** Every recorded visibility change of the user. */
  async visibilityMarks(userId: string): Promise<VisibilityMark[]> {
    const prefix = `v/${userId}${SEP}`;
    const out: VisibilityMark[] = [];
    for await (const [key, value] of this.db.iterator({ gte: prefix, lt: `v/${userId}${END}` })) {
      out.push({ at: Number(key.slice(prefix.length)), visibility: value as Visibility });
    }
    return out;
  }
}
