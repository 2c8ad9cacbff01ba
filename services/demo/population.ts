/**
 * The simulated population of the demo: users with several tabs and devices who work, idle, set
 * Do Not Disturb, join and leave rooms, sign off cleanly or just drop off. Pure and seeded: `step`
 * takes the time and returns what the clients would send, so the demo is reproducible and the model
 * is unit-tested without a socket.
 */
import type { ActivitySource, ActivityType, Platform } from '../core';

/** What the demo's users do beside their availability (the gateway lets a client name any source of its own user). */
const ACTIVITIES: ReadonlyArray<readonly [ActivityType, ActivitySource, string | null, string | null]> = [
  ['InAMeeting', 'calendar', 'Weekly sync', '📅'], ['InACall', 'callSystem', null, '📞'], ['Presenting', 'manual', 'Quarterly review', '📽️'],
  ['Focusing', 'manual', null, '🎧'], ['Custom', 'manual', 'Lunch', '🍕'],
];

export type ClientAction =
  | { readonly type: 'connect'; readonly userId: string; readonly sessionId: string; readonly deviceId: string; readonly platform: Platform }
  | { readonly type: 'heartbeat'; readonly userId: string; readonly sessionId: string; readonly idleMs: number }
  | { readonly type: 'close'; readonly userId: string; readonly sessionId: string }
  /** The device vanished (network gone, laptop lid closed): nothing more is sent, no disconnect. */
  | { readonly type: 'drop'; readonly userId: string; readonly sessionId: string }
  | { readonly type: 'override'; readonly userId: string; readonly sessionId: string; readonly status: 'Available' | 'Busy' | 'DoNotDisturb'; readonly customText: string | null; readonly expiresAt: number | null }
  | { readonly type: 'join' | 'leave' | 'roomHeartbeat'; readonly userId: string; readonly sessionId: string; readonly roomKind: string; readonly roomId: string }
  /** An activity (a calendar meeting, a call, presenting, focusing, lunch) from its source, until expiresAt. */
  | {
    readonly type: 'activity'; readonly userId: string; readonly sessionId: string; readonly activity: ActivityType; readonly source: ActivitySource;
    readonly customText: string | null; readonly emoji: string | null; readonly expiresAt: number;
  }
  /** Typing in the room it is in (the state lasts the gateway's default 5 s). */
  | { readonly type: 'typing'; readonly userId: string; readonly sessionId: string; readonly roomKind: string; readonly roomId: string };

export interface PopulationOptions {
  readonly users: number;
  readonly rooms: number;
  readonly heartbeatIntervalMs: number;
  readonly seed: number;
}

interface SimSession {
  readonly sessionId: string;
  readonly deviceId: string;
  readonly platform: Platform;
  /** A background tab or a phone in a pocket reports more idleness than the focused session. */
  readonly extraIdleMs: number;
  connected: boolean;
  nextBeatAt: number;
  room: string | null;
}

interface SimUser {
  readonly userId: string;
  readonly sessions: SimSession[];
  online: boolean;
  active: boolean;
  lastActivity: number;
  overrideUntil: number | null;
}

/** mulberry32: tiny, fast, good enough for a simulation. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEVICES: ReadonlyArray<readonly [string, Platform, number]> = [
  ['laptop-tab1', 'web', 0], ['laptop-tab2', 'web', 40_000], ['desktop-app', 'desktop', 5_000], ['phone', 'ios', 120_000], ['tablet', 'android', 200_000],
];

export function userIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user-${String(i + 1).padStart(3, '0')}`);
}

export function roomIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `doc/${i + 1}`);
}

export class Population {
  private readonly random: () => number;
  private readonly users: SimUser[];
  private readonly rooms: string[];
  private lastStep: number | null = null;

  constructor(private readonly o: PopulationOptions, now: number) {
    this.random = rng(o.seed);
    this.rooms = roomIds(o.rooms);
    this.users = userIds(o.users).map((userId) => {
      const count = 1 + Math.floor(this.random() * 3);
      const sessions = DEVICES.slice(0, count).map(([deviceId, platform, extraIdleMs], i) => ({
        sessionId: `${deviceId}-s${i}`, deviceId, platform, extraIdleMs, connected: false,
        nextBeatAt: now + Math.floor(this.random() * o.heartbeatIntervalMs), room: null,
      }));
      return { userId, sessions, online: this.random() < 0.8, active: this.random() < 0.7, lastActivity: now, overrideUntil: null };
    });
  }

  /** Everything the clients send between the previous step and `now` (call about once a second). */
  step(now: number): ClientAction[] {
    const dt = this.lastStep === null ? 1_000 : Math.max(0, now - this.lastStep);
    this.lastStep = now;
    const p = (perMinute: number) => this.random() < (perMinute * dt) / 60_000;
    const out: ClientAction[] = [];
    for (const u of this.users) {
      if (!u.online) {
        if (p(0.6)) u.online = true;
        else continue;
      }
      if (u.active) {
        u.lastActivity = now;
        if (p(1)) u.active = false;
      } else if (p(0.7)) {
        u.active = true;
        u.lastActivity = now;
      }
      if (u.overrideUntil !== null && now >= u.overrideUntil) u.overrideUntil = null;
      for (const s of u.sessions) {
        const base = { userId: u.userId, sessionId: s.sessionId };
        if (!s.connected) {
          s.connected = true;
          s.nextBeatAt = now;
          out.push({ type: 'connect', ...base, deviceId: s.deviceId, platform: s.platform });
        }
        if (now >= s.nextBeatAt) {
          s.nextBeatAt = now + this.o.heartbeatIntervalMs;
          out.push({ type: 'heartbeat', ...base, idleMs: now - u.lastActivity + (u.active ? 0 : s.extraIdleMs) });
          if (s.room !== null) out.push({ type: 'roomHeartbeat', ...base, ...splitRoom(s.room) });
        }
      }
      const main = u.sessions[0] as SimSession;
      if (u.overrideUntil === null && p(0.25)) {
        // A third set a manual status, the rest an activity (which the rules fold into Busy or DND).
        const r = this.random();
        u.overrideUntil = now + 30_000 + Math.floor(this.random() * 60_000);
        const base = { userId: u.userId, sessionId: main.sessionId, expiresAt: u.overrideUntil };
        if (r < 0.35) {
          const dnd = r < 0.25;
          out.push({ type: 'override', ...base, status: dnd ? 'DoNotDisturb' : 'Busy', customText: dnd ? 'Focusing' : 'In a meeting' });
        } else {
          const [activity, source, customText, emoji] = ACTIVITIES[Math.floor(((r - 0.35) / 0.65) * ACTIVITIES.length)] ?? ACTIVITIES[0] as (typeof ACTIVITIES)[number];
          out.push({ type: 'activity', ...base, activity, source, customText, emoji });
        }
      }
      if (main.room === null && p(1.5)) {
        main.room = this.rooms[Math.floor(this.random() * this.rooms.length)] ?? null;
        if (main.room !== null) out.push({ type: 'join', userId: u.userId, sessionId: main.sessionId, ...splitRoom(main.room) });
      } else if (main.room !== null && p(1)) {
        out.push({ type: 'leave', userId: u.userId, sessionId: main.sessionId, ...splitRoom(main.room) });
        main.room = null;
      } else if (main.room !== null && u.active && p(4)) {
        out.push({ type: 'typing', userId: u.userId, sessionId: main.sessionId, ...splitRoom(main.room) });
      }
      if (p(0.2)) {
        // Signing off: half close cleanly, half just vanish (and expire at the offline threshold).
        const clean = this.random() < 0.5;
        u.online = false;
        for (const s of u.sessions) {
          s.connected = false;
          s.room = null;
          out.push({ type: clean ? 'close' : 'drop', userId: u.userId, sessionId: s.sessionId });
        }
      }
    }
    return out;
  }
}

function splitRoom(key: string): { roomKind: string; roomId: string } {
  const i = key.indexOf('/');
  return { roomKind: key.slice(0, i), roomId: key.slice(i + 1) };
}
