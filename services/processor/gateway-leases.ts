/**
 * Gateway leases in the processor: a gateway announces itself on the compacted
 * presence.gateway-lease.v1 (services/gateway/lease.ts); when its lease runs out without renewal it
 * is gone (killed, crashed), and every task ends, as a clean disconnect at the expiry, the sessions
 * whose latest heartbeat came through it (the core's endGatewaySessions), then flushes as usual:
 * snapshots and changes go out, the changed users become unsaved for the checkpoint.
 *
 * - `GatewayLeaseMap` (pure): gatewayId → the latest lease, and up to which instant its sessions are
 *   dead. A lease is expired at `now` once `renewedAt + leaseMs < now` and also `leaseMs` has passed
 *   on this member's clock since the renewal was read (so a gateway whose clock runs behind ours is
 *   not taken as gone while its renewals arrive). A lease with a newer `startedAt` (the gateway
 *   restarted under the same id) ends the previous run at min(its expiry, startedAt − 1). A gateway
 *   never seen, or forgotten by a tombstone, is never expired: gateways that do not announce
 *   themselves keep the offline threshold.
 * - `GatewayIndex` (one per task): gatewayId → the user keys with an open session last heard through
 *   it, so an expiry costs the users of that gateway, not O(users).
 * - `GatewayLeases`: the map fed by a reader of the whole topic (every member reads every partition:
 *   one record per gateway), and the timer loop's hooks `due(task, now)` / `apply(task, now)`.
 *   Each task remembers the expiry it applied per gateway, so a task assigned or rebuilt later
 *   applies every expiry once, and a user that shows up afterwards with an old open session on a dead
 *   gateway (a late or replayed heartbeat) is ended at the next tick. Replays are harmless:
 *   endGatewaySessions changes nothing the second time.
 */
import type { Kafka } from 'kafkajs';
import { isOpen, type UserState } from '../core';
import type { GatewayLease } from '../contract/avro-types';
import { leaseFromRecord } from '../contract/gateway-lease-codec';
import { RegistryUnavailableError, type AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { PartitionReader } from '../platform/partition-reader';
import type { Logger } from '../platform/log';

export interface KnownLease {
  readonly startedAt: number;
  readonly renewedAt: number;
  readonly leaseMs: number;
  /** When this member read it (its own clock). */
  readonly readAt: number;
  /** The previous run of this gateway ended by this instant (a restart was seen); null: none seen. */
  readonly previousRunEndedAt: number | null;
}

export class GatewayLeaseMap {
  private readonly leases = new Map<string, KnownLease>();

  get size(): number {
    return this.leases.size;
  }

  get(gatewayId: string): KnownLease | undefined {
    return this.leases.get(gatewayId);
  }

  /**
   * Applies one record (null: a tombstone, the gateway is forgotten). Keeps the latest lease by
   * (startedAt, renewedAt): an older record (a replay, a zombie of an earlier run) changes nothing.
   * Returns whether anything changed.
   */
  apply(gatewayId: string, lease: Pick<GatewayLease, 'startedAt' | 'renewedAt' | 'leaseMs'> | null, readAt: number): boolean {
    if (lease === null) return this.leases.delete(gatewayId);
    const cur = this.leases.get(gatewayId);
    if (cur && (lease.startedAt < cur.startedAt || (lease.startedAt === cur.startedAt && lease.renewedAt <= cur.renewedAt && lease.leaseMs === cur.leaseMs))) return false;
    let previousRunEndedAt = cur?.previousRunEndedAt ?? null;
    if (cur && lease.startedAt > cur.startedAt) {
      const ended = Math.min(cur.renewedAt + cur.leaseMs, lease.startedAt - 1);
      previousRunEndedAt = previousRunEndedAt === null ? ended : Math.max(previousRunEndedAt, ended);
    }
    this.leases.set(gatewayId, { startedAt: lease.startedAt, renewedAt: lease.renewedAt, leaseMs: lease.leaseMs, readAt, previousRunEndedAt });
    return true;
  }

  /** Whether the current lease of the gateway ran out at `now` (never for one not seen). */
  expired(gatewayId: string, now: number): boolean {
    const l = this.leases.get(gatewayId);
    return l !== undefined && expired(l, now);
  }

  /**
   * The instant up to which the sessions last heard through the gateway are dead at `now`: the
   * expiry of its current lease once it ran out, else the end of a previous run; null: none.
   */
  deadUpTo(gatewayId: string, now: number): number | null {
    const l = this.leases.get(gatewayId);
    return l === undefined ? null : deadUpTo(l, now);
  }

  /** Every gateway with sessions to end at `now`, and up to which instant. */
  dead(now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [g, l] of this.leases) {
      const t = deadUpTo(l, now);
      if (t !== null) out.set(g, t);
    }
    return out;
  }
}

function expired(l: KnownLease, now: number): boolean {
  return l.renewedAt + l.leaseMs < now && l.readAt + l.leaseMs < now;
}

function deadUpTo(l: KnownLease, now: number): number | null {
  if (!expired(l, now)) return l.previousRunEndedAt;
  const t = l.renewedAt + l.leaseMs;
  return l.previousRunEndedAt === null ? t : Math.max(t, l.previousRunEndedAt);
}

/** The gateways of a user's open sessions that stamp one (each once, in session order). */
function openGateways(state: Pick<UserState, 'sessions'> | null): string[] {
  const out: string[] = [];
  if (state === null) return out;
  for (const s of state.sessions) {
    const g = s.gatewayId ?? null;
    if (g !== null && isOpen(s) && !out.includes(g)) out.push(g);
  }
  return out;
}

/**
 * Per task: which users have an open session last heard through a gateway. Answered by scanning the
 * task's users (`users`) when a gateway's lease runs out, which is rare: keeping a gateway → users
 * index current cost a map entry and set memberships per user (411 B of the 2,208 B a user took)
 * and 3.7 % of the processor's CPU. What must be known between scans is small: keys that came to
 * a gateway already known dead (at the last `keepFreshOf`) since the last `takeFresh` (a late
 * heartbeat of a dead gateway opening a session is ended at the next tick). `track` records those,
 * and costs nothing while no gateway is dead.
 */
export class GatewayIndex {
  private fresh = new Map<string, Set<string>>();
  private dead: ReadonlyMap<string, unknown> = new Map();

  constructor(private readonly users: () => Iterable<readonly [string, UserState]>) {}

  /** After a change of a user's sessions from `before` (null: not known before) to `after`. */
  track(key: string, before: Pick<UserState, 'sessions'> | null, after: UserState): void {
    if (this.dead.size === 0) return;
    const was = openGateways(before);
    for (const g of openGateways(after)) {
      if (!this.dead.has(g) || was.includes(g)) continue;
      let f = this.fresh.get(g);
      if (!f) this.fresh.set(g, (f = new Set()));
      f.add(key);
    }
  }

  /** User keys with an open session on the gateway (a scan of the task's users). */
  usersOf(gatewayId: string): string[] {
    const out: string[] = [];
    for (const [key, state] of this.users()) if (openGateways(state).includes(gatewayId)) out.push(key);
    return out;
  }

  /** Gateways with at least one user (a scan; diagnostics and tests). */
  get gateways(): number {
    const all = new Set<string>();
    for (const [, state] of this.users()) for (const g of openGateways(state)) all.add(g);
    return all.size;
  }

  /** Keys added per gateway since the last call (and forgets them). */
  takeFresh(): Map<string, Set<string>> {
    const f = this.fresh;
    this.fresh = new Map();
    return f;
  }

  /** The gateways now dead: forgets the fresh keys of every other, and remembers only theirs from now on. */
  keepFreshOf(gateways: ReadonlyMap<string, unknown>): void {
    this.dead = gateways;
    for (const g of this.fresh.keys()) if (!gateways.has(g)) this.fresh.delete(g);
  }

  /** Whether a key was added for the gateway since the last takeFresh. */
  hasFresh(gatewayId: string): boolean {
    return (this.fresh.get(gatewayId)?.size ?? 0) > 0;
  }
}

/** What a task offers to the lease hooks (PresenceTask implements it). */
export interface LeaseTask {
  readonly gateways: GatewayIndex;
  /** Ends, for the users `keys`, the sessions last heard through `gatewayId` at or before `deadUpTo`; returns how many users changed. */
  endGatewaySessions(gatewayId: string, deadUpTo: number, now: number, keys: Iterable<string>): number;
}

export interface GatewayLeasesOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly log: Logger;
  readonly clock: () => number;
  /** Called with the number of users whose sessions a lease expiry ended (metrics). */
  readonly onEnded?: (users: number) => void;
}

/** The lease map, its reader, and the timer loop's hooks. */
export class GatewayLeases {
  readonly map = new GatewayLeaseMap();
  /** Per task: gatewayId → the instant up to which its sessions were ended there. */
  private readonly applied = new WeakMap<LeaseTask, Map<string, number>>();
  private readonly announced = new Map<string, number>();
  private reader: PartitionReader | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly o: Pick<GatewayLeasesOptions, 'log' | 'onEnded'>) {}

  /** Whether the task has an expiry to apply at `now`: one it did not apply yet, or a new user of a dead gateway. O(dead gateways). */
  due(task: LeaseTask, now: number): boolean {
    const applied = this.applied.get(task);
    const dead = this.map.dead(now);
    task.gateways.keepFreshOf(dead); // new users of live gateways need nothing: forget them
    for (const [g, t] of dead) if (applied?.get(g) !== t || task.gateways.hasFresh(g)) return true;
    return false;
  }

  /**
   * Ends, in `task`, the sessions of every gateway gone at `now`; returns how many users changed.
   * `onApplied` hears each expiry applied to some users (the journal records them for a rebuild).
   */
  apply(task: LeaseTask, now: number, onApplied?: (gatewayId: string, deadUpTo: number) => void): number {
    let applied = this.applied.get(task);
    if (!applied) this.applied.set(task, (applied = new Map()));
    const dead = this.map.dead(now);
    task.gateways.keepFreshOf(dead); // also when no check ran before (a catching-up task)
    const fresh = task.gateways.takeFresh();
    let n = 0;
    for (const [g, t] of dead) {
      if (this.announced.get(g) !== t) {
        this.announced.set(g, t);
        this.o.log.info({ gatewayId: g, deadUpTo: t, lease: this.map.get(g) }, 'gateway lease ran out: ending the sessions last heard through it');
      }
      const keys = applied.get(g) === t ? [...(fresh.get(g) ?? [])] : task.gateways.usersOf(g);
      applied.set(g, t);
      if (keys.length > 0) {
        n += task.endGatewaySessions(g, t, now, keys);
        onApplied?.(g, t);
      }
    }
    if (n > 0) this.o.onEnded?.(n);
    return n;
  }

  /**
   * Reads the whole lease topic, following it live, with the group-less PartitionReader (nothing
   * joined, nothing left on the broker). Null when the topic does not exist (provisioned before
   * leases).
   */
  static async start(o: GatewayLeasesOptions): Promise<GatewayLeases | null> {
    const topic = topicName('gatewayLease', o.prefix);
    const admin = o.kafka.admin();
    await admin.connect();
    let partitions: number[];
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        o.log.warn({ topic }, 'no gateway lease topic: sessions of a crashed gateway end at the offline threshold');
        return null;
      }
      // Metadata, not offsets: a topic created a moment ago may not have elected its leaders yet.
      partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.map((p) => p.partitionId) ?? [];
    } finally {
      await admin.disconnect();
    }
    const leases = new GatewayLeases(o);
    const reader = new PartitionReader({
      kafka: o.kafka, log: o.log, readCommitted: true, maxWaitMs: 100,
      partitions: partitions.map((partition) => ({ topic, partition, from: 'earliest' as const })),
    });
    leases.reader = reader;
    leases.running = reader.run(async ({ partition, messages }) => {
      for (const message of messages) {
        const key = message.key?.toString() ?? '';
        try {
          const lease = message.value === null ? null : leaseFromRecord(await o.serde.decode('gatewayLease', message.value), key);
          leases.map.apply(key, lease, o.clock());
        } catch (e) {
          if (e instanceof RegistryUnavailableError) throw e; // the reader retries the batch
          o.log.warn({ topic, partition, offset: message.offset, err: String(e) }, 'skipping an unreadable gateway lease');
        }
      }
    }, { until: 'live' }).catch((e: unknown) => o.log.error({ err: String(e) }, 'gateway lease reader stopped'));
    return leases;
  }

  async stop(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    await reader?.stop();
    await this.running;
  }
}
