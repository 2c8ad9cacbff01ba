/**
 * The history service assembled: index → indexer → HTTP API on a port. main.ts calls it with
 * config; tests call it with their own prefix, clock, key and data folder. The HTTP server listens
 * before the indexer catches up, so /readyz answers 503 meanwhile.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';
import type { PresenceConfig } from '../core';
import type { AvroSerde } from '../contract/serde';
import type { Authenticator } from '../platform/auth';
import { ContactsReplica } from '../platform/contacts-replica';
import type { Logger } from '../platform/log';
import { createHistoryApp } from './app';
import { HistoryIndex } from './history-index';
import { HistoryIndexer } from './indexer';
import { createHistoryMetrics } from './metrics';

export interface HistoryServiceOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly cfg: PresenceConfig;
  readonly auth: Authenticator;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly maxWindowDays: number;
  readonly clock?: () => number;
}

export interface HistoryService {
  readonly url: string;
  readonly indexer: HistoryIndexer;
  readonly contacts: ContactsReplica;
  /** Starts indexing; resolves when the index caught up with the end offsets read at start (ready). */
  startIndexer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHistoryService(o: HistoryServiceOptions): Promise<HistoryService> {
  mkdirSync(o.dataDir, { recursive: true });
  const index = await HistoryIndex.open(o.dataDir);
  let indexer: HistoryIndexer | null = null;
  const metrics = createHistoryMetrics({ ready: () => indexer?.ready() ?? false });
  const ix = new HistoryIndexer({
    kafka: o.kafka, serde: o.serde, prefix: o.prefix, index, log: o.log, cfg: o.cfg,
    onIndexed: (role, n) => metrics.indexed.inc({ role }, n), onUndecodable: () => metrics.undecodable.inc(),
  });
  indexer = ix;
  // The current contact lists, for the per-viewer rules of contacts-only users (skips what the core refuses; no dead letters here).
  const contacts = new ContactsReplica({ kafka: o.kafka, serde: o.serde, prefix: o.prefix, cfg: o.cfg, log: o.log.child({ component: 'contacts' }), ...(o.clock ? { clock: o.clock } : {}) });
  const app = createHistoryApp({ index, ready: () => ix.ready() && contacts.ready(), isContact: (owner, viewer) => contacts.book.isContact(owner, viewer), auth: o.auth, cfg: o.cfg, maxWindowDays: o.maxWindowDays, clock: o.clock ?? Date.now, metrics, log: o.log });
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    url: `http://${o.host}:${port}`,
    indexer: ix,
    contacts,
    startIndexer: async () => {
      await Promise.all([ix.start(), contacts.start()]);
      await Promise.all([ix.whenReady, contacts.whenReady]);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all([ix.stop(), contacts.stop()]);
      await index.close();
    },
  };
}
