/**
 * The query service assembled: snapshot replica → SSE streams → HTTP API on a port. main.ts calls
 * it with config; tests call it with their own prefix, clock and key. The HTTP server listens
 * before the replica starts, so /readyz answers 503 while it catches up.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';
import type { ChannelClasses, PresenceConfig } from '../core';
import type { AvroSerde } from '../contract/serde';
import type { Authenticator } from '../platform/auth';
import type { Logger } from '../platform/log';
import { ContactBook, ContactsReplica } from '../platform/contacts-replica';
import { memberTimesShown, viewerOf } from '../platform/viewer';
import { SnapshotReplica } from '../platform/snapshot-replica';
import { ContactsValidator } from './contacts-validator';
import { createQueryApp, type QueryAppDeps } from './app';
import { createQueryMetrics } from './metrics';
import { PresenceStreams } from './presence-streams';
import { RoomStreams } from './room-streams';

export interface QueryServiceOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly groupIdBase: string;
  readonly cfg: PresenceConfig;
  readonly classes: ChannelClasses;
  readonly auth: Authenticator;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  readonly batchLimit: number;
  readonly gateCallers: readonly string[];
  /** Callers allowed to read raw snapshots (gateways); default none. */
  readonly snapshotCallers?: readonly string[];
  readonly keepAliveMs: number;
  readonly clock?: () => number;
  readonly demoPage?: QueryAppDeps['demoPage'];
  /**
   * Join the contacts validator group (contacts-validator.ts), the one writer of contact events'
   * dead letters; main.ts turns it on (QUERY_CONTACTS_VALIDATOR, default on), tests when they check it.
   */
  readonly validateContacts?: boolean;
  /** The contacts bound (default the core's MAX_CONTACTS_PER_OWNER); tests lower it. */
  readonly contactsBound?: number;
}

export interface QueryService {
  readonly url: string;
  readonly replica: SnapshotReplica;
  readonly contacts: ContactsReplica;
  readonly streams: PresenceStreams;
  /** Starts the replica; resolves when it has caught up (ready). */
  startReplica(): Promise<void>;
  stop(): Promise<void>;
}

export async function startQueryService(o: QueryServiceOptions): Promise<QueryService> {
  const clock = o.clock ?? Date.now;
  let streams: PresenceStreams | null = null;
  let roomStreams: RoomStreams | null = null;
  let undecodable = () => {};
  const replica = new SnapshotReplica({
    kafka: o.kafka, serde: o.serde, prefix: o.prefix, rooms: true, log: o.log, groupIdBase: o.groupIdBase,
    onUpdate: (u) => {
      if (u.kind === 'user') streams?.updated(u.key);
      else roomStreams?.updated(u.key);
    },
    onWatermark: (partition, watermark) => streams?.watermarkChanged(partition, watermark),
    onUndecodable: () => undecodable(),
  });
  const contacts = new ContactsReplica({
    kafka: o.kafka, serde: o.serde, prefix: o.prefix, cfg: o.cfg, clock, log: o.log.child({ component: 'contacts' }),
    ...(o.contactsBound === undefined ? {} : { book: new ContactBook(o.contactsBound) }),
    onChange: (owner) => {
      streams?.contactsChanged(owner);
      roomStreams?.contactsChanged(owner);
    },
    onRejected: () => rejectedContact(),
  });
  let rejectedContact = () => {};
  const isContact = (owner: string, viewer: string) => contacts.book.isContact(owner, viewer);
  streams = new PresenceStreams({ users: replica.users, cfg: o.cfg, clock, watermarks: replica, isContact });
  roomStreams = new RoomStreams({
    rooms: replica.rooms, cfg: o.cfg, clock,
    timesShown: (caller, member) => memberTimesShown(replica.users.get(member), viewerOf(caller, member, isContact)),
  });
  const s = streams;
  const rs = roomStreams;
  const metrics = createQueryMetrics({
    lag: () => replica.lag(), ready: () => replica.ready(), streams: () => s.size, roomStreams: () => rs.size,
    users: () => replica.users.size, rooms: () => replica.rooms.size,
  });
  undecodable = () => metrics.undecodable.inc();
  rejectedContact = () => metrics.contactsRejected.inc();
  const validator = o.validateContacts
    ? new ContactsValidator({
      kafka: o.kafka, serde: o.serde, prefix: o.prefix, groupId: `${o.groupIdBase}-contacts-validator`, cfg: o.cfg, clock,
      log: o.log.child({ component: 'contacts-validator' }), book: contacts.book, ...(o.contactsBound === undefined ? {} : { bound: o.contactsBound }),
      onDeadLetter: () => metrics.contactsDeadLettered.inc(),
    })
    : null;
  const app = createQueryApp({
    users: replica.users, rooms: replica.rooms, watermarkOf: (u) => replica.watermarkOf(u), ready: () => replica.ready() && contacts.ready(), streams: s,
    isContact, contactsOf: (owner) => [...(contacts.book.listOf(owner) ?? [])], roomStreams: rs, auth: o.auth, cfg: o.cfg,
    classes: o.classes, batchLimit: o.batchLimit, gateCallers: o.gateCallers, snapshotCallers: o.snapshotCallers ?? [], keepAliveMs: o.keepAliveMs, clock, metrics,
    log: o.log, demoPage: o.demoPage ?? null,
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    url: `http://${o.host}:${port}`,
    replica,
    contacts,
    streams: s,
    startReplica: async () => {
      await Promise.all([replica.start(), contacts.start()]);
      await Promise.all([replica.whenReady, contacts.whenReady]);
      // The bound is judged against the whole lists: the validator starts once they are read.
      if (validator && !stopped) await validator.start();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      s.close();
      rs.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await validator?.stop();
      await Promise.all([replica.stop(), contacts.stop()]);
    },
  };
}
