/**
 * The reference gateway assembled: a WebSocket endpoint and HTTP endpoints in front of the typed
 * publisher. main.ts calls it with config; tests call it with their own prefix and key.
 *
 * WebSocket  GET /v1/ws?deviceId=…&platform=…&sessionId=…   (token: Authorization header or
 *            ?access_token=, since browsers cannot set headers on a socket)
 *   server → {"type":"welcome", userId, deviceId, sessionId, platform, heartbeatIntervalMs, awayAfterMs, coalesceWindowMs}
 *   client → {"type":"heartbeat","idleMs":n} | {"type":"override","status":…,"customText"?,"expiresAt"?}
 *            | {"type":"visibility","visibility":…} | {"type":"activity","activity":…|null,"source"?,"customText"?,"emoji"?,"expiresAt"?}
 *            | {"type":"join"|"roomHeartbeat","roomKind","roomId","metadata"?}
 *            | {"type":"leave","roomKind","roomId"} | {"type":"ephemeral","roomKind","roomId","ephemeral":{"state","target"?}|null,"ephemeralTtlMs"?},
 *            each with an optional "id" echoed in the answer
 *   server → {"type":"ack", id, result: "published"|"coalesced"} | {"type":"error", id, code, field, error, retriable}
 *   A bad frame gets an error and the socket stays usable; a frame over the size limit closes it
 *   (1009). Closing the socket ends the session (rooms left, clean disconnect). The gateway closes a
 *   socket with 4001 when a newer socket of the same session replaced it, 4002 when an HTTP
 *   disconnect ended its session, 1001 when the gateway stops.
 * HTTP (bearer token), 202 {result} or 4xx {error, field, code}:
 *   POST /v1/heartbeat {deviceId, sessionId, platform?, idleMs}   POST /v1/disconnect {deviceId, sessionId, platform?}
 *   PUT /v1/status {status, customText?, expiresAt?, reason?}    PUT /v1/visibility {visibility, reason?}
 *   PUT /v1/last-seen-privacy {lastSeenPrivacy, reason?}
 *   PUT /v1/activity {activity|null, source? (manual), customText?, emoji?, expiresAt?, reason?}   (actor stamped from the token; a body with `actor` is a 400)
 *   POST /v1/rooms/:roomKind/:roomId/{join|heartbeat|leave} {sessionId, metadata?}
 * The browser client module is served at /client/presence-client.js.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Kafka } from 'kafkajs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PresenceConfig, Rejection, UserView } from '../core';
import type { AvroSerde } from '../contract/serde';
import { AuthError, bearerToken, callerOf, requireCaller, type Authenticator, type Caller } from '../platform/auth';
import type { Logger } from '../platform/log';
import { GATEWAY_OPENAPI } from './openapi';
import { commandEvent, parseFrame, type Command, type Sender } from './commands';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { startGatewayLease } from './lease';
import { PresencePublisher, PublishError, type SessionRef } from './publisher';
import { CommandLimiter, type RateLimit } from './rate-limit';
import { SessionTable, TooManyRoomsError, type Outcome, type SocketCloseReason } from './sessions';
import { snapshotFetcher, SnapshotFetchError } from './snapshot-fetch';
import { SubscriptionHub, SubscriptionRejected, type SocketFollows } from './subscriptions';
import { ContactsReplica } from '../platform/contacts-replica';
import { SnapshotReplica } from '../platform/snapshot-replica';
import { mountOpsRoutes } from '../platform/ops-routes';

export interface GatewayOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly cfg: PresenceConfig;
  readonly auth: Authenticator;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  readonly gatewayId: string;
  readonly coalesceWindowMs: number;
  readonly reconnectGraceMs: number;
  readonly maxFrameBytes: number;
  readonly pingIntervalMs: number;
  readonly maxRoomsPerSession: number;
  readonly publishTimeoutMs: number;
  readonly lingerMs: number;
  /**
   * The gateway's lease on presence.gateway-lease.v1 (lease.ts): how long it lasts without renewal
   * (renewed every leaseMs/3). 0 or absent: the gateway does not announce itself.
   */
  readonly leaseMs?: number;
  /** Commands other than heartbeats and disconnects, per user. Default 5/s, bursts of 20. */
  readonly commandRateLimit?: RateLimit;
  /**
   * Presence subscriptions over the socket (subscriptions.ts): the query service that has the
   * current snapshots, a token whose subject it lists in QUERY_SNAPSHOT_CALLERS, and how many users
   * one socket may follow. Absent: subscribe frames are refused.
   */
  readonly subscriptions?: { readonly queryUrl: string; readonly queryToken: string; readonly maxPerSocket: number; readonly fetchTimeoutMs?: number; readonly batchLimit?: number };
  readonly clock?: () => number;
}

export interface Gateway {
  readonly url: string;
  readonly wsUrl: string;
  readonly metrics: GatewayMetrics;
  readonly sessions: SessionTable;
  /** Socket subscriptions (null when not configured). */
  readonly subscriptions: SubscriptionHub | null;
  /** Ends every socket session (rooms left, disconnects published), writes the final lease (leaseMs 0), then closes. */
  stop(): Promise<void>;
}

/** A refusal with the HTTP status it maps to. */
class Refused extends Error {
  constructor(readonly status: number, readonly body: { error: string; field: string | null; code: string; retriable?: boolean; retryAfterMs?: number }) {
    super(body.error);
  }
}

/** How a rejection, a full session or a failed publish is told to a client, over either transport. */
function refusalOf(e: unknown): Refused | null {
  if (e instanceof TooManyRoomsError) return new Refused(409, { error: e.message, field: e.field, code: e.code });
  if (e instanceof SubscriptionRejected) return rejected(e.rejection);
  if (e instanceof SnapshotFetchError) return new Refused(503, { error: e.message, field: null, code: e.code, retriable: true });
  if (e instanceof PublishError) return new Refused(503, { error: `presence could not be published: ${e.message}`, field: null, code: 'unavailable', retriable: true });
  return null;
}

function rejected(r: Rejection): Refused {
  return new Refused(r.code === 'not-allowed' && r.field === 'userId' ? 403 : 400, { error: `${r.field} ${r.reason}`, field: r.field, code: r.code });
}

const CLIENT_JS = join(__dirname, 'public', 'presence-client.js');

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const clock = o.clock ?? Date.now;
  const log = o.log;
  const metrics = createGatewayMetrics();
  const publisher = await PresencePublisher.connect({
    kafka: o.kafka, serde: o.serde, prefix: o.prefix, gatewayId: o.gatewayId, lingerMs: o.lingerMs, timeoutMs: o.publishTimeoutMs, clock, log,
  });
  // Announced before the first client can connect; a lease with no session is harmless.
  const lease = o.leaseMs ? await startGatewayLease({
    kafka: o.kafka, serde: o.serde, prefix: o.prefix, gatewayId: o.gatewayId, leaseMs: o.leaseMs, clock, log, timeoutMs: o.publishTimeoutMs,
  }) : null;
  const sessions = new SessionTable({
    publisher, cfg: o.cfg, coalesceWindowMs: o.coalesceWindowMs, reconnectGraceMs: o.reconnectGraceMs,
    maxRoomsPerSession: o.maxRoomsPerSession, clock, metrics, log,
  });
  const follow = o.subscriptions ? await startSubscriptions(o, o.subscriptions, clock) : null;
  if (follow) metrics.following.probe = () => follow.hub.size;
  let stopping = false;
  const limiter = new CommandLimiter(o.commandRateLimit ?? { perSecond: 5, burst: 20 });
  const limiterSweep = setInterval(() => limiter.sweep(clock()), 10_000);
  limiterSweep.unref();

  /** One command from either transport: checked, applied, counted. */
  const run = async (transport: 'ws' | 'http', command: Command, body: Record<string, unknown>, sender: Sender): Promise<Outcome> => {
    const checked = commandEvent(command, body, sender, clock(), randomUUID(), o.cfg);
    if (!checked.ok) {
      metrics.frames.inc({ transport, type: command, result: 'rejected' });
      throw rejected(checked.rejection);
    }
    // Heartbeats are bounded by coalescing; a disconnect only ever ends something.
    const retryAfterMs = command === 'heartbeat' || command === 'disconnect' ? 0 : limiter.take(sender.userId, clock());
    if (retryAfterMs > 0) {
      metrics.frames.inc({ transport, type: command, result: 'limited' });
      throw new Refused(429, { error: `too many commands: retry after ${retryAfterMs} ms`, field: null, code: 'rate-limited', retriable: true, retryAfterMs });
    }
    try {
      const outcome = await sessions.apply(checked.event);
      metrics.frames.inc({ transport, type: command, result: 'accepted' });
      return outcome;
    } catch (e) {
      metrics.frames.inc({ transport, type: command, result: 'failed' });
      throw refusalOf(e) ?? e;
    }
  };

  /** A subscribe or unsubscribe frame: rate-limited like commands; the users now followed. */
  const subscription = async (command: 'subscribe' | 'unsubscribe', body: Record<string, unknown>, follows: SocketFollows | null, userId: string): Promise<number> => {
    if (follows === null) {
      metrics.frames.inc({ transport: 'ws', type: command, result: 'rejected' });
      throw new Refused(400, { error: 'presence subscriptions are not enabled on this gateway (GATEWAY_QUERY_URL)', field: 'type', code: 'not-allowed' });
    }
    const retryAfterMs = limiter.take(userId, clock());
    if (retryAfterMs > 0) {
      metrics.frames.inc({ transport: 'ws', type: command, result: 'limited' });
      throw new Refused(429, { error: `too many commands: retry after ${retryAfterMs} ms`, field: null, code: 'rate-limited', retriable: true, retryAfterMs });
    }
    try {
      const n = command === 'subscribe' ? await follows.subscribe(body['userIds']) : follows.unsubscribe(body['userIds']);
      metrics.frames.inc({ transport: 'ws', type: command, result: 'accepted' });
      return n;
    } catch (e) {
      metrics.frames.inc({ transport: 'ws', type: command, result: e instanceof SubscriptionRejected ? 'rejected' : 'failed' });
      throw e;
    }
  };

  // ---- HTTP ----
  const app = express();
  app.disable('x-powered-by');
  mountOpsRoutes(app, { document: GATEWAY_OPENAPI, ready: () => !stopping, registry: metrics.registry });
  const clientJs = readFileSync(CLIENT_JS, 'utf8');
  app.get('/client/presence-client.js', (_req, res) => {
    // Loaded as a module by pages on other origins (the demo page is served by the query service).
    res.set('access-control-allow-origin', '*').type('text/javascript').send(clientJs);
  });

  const v1 = express.Router();
  // Bearer tokens, no cookies: any origin may call, as with the socket.
  v1.use((req, res, next) => {
    res.set({ 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'POST, PUT' });
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  });
  v1.use(requireCaller(o.auth));
  v1.use(express.json({ limit: o.maxFrameBytes }));
  const http = (command: Command, fromPath?: (req: Request) => Record<string, unknown>) => async (req: Request, res: Response) => {
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refused(400, { error: 'body must be a JSON object', field: 'body', code: 'not-an-object' });
    const result = await run('http', command, { ...(body as Record<string, unknown>), ...fromPath?.(req) }, { userId: callerOf(res).userId });
    res.status(202).json({ result });
  };
  const roomPath = (req: Request) => ({ roomKind: req.params['roomKind'], roomId: req.params['roomId'] });
  v1.post('/heartbeat', http('heartbeat'));
  v1.post('/disconnect', http('disconnect'));
  v1.put('/status', http('override'));
  v1.put('/visibility', http('visibility'));
  v1.put('/last-seen-privacy', http('lastSeenPrivacy'));
  v1.put('/activity', http('activity'));
  v1.post('/rooms/:roomKind/:roomId/join', http('join', roomPath));
  v1.post('/rooms/:roomKind/:roomId/heartbeat', http('roomHeartbeat', roomPath));
  v1.post('/rooms/:roomKind/:roomId/leave', http('leave', roomPath));
  v1.put('/rooms/:roomKind/:roomId/ephemeral', http('ephemeral', roomPath));
  app.use('/v1', v1);
  app.use((_req, res) => void res.status(404).json({ error: 'not found', field: 'path', code: 'not-found' }));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof Refused) return void res.status(err.status).json(err.body);
    const status = (err as { status?: number }).status;
    if (status !== undefined && status >= 400 && status < 500) {
      const tooLarge = (err as { type?: string }).type === 'entity.too.large';
      return void res.status(status).json({ error: tooLarge ? `request body larger than ${o.maxFrameBytes} bytes` : 'malformed JSON body', field: 'body', code: tooLarge ? 'too-large' : 'wrong-type' });
    }
    log.error({ err: String(err), path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal error', field: null, code: 'internal' });
  });

  // ---- WebSocket ----
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes });
  const alive = new WeakMap<WebSocket, boolean>();

  const refuseUpgrade = (socket: Duplex, status: number, body: object) => {
    metrics.rejectedUpgrades.inc({ status: String(status) });
    const text = JSON.stringify(body);
    const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  };

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/v1/ws') return refuseUpgrade(socket, 404, { error: 'not found', field: 'path' });
    if (stopping) return refuseUpgrade(socket, 503, { error: 'gateway stopping', field: null, retriable: true });
    const token = bearerToken(req.headers.authorization) ?? url.searchParams.get('access_token');
    if (!token) return refuseUpgrade(socket, 401, { error: 'missing bearer token', field: 'authorization' });
    let caller: Caller;
    try {
      caller = await o.auth.verify(token);
    } catch (e) {
      return refuseUpgrade(socket, 401, { error: e instanceof AuthError ? e.message : 'invalid token', field: 'authorization' });
    }
    // The connection's session is checked like an HTTP heartbeat's body, so its errors name the same fields.
    const query = { deviceId: url.searchParams.get('deviceId'), sessionId: url.searchParams.get('sessionId') ?? randomUUID(), platform: url.searchParams.get('platform') ?? 'other' };
    const probe = commandEvent('heartbeat', query, { userId: caller.userId }, clock(), '', o.cfg);
    if (!probe.ok || probe.event.event.type !== 'heartbeat') {
      const r = probe.ok ? null : probe.rejection;
      return refuseUpgrade(socket, 400, { error: r ? `${r.field} ${r.reason}` : 'bad session', field: r?.field ?? null });
    }
    const { userId, deviceId, sessionId, platform } = probe.event.event;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, { userId, deviceId, sessionId, platform }));
  };

  const onConnection = (ws: WebSocket, ref: SessionRef) => {
    const send = (msg: object) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const replace = (why: SocketCloseReason) => (why === 'replaced'
      ? ws.close(4001, 'replaced by a newer connection of this session')
      : ws.close(4002, 'session ended by a disconnect request'));
    metrics.connects.inc();
    const handle = sessions.attachSocket(ref, replace);
    const sender: Sender = { userId: ref.userId, session: ref };
    const follows: SocketFollows | null = follow?.hub.open(ref.userId, (body) => {
      metrics.presenceFrames.inc();
      send({ type: 'presence', ...body });
    }) ?? null;
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    send({
      type: 'welcome', ...ref, heartbeatIntervalMs: o.cfg.heartbeatIntervalMs, awayAfterMs: o.cfg.awayAfterMs, coalesceWindowMs: o.coalesceWindowMs,
    });
    ws.on('message', (data, isBinary) => {
      alive.set(ws, true);
      if (isBinary) return send({ type: 'error', id: null, code: 'wrong-type', field: '(frame)', error: 'frames must be text (JSON)' });
      const parsed = parseFrame(data.toString());
      if (!parsed.ok) {
        metrics.frames.inc({ transport: 'ws', type: 'unparsed', result: 'rejected' });
        return send({ type: 'error', id: parsed.id, code: parsed.rejection.code, field: parsed.rejection.field, error: `${parsed.rejection.field} ${parsed.rejection.reason}` });
      }
      const { command, body, id } = parsed.frame;
      if (command === 'subscribe' || command === 'unsubscribe') {
        return void subscription(command, body, follows, ref.userId).then(
          (following) => send({ type: 'ack', id, result: command === 'subscribe' ? 'subscribed' : 'unsubscribed', following }),
          (e: unknown) => send({ type: 'error', id, ...(refusalOf(e) ?? new Refused(500, { error: 'internal error', field: null, code: 'internal' })).body }),
        );
      }
      // Called synchronously in frame order: the publisher keeps that order on the wire.
      run('ws', command, body, sender).then(
        (result) => send({ type: 'ack', id, result }),
        (e: unknown) => {
          if (e instanceof Refused) return send({ type: 'error', id, ...e.body });
          log.error({ err: String(e), userId: ref.userId }, 'socket command failed');
          send({ type: 'error', id, code: 'internal', field: null, error: 'internal error' });
        },
      );
    });
    ws.on('error', (err) => log.debug({ err: String(err), userId: ref.userId }, 'socket error'));
    // 1006: the connection died without a close handshake (network gone, ping timeout).
    ws.on('close', (code) => {
      try {
        follows?.close();
      } finally {
        sessions.detachSocket(handle, replace, code === 1006); // the session ends whatever the follows did
      }
    });
  };

  const server: Server = createServer(app);
  server.on('upgrade', (req, socket, head) => {
    onUpgrade(req, socket, head).catch((e: unknown) => {
      log.error({ err: String(e) }, 'upgrade failed');
      socket.destroy();
    });
  });
  // A socket that did not answer the previous ping is gone; terminating it ends its session (after the grace).
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, o.pingIntervalMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${o.host}:${port}`;

  let stopped: Promise<void> | null = null;
  return {
    url,
    wsUrl: `ws://${o.host}:${port}/v1/ws`,
    metrics,
    sessions,
    subscriptions: follow?.hub ?? null,
    stop: () => (stopped ??= (async () => {
      stopping = true;
      clearInterval(pinger);
      clearInterval(limiterSweep);
      await sessions.endAllSockets();
      for (const ws of wss.clients) ws.close(1001, 'gateway stopping');
      await publisher.close();
      // After the disconnects were acknowledged: the last lease (leaseMs 0) says "gone, cleanly".
      await lease?.stop();
      await follow?.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      for (const ws of wss.clients) ws.terminate();
    })()),
  };
}

/** The subscription hub and the snapshot and contacts tails that feed it (only followed users' records are decoded). */
async function startSubscriptions(o: GatewayOptions, s: NonNullable<GatewayOptions['subscriptions']>, clock: () => number) {
  let hub: SubscriptionHub | null = null;
  const tail = new SnapshotReplica({
    kafka: o.kafka, serde: o.serde, prefix: o.prefix, rooms: false, log: o.log,
    tail: { follows: (userId) => hub?.isFollowed(userId) ?? false },
    onUpdate: (u) => hub?.applySnapshot(u.key, u.next as UserView | null),
    onWatermark: (p, w) => hub?.watermarkChanged(p, w),
  });
  const contactsTail = new ContactsReplica({
    kafka: o.kafka, serde: o.serde, prefix: o.prefix, cfg: o.cfg, clock, log: o.log,
    tail: { follows: (owner) => hub?.isFollowed(owner) ?? false },
    onEvent: (e) => hub?.applyContact(e),
  });
  hub = new SubscriptionHub({
    cfg: o.cfg, clock, maxPerSocket: s.maxPerSocket, watermarks: tail, log: o.log,
    fetchSnapshots: snapshotFetcher({ queryUrl: s.queryUrl, token: s.queryToken, timeoutMs: s.fetchTimeoutMs ?? 5_000, batchLimit: s.batchLimit ?? 500 }),
  });
  await Promise.all([tail.start(), contactsTail.start()]);
  const h = hub;
  return {
    hub: h,
    stop: async () => {
      h.close();
      await Promise.all([tail.stop(), contactsTail.stop()]);
    },
  };
}
