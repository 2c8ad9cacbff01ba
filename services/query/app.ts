/**
 * The query service's HTTP API (express): presence, batch presence, rooms, the gate check and the
 * SSE stream, all under /v1 with bearer-JWT auth; /healthz, /readyz and /metrics without. Bad input
 * is a 4xx `{ error, field }`; no stack trace ever reaches a response.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { roomKey, type ChannelClasses, type PresenceConfig, type RoomView, type UserView } from '../core';
import { callerOf, requireCaller, type Authenticator } from '../platform/auth';
import type { Logger } from '../platform/log';
import { memberTimesShown, viewerOf } from '../platform/viewer';
import type { QueryMetrics } from './metrics';
import type { PresenceStreams } from './presence-streams';
import type { RoomStreams } from './room-streams';
import { QUERY_OPENAPI } from './openapi';
import { decayedAtRead, devicesBody, gateAnswer, presenceBody, roomBody } from './read-model';
import { mountOpsRoutes } from '../platform/ops-routes';

export interface QueryAppDeps {
  readonly users: ReadonlyMap<string, UserView>;
  readonly rooms: ReadonlyMap<string, RoomView>;
  /** The processor watermark of a user's snapshot partition (the replica's watermarkOf); none: null. */
  readonly watermarkOf?: (userId: string) => number | null;
  readonly ready: () => boolean;
  /** Is `viewer` in `owner`'s contact list (presence.contacts.v1)? Default: no one is. */
  readonly isContact?: (owner: string, viewer: string) => boolean;
  /** `owner`'s whole contact list as [contact, addedAt] (for trusted raw-snapshot readers); default none. */
  readonly contactsOf?: (owner: string) => readonly (readonly [string, number])[];
  readonly streams: PresenceStreams;
  readonly roomStreams: RoomStreams;
  readonly auth: Authenticator;
  readonly cfg: PresenceConfig;
  readonly classes: ChannelClasses;
  readonly batchLimit: number;
  /**
   * Callers allowed to use /v1/gate (empty: any authenticated caller), and the trusted callers (the
   * notification pipeline) that get the real status from it and may read /v1/users/:id/devices.
   */
  readonly gateCallers: readonly string[];
  /** Callers allowed to read raw snapshots (POST /v1/snapshots:batchGet); absent or empty: nobody. */
  readonly snapshotCallers?: readonly string[];
  readonly keepAliveMs: number;
  readonly clock: () => number;
  readonly metrics: QueryMetrics;
  readonly log: Logger;
  /** Serve the demo page (and its config) at /. */
  readonly demoPage?: {
    readonly users: readonly string[];
    readonly rooms: readonly string[];
    /** The gateway's WebSocket URL: the page becomes a session of `viewer` through the browser client. */
    readonly gatewayUrl: string | null;
    readonly token: string | null;
    /** The token's user, shown as "You". */
    readonly viewer: string | null;
    /** A contacts-only user shown side by side as the viewer (in their list) and a stranger (not) see them. */
    readonly contacts?: { readonly user: string; readonly stranger: string; readonly strangerToken: string } | null;
  } | null;
}

/** A 4xx with `{ error, field }`. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string, readonly field: string) {
    super(message);
  }
}

export function createQueryApp(d: QueryAppDeps): express.Express {
  const app = express();
  const watermarkOf = d.watermarkOf ?? (() => null);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  const id = (field: string) =>
    z.string({ required_error: `${field} is required`, invalid_type_error: `${field} must be a string` })
      .min(1, `${field} must not be empty`)
      .max(d.cfg.maxIdLength, `${field} must be at most ${d.cfg.maxIdLength} characters`);
  const parse = <T>(schema: z.ZodType<T>, value: unknown, field: string): T => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const path = issue?.path.length ? `${field}[${issue.path.join('.')}]` : field;
    throw new BadRequest(400, issue?.message ?? `invalid ${field}`, path);
  };
  const idList = (raw: unknown, field: string): string[] => {
    const ids = parse(z.array(id(field)).min(1, `${field} must list at least one id`), raw, field);
    if (ids.length > d.batchLimit) throw new BadRequest(400, `${field} lists ${ids.length} ids; at most ${d.batchLimit}`, field);
    return ids;
  };
  const isContact = d.isContact ?? (() => false);
  const viewer = (res: Response, userId: string) => viewerOf(callerOf(res).userId, userId, isContact);

  // Request counts and latency by route pattern (not by raw path: ids must not explode the labels).
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const path = req.route?.path as string | undefined;
      const route = path === undefined ? 'unrouted' : `${req.baseUrl}${path}`;
      d.metrics.requests.inc({ route, code: String(res.statusCode) });
      if (!route.endsWith('/stream')) d.metrics.latency.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });

  mountOpsRoutes(app, { document: QUERY_OPENAPI, ready: d.ready, registry: d.metrics.registry });

  if (d.demoPage) {
    const page = readFileSync(join(__dirname, 'public', 'index.html'), 'utf8');
    const demo = d.demoPage;
    app.get('/', (_req, res) => void res.type('html').send(page));
    app.get('/demo/config.json', (_req, res) => void res.json(demo));
  }

  const v1 = express.Router();
  // EventSource cannot set headers: the stream route also takes ?access_token=.
  const headerAuth = requireCaller(d.auth);
  const streamAuth = requireCaller(d.auth, { allowQueryToken: true });
  v1.use((req, res, next) => (req.path === '/presence/stream' || isRoomStream(req.path) ? streamAuth : headerAuth)(req, res, next));
  v1.use(express.json({ limit: '256kb' }));

  v1.get('/users/:userId/presence', (req, res) => {
    const userId = parse(id('userId'), req.params['userId'], 'userId');
    const now = d.clock();
    const view = d.users.get(userId);
    if (decayedAtRead(view, now, d.cfg, watermarkOf(userId))) d.metrics.decayedReads.inc();
    res.json(presenceBody(userId, view, now, d.cfg, viewer(res, userId), watermarkOf(userId)));
  });

  // Device presence, for routing pushes: only trusted callers (the gate's list) and the user itself,
  // since it lists an invisible user's sessions and their gateways.
  v1.get('/users/:userId/devices', (req, res) => {
    const userId = parse(id('userId'), req.params['userId'], 'userId');
    const caller = callerOf(res).userId;
    if (caller !== userId && !d.gateCallers.includes(caller)) {
      throw new BadRequest(403, 'only trusted callers (QUERY_GATE_CALLERS) and the user itself may read device presence', 'authorization');
    }
    res.json(devicesBody(userId, d.users.get(userId), d.clock(), d.cfg, watermarkOf(userId)));
  });

  // One pass over the in-memory replica (each user's viewer class an O(1) contact lookup); the limit bounds the work of one request.
  v1.post('/presence\\:batchGet', (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest(400, 'body must be a JSON object', 'body');
    const userIds = idList((body as Record<string, unknown>)['userIds'], 'userIds');
    const now = d.clock();
    res.json({
      presences: userIds.map((u) => {
        const view = d.users.get(u);
        if (decayedAtRead(view, now, d.cfg, watermarkOf(u))) d.metrics.decayedReads.inc();
        return presenceBody(u, view, now, d.cfg, viewer(res, u), watermarkOf(u));
      }),
    });
  });

  // Raw snapshots (every field, visibility unapplied) for trusted readers that apply the viewer
  // rules themselves: a gateway following its sockets' subscriptions (services/gateway/subscriptions.ts).
  // Each comes with the user's contact list, which those rules need for a contacts-only user.
  v1.post('/snapshots\\:batchGet', (req, res) => {
    if (!(d.snapshotCallers ?? []).includes(callerOf(res).userId)) {
      throw new BadRequest(403, 'this caller may not read raw snapshots (QUERY_SNAPSHOT_CALLERS)', 'authorization');
    }
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest(400, 'body must be a JSON object', 'body');
    const userIds = idList((body as Record<string, unknown>)['userIds'], 'userIds');
    const contactsOf = d.contactsOf ?? (() => []);
    res.json({ snapshots: userIds.map((u) => ({ userId: u, view: d.users.get(u) ?? null, watermark: watermarkOf(u), contacts: contactsOf(u).map(([contact, addedAt]) => ({ contact, addedAt })) })) });
  });

  v1.get('/rooms/:kind/:id', (req, res) => {
    const kind = parse(id('kind'), req.params['kind'], 'kind');
    const roomId = parse(id('id'), req.params['id'], 'id');
    const caller = callerOf(res).userId;
    const timesShown = (member: string) => memberTimesShown(d.users.get(member), viewerOf(caller, member, isContact));
    res.json(roomBody(kind, roomId, d.rooms.get(roomKey(kind, roomId)), d.clock(), d.cfg, caller, timesShown));
  });

  v1.get('/gate', (req, res) => {
    if (d.gateCallers.length > 0 && !d.gateCallers.includes(callerOf(res).userId)) {
      throw new BadRequest(403, 'this caller may not use the gate check', 'authorization');
    }
    const userId = parse(id('userId'), req.query['userId'], 'userId');
    const channel = parse(id('channel'), req.query['channel'], 'channel');
    const bypass = parse(z.enum(['true', 'false', '1', '0'], { errorMap: () => ({ message: 'bypassDoNotDisturb must be true or false' }) }).optional(),
      req.query['bypassDoNotDisturb'], 'bypassDoNotDisturb');
    const caller = callerOf(res).userId;
    const seenAs = viewerOf(caller, userId, isContact);
    const audience = seenAs === 'self' || d.gateCallers.includes(caller) ? 'trusted' : seenAs;
    const answer = gateAnswer({ userId, channel, bypassDoNotDisturb: bypass === 'true' || bypass === '1' }, d.users.get(userId), d.clock(), d.cfg, d.classes, audience, watermarkOf(userId));
    if (!answer.ok) throw new BadRequest(400, answer.error, answer.field);
    res.json(answer.body);
  });

  v1.get('/presence/stream', (req, res) => {
    const raw = req.query['userIds'];
    const userIds = idList(typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw, 'userIds');
    eventStream(req, res, (send) => d.streams.subscribe(callerOf(res).userId, userIds, { send: (body) => send('presence', body) }));
  });

  v1.get('/rooms/:kind/:id/stream', (req, res) => {
    const kind = parse(id('kind'), req.params['kind'], 'kind');
    const roomId = parse(id('id'), req.params['id'], 'id');
    eventStream(req, res, (send) => d.roomStreams.subscribe(callerOf(res).userId, kind, roomId, { send: (body) => send('room', body) }));
  });

  /** An SSE response: `follow` subscribes with a sender of named events and returns its unsubscribe. */
  function eventStream(req: Request, res: Response, follow: (send: (event: string, body: unknown) => void) => () => void): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.write(`retry: 2000\n\n`);
    const unsubscribe = follow((event, body) => void res.write(`event: ${event}\ndata: ${JSON.stringify(body)}\n\n`));
    // Comments keep proxies and the client from timing the connection out.
    const keepAlive = setInterval(() => res.write(`: keep-alive ${d.clock()}\n\n`), d.keepAliveMs);
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  }

  app.use('/v1', v1);

  app.use((_req, res) => void res.status(404).json({ error: 'not found', field: 'path' }));
  // Errors thrown by handlers and by the JSON body parser; never a stack trace in the response.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest) {
      res.status(err.status).json({ error: err.message, field: err.field });
      return;
    }
    const status = (err as { status?: number; type?: string }).status;
    if (status !== undefined && status >= 400 && status < 500) {
      const tooLarge = (err as { type?: string }).type === 'entity.too.large';
      res.status(status).json({ error: tooLarge ? 'request body too large' : 'malformed JSON body', field: 'body' });
      return;
    }
    d.log.error({ err: String(err), path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal error', field: null });
  });
  return app;
}

/** /rooms/<kind>/<id>/stream (EventSource cannot set headers, so it may pass ?access_token=). */
function isRoomStream(path: string): boolean {
  return /^\/rooms\/[^/]+\/[^/]+\/stream$/.test(path);
}
