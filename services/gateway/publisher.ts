/**
 * The typed publisher any gateway can embed: heartbeat, disconnect, setOverride (and visibility),
 * joinRoom, leaveRoom, roomHeartbeat, addContact / removeContact (contact lists), Avro through the registry and keyed as the processor joins
 * them (user events by userId, room events by "<kind>/<id>"). Calls are collected for `lingerMs`
 * (or `maxBatch` records) and sent as one batch; every call resolves when its batch is
 * acknowledged, or rejects with a PublishError (a broker that is down fails within `timeoutMs`
 * instead of hanging).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import { checkContactRecord, contactKey, DEFAULT_CONFIG, parseContactKey, roomKey, unreachable, type ActivitySource, type ActivityType, type Actor, type PresenceConfig, type LastSeenPrivacy, type OverrideStatus, type Platform, type RoomEvent, type UserEvent, type Visibility } from '../core';
import type { PresenceHeartbeat, PresenceOverride, RoomEvent as WireRoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { createLogger, type Logger } from '../platform/log';
import { ProducerSession } from '../platform/producer-session';

export class PublishError extends Error {
  readonly code = 'PUBLISH_FAILED';
  constructor(message: string, readonly cause?: unknown) {
    super(message);
  }
}

/** The audit of a register write: who made it and why (absent or null: not recorded). */
export interface AuditFields {
  readonly actor?: Actor | null;
  readonly reason?: string | null;
}

const wireAudit = (a: AuditFields): Pick<PresenceOverride, 'actor' | 'reason'> => ({ actor: a.actor ?? null, reason: a.reason ?? null });

export interface SessionRef {
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly platform: Platform;
}

interface Pending {
  readonly topic: string;
  readonly key: string;
  /** null: a tombstone (a contact removed). */
  readonly encoded: Promise<Buffer | null>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface PublisherOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly gatewayId?: string;
  /** How long calls are collected into one batch. Default 5 ms. */
  readonly lingerMs?: number;
  readonly maxBatch?: number;
  /** Bound on connecting and on each send. Default 10 s. */
  readonly timeoutMs?: number;
  readonly clock?: () => number;
  readonly log?: Logger;
  /** The id rules contact events are checked with before sending (default DEFAULT_CONFIG). */
  readonly cfg?: PresenceConfig;
}

export class PresencePublisher {
  /** Replaced after a failed send, so an error that leaves a kafkajs producer unusable fails one batch, not every later one. */
  private readonly producers: ProducerSession;
  private queue: Pending[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private connected = false;
  private readonly clock: () => number;
  private readonly timeoutMs: number;
  private readonly cfg: PresenceConfig;

  private constructor(private readonly o: PublisherOptions) {
    this.clock = o.clock ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.cfg = o.cfg ?? DEFAULT_CONFIG;
    // Few retries: the caller is told quickly and decides; the timeout bounds everything.
    this.producers = new ProducerSession(
      () => o.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 2, maxRetryTime: this.timeoutMs } }),
      o.log ?? createLogger('publisher', 'silent'), { component: 'publisher', gatewayId: o.gatewayId },
    );
  }

  static async connect(o: PublisherOptions): Promise<PresencePublisher> {
    const p = new PresencePublisher(o);
    try {
      await withTimeout(p.producers.producer(), p.timeoutMs, 'connecting the publisher to Kafka');
    } catch (e) {
      await p.producers.close(); // stop kafkajs retrying in the background
      throw e instanceof PublishError ? e : new PublishError(`connecting the publisher to Kafka failed: ${(e as Error).message}`, e);
    }
    p.connected = true;
    return p;
  }

  heartbeat(s: SessionRef, idleMs: number, observedAt = this.clock()): Promise<void> {
    return this.sendHeartbeat({ kind: 'heartbeat', ...s, observedAt, idleMs, gatewayId: this.o.gatewayId ?? null });
  }

  disconnect(s: SessionRef, observedAt = this.clock()): Promise<void> {
    return this.sendHeartbeat({ kind: 'disconnect', ...s, observedAt, idleMs: 0, gatewayId: this.o.gatewayId ?? null });
  }

  /** A manual status; `actor` and `reason` are the audit (who set it, why), null when not given. */
  setOverride(userId: string, o: { status: OverrideStatus; customText?: string | null; expiresAt?: number | null; eventId?: string } & AuditFields, setAt = this.clock()): Promise<void> {
    const v: PresenceOverride = { kind: 'status', userId, eventId: o.eventId ?? randomUUID(), setAt, status: o.status, customText: o.customText ?? null, expiresAt: o.expiresAt ?? null, visibility: null, lastSeenPrivacy: null, activity: null, ...wireAudit(o) };
    return this.encodeAndQueue('override', userId, v);
  }

  setVisibility(userId: string, visibility: Visibility, setAt = this.clock(), eventId: string = randomUUID(), audit: AuditFields = {}): Promise<void> {
    const v: PresenceOverride = { kind: 'visibility', userId, eventId, setAt, status: null, customText: null, expiresAt: null, visibility, lastSeenPrivacy: null, activity: null, ...wireAudit(audit) };
    return this.encodeAndQueue('override', userId, v);
  }

  /** Who sees the user's last-seen times, and how (exact, coarse, hidden). */
  setLastSeenPrivacy(userId: string, lastSeenPrivacy: LastSeenPrivacy, setAt = this.clock(), eventId: string = randomUUID(), audit: AuditFields = {}): Promise<void> {
    const v: PresenceOverride = { kind: 'lastSeen', userId, eventId, setAt, status: null, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy, activity: null, ...wireAudit(audit) };
    return this.encodeAndQueue('override', userId, v);
  }

  /**
   * What the user is doing, from `source` (manual, calendar, callSystem): `activity` null clears
   * that source's activity. Integrations (a calendar sync, a call system) call it with their own
   * source and an `actor` of kind integration.
   */
  setActivity(
    userId: string,
    a: { source: ActivitySource; activity: ActivityType | null; customText?: string | null; emoji?: string | null; expiresAt?: number | null; eventId?: string } & AuditFields,
    setAt = this.clock(),
  ): Promise<void> {
    const v: PresenceOverride = {
      kind: 'activity', userId, eventId: a.eventId ?? randomUUID(), setAt, status: null, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy: null,
      activity: { source: a.source, activity: a.activity, customText: a.customText ?? null, emoji: a.emoji ?? null, expiresAt: a.expiresAt ?? null }, ...wireAudit(a),
    };
    return this.encodeAndQueue('override', userId, v);
  }

  /**
   * `contact` joins `owner`'s contact list (presence.contacts.v1, key owner U+001F contact): they see
   * `owner` when `owner`'s visibility is contacts. Refused (PublishError) before sending when an id is
   * bad; the bound (5,000 per owner) is judged by the query service's contacts validator.
   */
  addContact(owner: string, contact: string, addedAt = this.clock()): Promise<void> {
    const bad = checkContactRecord(contactKey(owner, contact), { owner, contact, addedAt }, this.clock(), this.cfg);
    if (!bad.ok) return Promise.reject(new PublishError(`${bad.rejection.field} ${bad.rejection.reason}`));
    return this.encodeAndQueue('contacts', contactKey(owner, contact), { owner, contact, addedAt });
  }

  /** `contact` leaves `owner`'s list: a tombstone on its key. */
  removeContact(owner: string, contact: string): Promise<void> {
    const bad = parseContactKey(contactKey(owner, contact), this.cfg);
    if (!bad.ok) return Promise.reject(new PublishError(`${bad.rejection.field} ${bad.rejection.reason}`));
    return this.queue1(topicName('contacts', this.o.prefix), contactKey(owner, contact), Promise.resolve(null));
  }

  joinRoom(r: { roomKind: string; roomId: string; userId: string; sessionId: string; metadata?: Record<string, string> | null }, observedAt = this.clock()): Promise<void> {
    return this.room('join', r, observedAt);
  }

  leaveRoom(r: { roomKind: string; roomId: string; userId: string; sessionId: string }, observedAt = this.clock()): Promise<void> {
    return this.room('leave', r, observedAt);
  }

  roomHeartbeat(r: { roomKind: string; roomId: string; userId: string; sessionId: string; metadata?: Record<string, string> | null }, observedAt = this.clock()): Promise<void> {
    return this.room('heartbeat', r, observedAt);
  }

  /** The session itself is gone (its socket closed): it leaves the room. */
  endRoomSession(r: { roomKind: string; roomId: string; userId: string; sessionId: string }, observedAt = this.clock()): Promise<void> {
    return this.room('sessionEnded', r, observedAt);
  }

  /** The session's short-lived state in the room (typing), or null to clear it; lasts ttlMs (null: the processor's default). */
  setRoomEphemeral(
    r: { roomKind: string; roomId: string; userId: string; sessionId: string; ephemeral: { state: string; target: string | null } | null; ttlMs?: number | null },
    observedAt = this.clock(),
  ): Promise<void> {
    const v: WireRoomEvent = {
      kind: 'ephemeral', roomKind: r.roomKind, roomId: r.roomId, userId: r.userId, sessionId: r.sessionId, observedAt, metadata: null,
      ephemeral: r.ephemeral && { state: r.ephemeral.state, target: r.ephemeral.target }, ephemeralTtlMs: r.ttlMs ?? null,
    };
    return this.encodeAndQueue('room', roomKey(r.roomKind, r.roomId), v);
  }

  /** Publishes an event already checked by the core (the gateway's path), with its own timestamps. */
  publish(e: UserEvent | RoomEvent): Promise<void> {
    switch (e.type) {
      case 'heartbeat': return this.heartbeat(e, e.idleMs, e.observedAt);
      case 'disconnect': return this.disconnect(e, e.observedAt);
      case 'override': return this.setOverride(e.userId, e, e.setAt);
      case 'visibility': return this.setVisibility(e.userId, e.visibility, e.setAt, e.eventId, e);
      case 'lastSeenPrivacy': return this.setLastSeenPrivacy(e.userId, e.lastSeenPrivacy, e.setAt, e.eventId, e);
      case 'activity': return this.setActivity(e.userId, e, e.setAt);
      case 'join': return this.joinRoom(e, e.observedAt);
      case 'leave': return this.leaveRoom(e, e.observedAt);
      case 'roomHeartbeat': return this.roomHeartbeat(e, e.observedAt);
      case 'sessionEnded': return this.endRoomSession(e, e.observedAt);
      case 'ephemeral': return this.setRoomEphemeral(e, e.observedAt);
      default: return unreachable(e);
    }
  }

  /** Sends what is queued, then disconnects. */
  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    void this.flush();
    await Promise.allSettled([...this.inflight]);
    await this.producers.close();
  }

  private room(kind: WireRoomEvent['kind'], r: { roomKind: string; roomId: string; userId: string; sessionId: string; metadata?: Record<string, string> | null }, observedAt: number): Promise<void> {
    const v: WireRoomEvent = { kind, roomKind: r.roomKind, roomId: r.roomId, userId: r.userId, sessionId: r.sessionId, observedAt, metadata: r.metadata ?? null, ephemeral: null, ephemeralTtlMs: null };
    return this.encodeAndQueue('room', roomKey(r.roomKind, r.roomId), v);
  }

  private sendHeartbeat(v: PresenceHeartbeat): Promise<void> {
    return this.encodeAndQueue('heartbeat', v.userId, v);
  }

  /**
   * Queues in call order: the encoding is awaited at flush, not before queueing, so two calls for one
   * key (a join, then a leave) reach the partition in the order they were made.
   */
  private encodeAndQueue<R extends 'heartbeat' | 'override' | 'room' | 'contacts'>(role: R, key: string, value: Parameters<AvroSerde['encode']>[1] & object): Promise<void> {
    if (!this.connected) return Promise.reject(new PublishError('publisher is closed'));
    const encoded = this.o.serde.encode(role, value as never);
    encoded.catch(() => undefined); // reported through this call's promise at flush
    return this.queue1(topicName(role, this.o.prefix), key, encoded);
  }

  private queue1(topic: string, key: string, encoded: Promise<Buffer | null>): Promise<void> {
    if (!this.connected) return Promise.reject(new PublishError('publisher is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, key, encoded, resolve, reject });
      if (this.queue.length >= (this.o.maxBatch ?? 1_000)) void this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.o.lingerMs ?? 5);
    });
  }

  private flush(): Promise<void> {
    const sending = this.send().finally(() => this.inflight.delete(sending));
    this.inflight.add(sending);
    return sending;
  }

  private async send(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const taken = this.queue;
    this.queue = [];
    if (taken.length === 0) return;
    // A value that cannot be encoded fails its own call only.
    const values = await Promise.allSettled(taken.map((p) => p.encoded));
    const batch: Array<Pending & { value: Buffer | null }> = [];
    values.forEach((v, i) => {
      const p = taken[i] as Pending;
      if (v.status === 'fulfilled') batch.push({ ...p, value: v.value });
      else p.reject(new PublishError(`encoding a presence event failed: ${(v.reason as Error).message}`, v.reason));
    });
    if (batch.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push({ key: p.key, value: p.value });
      byTopic.set(p.topic, list);
    }
    let generation = -1;
    try {
      const session = await withTimeout(this.producers.producer(), this.timeoutMs, 'reconnecting the publisher to Kafka');
      generation = session.generation;
      await withTimeout(
        session.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) }),
        this.timeoutMs, `publishing ${batch.length} presence events`,
      );
      for (const p of batch) p.resolve();
    } catch (e) {
      const err = e instanceof PublishError ? e : new PublishError(`publishing ${batch.length} presence events failed: ${(e as Error).message}`, e);
      for (const p of batch) p.reject(err);
      if (generation >= 0) await this.producers.replace(generation, e);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishError(`${what}: no answer from Kafka within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
