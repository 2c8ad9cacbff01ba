/**
 * The gateway's sessions: one entry per (user, session), whether it came over a socket or over
 * HTTP. An entry remembers the rooms its session joined and its heartbeat coalescing window, so:
 * - a published heartbeat also renews the session's rooms (clients only join and leave);
 * - when a socket closes, the session ends: its held heartbeat, `sessionEnded` for each room, then
 *   a clean disconnect. A socket that died without a close handshake (network gone, ping timeout)
 *   gets `reconnectGraceMs` to come back under the same session id first, so a flapping link does
 *   not show Offline → Online to everyone;
 * - a second socket for the same session replaces the first without ending the session;
 * - stopping the gateway ends every socket session at once (no ghosts after a deploy).
 * HTTP-only sessions are forgotten when not heard of for the offline threshold (the processor
 * expires them on its own).
 */
import type { PresenceConfig, RoomEvent, UserEvent } from '../core';
import type { Logger } from '../platform/log';
import { IDLE_COALESCE, closeWindow, drainHeld, offerBeat, type Beat, type CoalesceState } from './coalesce';
import { roomOf, type GatewayEvent } from './commands';
import type { GatewayMetrics } from './metrics';
import type { PresencePublisher, SessionRef } from './publisher';

/** What a command did: went out now, or was merged into a held heartbeat. */
export type Outcome = 'published' | 'coalesced';

/** Why the gateway closes a socket whose session lives on elsewhere or was ended elsewhere. */
export type SocketCloseReason = 'replaced' | 'ended';

export class TooManyRoomsError extends Error {
  readonly code = 'too-many-entries';
  readonly field = 'roomId';
}

interface Entry {
  readonly key: string;
  ref: SessionRef | null;
  readonly rooms: Map<string, { readonly roomKind: string; readonly roomId: string }>;
  coalesce: CoalesceState;
  windowTimer: NodeJS.Timeout | null;
  /** Closes the live socket of this session, if any: replaced by a newer socket, or the session ended elsewhere. */
  replaceSocket: ((why: SocketCloseReason) => void) | null;
  graceTimer: NodeJS.Timeout | null;
  lastHeardAt: number;
}

export interface SessionTableOptions {
  readonly publisher: Pick<PresencePublisher, 'publish' | 'heartbeat' | 'roomHeartbeat' | 'endRoomSession' | 'disconnect'>;
  readonly cfg: PresenceConfig;
  readonly coalesceWindowMs: number;
  readonly reconnectGraceMs: number;
  readonly maxRoomsPerSession: number;
  readonly clock: () => number;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
}

/** A socket's handle on its session. */
export interface SocketSession {
  readonly ref: SessionRef;
  readonly key: string;
}

const keyOf = (userId: string, sessionId: string) => `${userId}\u0000${sessionId}`;

export class SessionTable {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private sockets = 0;

  constructor(private readonly o: SessionTableOptions) {
    // HTTP-only sessions that went quiet: forget them (nothing to publish, the processor expires them).
    this.sweeper = setInterval(() => this.sweep(), Math.max(1_000, o.cfg.offlineAfterMs));
    this.sweeper.unref();
  }

  /** Open socket sessions. */
  get socketCount(): number {
    return this.sockets;
  }

  /** A socket connected for `ref`; an older socket of the same session is closed by `replaceSocket`. */
  attachSocket(ref: SessionRef, replaceSocket: (why: SocketCloseReason) => void): SocketSession {
    const entry = this.entry(ref.userId, ref.sessionId);
    if (entry.graceTimer) {
      clearTimeout(entry.graceTimer);
      entry.graceTimer = null;
      this.o.metrics.reconnects.inc();
    }
    if (entry.replaceSocket) {
      const old = entry.replaceSocket;
      entry.replaceSocket = null;
      this.sockets--;
      old('replaced');
    }
    entry.replaceSocket = replaceSocket;
    entry.ref = ref;
    entry.lastHeardAt = this.o.clock();
    this.sockets++;
    this.o.metrics.sockets.set(this.sockets);
    return { ref, key: entry.key };
  }

  /**
   * The socket closed. A clean close ends the session now; an abnormal one after the reconnect grace,
   * unless the same session reconnects meanwhile. A socket already replaced changes nothing.
   */
  detachSocket(s: SocketSession, replaceSocket: (why: SocketCloseReason) => void, abnormal: boolean): void {
    const entry = this.entries.get(s.key);
    if (!entry || entry.replaceSocket !== replaceSocket) return;
    entry.replaceSocket = null;
    this.sockets--;
    this.o.metrics.sockets.set(this.sockets);
    if (abnormal && this.o.reconnectGraceMs > 0) {
      entry.graceTimer = setTimeout(() => {
        entry.graceTimer = null;
        this.end(entry, 'reconnect grace over').catch(() => undefined); // logged in end()
      }, this.o.reconnectGraceMs);
    } else {
      this.end(entry, 'socket closed').catch(() => undefined); // logged in end()
    }
  }

  /** Applies a checked command; rejects with the publisher's error if Kafka refuses it. */
  async apply(ge: GatewayEvent): Promise<Outcome> {
    const outcome = await (ge.kind === 'user' ? this.applyUser(ge.event) : this.applyRoom(ge.event));
    if (ge.event.type !== 'heartbeat') this.o.metrics.published.inc({ kind: ge.event.type });
    return outcome;
  }

  /** Ends every socket session now (the gateway is stopping): held beats, room exits, disconnects. */
  async endAllSockets(): Promise<void> {
    clearInterval(this.sweeper);
    const ending: Promise<void>[] = [];
    for (const entry of [...this.entries.values()]) {
      if (entry.graceTimer) clearTimeout(entry.graceTimer);
      if (entry.replaceSocket || entry.graceTimer) {
        entry.graceTimer = null;
        entry.replaceSocket = null;
        ending.push(this.end(entry, 'gateway stopping'));
      } else {
        ending.push(this.flushHeld(entry));
      }
    }
    this.sockets = 0;
    this.o.metrics.sockets.set(0);
    await Promise.allSettled(ending); // failures are logged per session
  }

  private async applyUser(e: UserEvent): Promise<Outcome> {
    switch (e.type) {
      case 'heartbeat': {
        const entry = this.entry(e.userId, e.sessionId);
        entry.ref = { userId: e.userId, deviceId: e.deviceId, sessionId: e.sessionId, platform: e.platform };
        entry.lastHeardAt = e.observedAt;
        const step = offerBeat(entry.coalesce, { observedAt: e.observedAt, idleMs: e.idleMs }, e.observedAt, this.o.coalesceWindowMs);
        entry.coalesce = step.state;
        this.armWindow(entry);
        if (!step.publish) {
          this.o.metrics.coalesced.inc();
          return 'coalesced';
        }
        await this.publishBeat(entry, step.publish);
        return 'published';
      }
      case 'disconnect': {
        const entry = this.entries.get(keyOf(e.userId, e.sessionId));
        if (entry) {
          entry.ref = { userId: e.userId, deviceId: e.deviceId, sessionId: e.sessionId, platform: e.platform };
          await this.end(entry, 'disconnect requested', e.observedAt);
        } else {
          await this.o.publisher.publish(e);
        }
        return 'published';
      }
      case 'override':
      case 'visibility':
      case 'lastSeenPrivacy':
      case 'activity':
        await this.o.publisher.publish(e);
        return 'published';
    }
  }

  private async applyRoom(e: RoomEvent): Promise<Outcome> {
    const entry = this.entry(e.userId, e.sessionId);
    const key = roomOf(e);
    // An ephemeral state (typing) says the session is in the room, like a join.
    const entering = e.type === 'join' || e.type === 'ephemeral';
    if (entering && !entry.rooms.has(key) && entry.rooms.size >= this.o.maxRoomsPerSession) {
      throw new TooManyRoomsError(`a session may be in at most ${this.o.maxRoomsPerSession} rooms`);
    }
    if (entering || e.type === 'roomHeartbeat') entry.rooms.set(key, { roomKind: e.roomKind, roomId: e.roomId });
    else entry.rooms.delete(key);
    entry.lastHeardAt = e.observedAt;
    await this.o.publisher.publish(e);
    return 'published';
  }

  private entry(userId: string, sessionId: string): Entry {
    const key = keyOf(userId, sessionId);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, ref: null, rooms: new Map(), coalesce: IDLE_COALESCE, windowTimer: null, replaceSocket: null, graceTimer: null, lastHeardAt: this.o.clock() };
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Keeps one timer per open coalescing window; its end may publish the held beat. */
  private armWindow(entry: Entry): void {
    const endsAt = entry.coalesce.windowEndsAt;
    if (endsAt === null || entry.windowTimer) return;
    entry.windowTimer = setTimeout(() => {
      entry.windowTimer = null;
      const step = closeWindow(entry.coalesce, Math.max(this.o.clock(), endsAt), this.o.coalesceWindowMs);
      entry.coalesce = step.state;
      this.armWindow(entry);
      if (step.publish) {
        this.publishBeat(entry, step.publish).catch((err: unknown) => {
          this.o.log.warn({ err: String(err) }, 'publishing a coalesced heartbeat failed');
        });
      }
    }, Math.max(0, endsAt - this.o.clock()));
  }

  /** A heartbeat, and a room heartbeat for each room of the session (one batch on the wire). */
  private async publishBeat(entry: Entry, beat: Beat): Promise<void> {
    const ref = entry.ref;
    if (!ref) return;
    const sends = [this.o.publisher.heartbeat(ref, beat.idleMs, beat.observedAt)];
    for (const r of entry.rooms.values()) sends.push(this.o.publisher.roomHeartbeat({ ...r, userId: ref.userId, sessionId: ref.sessionId }, beat.observedAt));
    await Promise.all(sends);
    this.o.metrics.published.inc({ kind: 'heartbeat' });
  }

  private async flushHeld(entry: Entry): Promise<void> {
    if (entry.windowTimer) clearTimeout(entry.windowTimer);
    entry.windowTimer = null;
    const held = drainHeld(entry.coalesce);
    entry.coalesce = IDLE_COALESCE;
    if (held) await this.publishBeat(entry, held);
  }

  /** Ends a session: its held beat, then it leaves every room, then a clean disconnect. */
  private async end(entry: Entry, why: string, at = this.o.clock()): Promise<void> {
    this.entries.delete(entry.key);
    if (entry.replaceSocket) {
      // Ended from elsewhere (an HTTP disconnect) while a socket holds it: that socket goes too.
      const close = entry.replaceSocket;
      entry.replaceSocket = null;
      this.sockets--;
      this.o.metrics.sockets.set(this.sockets);
      close('ended');
    }
    const ref = entry.ref;
    try {
      await this.flushHeld(entry);
      if (!ref) return;
      const sends = [...entry.rooms.values()].map((r) => this.o.publisher.endRoomSession({ ...r, userId: ref.userId, sessionId: ref.sessionId }, at));
      sends.push(this.o.publisher.disconnect(ref, at));
      await Promise.all(sends);
      this.o.metrics.sessionsEnded.inc({ why });
    } catch (err) {
      this.o.log.warn({ userId: ref?.userId, sessionId: ref?.sessionId, why, err: String(err) }, 'ending a session failed; the processor will expire it at the offline threshold');
      throw err;
    }
  }

  private sweep(): void {
    const cutoff = this.o.clock() - this.o.cfg.offlineAfterMs;
    for (const entry of this.entries.values()) {
      if (entry.replaceSocket || entry.graceTimer || entry.windowTimer || entry.lastHeardAt > cutoff) continue;
      this.entries.delete(entry.key);
    }
  }
}
