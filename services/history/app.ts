/**
 * The history service's HTTP API (express): a user's status intervals, status at an instant and
 * time in status per day, and a room's members at an instant, under /v1 with bearer-JWT auth;
 * /healthz, /readyz, /metrics and /openapi.json without. What a caller sees of another user follows
 * the query service's rules (platform/viewer.ts, the core): periods the user was invisible read
 * Offline, everything does while they are invisible now, and the history of a user whose last-seen
 * privacy is not exact is theirs alone (403). Bad input is a 4xx `{ error, field }`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { roomKey, visibleTo, type PresenceConfig } from '../core';
import { callerOf, requireCaller, type Authenticator } from '../platform/auth';
import type { Logger } from '../platform/log';
import { memberTimesShown, roomBody, viewerOf, type MemberSettings } from '../platform/viewer';
import type { HistoryIndex } from './history-index';
import type { HistoryMetrics } from './metrics';
import { HISTORY_OPENAPI } from './openapi';
import { visibleSettings, type Setting, type SetBy } from './audit';
import { hiddenSpans, history, roomViewAt, statusAt, totalsPerDay, type Audience, type Interval } from './timeline';
import { mountOpsRoutes } from '../platform/ops-routes';

export interface HistoryAppDeps {
  readonly index: HistoryIndex;
  readonly ready: () => boolean;
  readonly auth: Authenticator;
  readonly cfg: PresenceConfig;
  /** Longest window of one history or totals request. */
  readonly maxWindowDays: number;
  readonly clock: () => number;
  readonly metrics: HistoryMetrics;
  readonly log: Logger;
  /** Is `viewer` in `owner`'s contact list now (presence.contacts.v1)? Default: no one is. */
  readonly isContact?: (owner: string, viewer: string) => boolean;
}

/** An interval as answered: who set the manual status that began it, when one did (else null). */
const intervalBody = ({ setBy, ...iv }: Interval) => ({ ...iv, setBy: setBy === undefined ? null : setByBody(setBy) });
const setByBody = (s: SetBy) => ({ at: s.at, status: s.status, actor: s.actor, reason: s.reason });
/** A recorded setting as answered (the eventId is internal). */
const settingBody = (s: Setting) => ({
  at: s.at, kind: s.kind, value: s.value,
  ...(s.kind === 'status' ? { customText: s.customText, expiresAt: s.expiresAt } : {}),
  actor: s.actor, reason: s.reason,
});

/** A 4xx with `{ error, field }` (and a code when a client may act on it). */
class BadRequest extends Error {
  constructor(readonly status: number, message: string, readonly field: string, readonly code?: string) {
    super(message);
  }
}

const DAY_MS = 86_400_000;

export function createHistoryApp(d: HistoryAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  const id = (field: string) =>
    z.string({ required_error: `${field} is required`, invalid_type_error: `${field} must be a string` })
      .min(1, `${field} must not be empty`)
      .max(d.cfg.maxIdLength, `${field} must be at most ${d.cfg.maxIdLength} characters`);
  const parseId = (value: unknown, field: string): string => {
    const r = id(field).safeParse(value);
    if (!r.success) throw new BadRequest(400, r.error.issues[0]?.message ?? `invalid ${field}`, field);
    return r.data;
  };
  /** Epoch milliseconds (digits) or an ISO 8601 date-time. */
  const instant = (value: unknown, field: string): number => {
    if (value === undefined) throw new BadRequest(400, `${field} is required`, field);
    if (typeof value !== 'string' || value.trim() === '') throw new BadRequest(400, `${field} must be epoch milliseconds or an ISO 8601 date-time`, field);
    const ms = /^\d+$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
    if (!Number.isSafeInteger(ms)) throw new BadRequest(400, `${field} must be epoch milliseconds or an ISO 8601 date-time`, field);
    return ms;
  };
  const windowOf = (req: Request) => {
    const from = instant(req.query['from'], 'from');
    const to = instant(req.query['to'], 'to');
    if (to <= from) throw new BadRequest(400, 'to must be after from', 'to');
    if (to - from > d.maxWindowDays * DAY_MS) throw new BadRequest(400, `the window may span at most ${d.maxWindowDays} days`, 'to');
    return { from, to };
  };
  const notFuture = (t: number, field: string, now: number) => {
    if (t > now) throw new BadRequest(400, `${field} must not be in the future`, field);
  };

  const isContact = d.isContact ?? (() => false);
  /** What the caller may see of `userId` (throws 403 for another user whose last-seen privacy is not exact). */
  const audienceOf = async (res: Response, userId: string): Promise<Audience> => {
    const viewer = viewerOf(callerOf(res).userId, userId, isContact);
    if (viewer === 'self') return { viewer, current: null, marks: [] };
    const settings = await d.index.settings(userId);
    if (settings && visibleTo(settings.visibility, viewer) && settings.lastSeenPrivacy !== 'exact') {
      throw new BadRequest(403, 'this user\'s last-seen privacy keeps their history to themselves', 'userId', 'last-seen-privacy');
    }
    return { viewer, current: settings?.visibility ?? null, marks: await d.index.visibilityMarks(userId) };
  };

  app.use((req, res, next) => {
    res.on('finish', () => {
      const path = req.route?.path as string | undefined;
      d.metrics.requests.inc({ route: path === undefined ? 'unrouted' : `${req.baseUrl}${path}`, code: String(res.statusCode) });
    });
    next();
  });

  mountOpsRoutes(app, { document: HISTORY_OPENAPI, ready: d.ready, registry: d.metrics.registry });

  const v1 = express.Router();
  v1.use(requireCaller(d.auth));

  v1.get('/users/:userId/history', async (req, res) => {
    const userId = parseId(req.params['userId'], 'userId');
    const window = windowOf(req);
    const audience = await audienceOf(res, userId);
    const now = d.clock();
    const changes = await d.index.userChanges(userId, window.from, window.to);
    // Writes from the change before the window on, so the window's first interval can be attributed too.
    const firstAt = changes[0]?.at ?? window.from;
    const settings = await d.index.settingsWritten(userId, Math.min(firstAt, window.from), window.to);
    const intervals = history(changes, window, now, audience, { settings, toleranceMs: d.cfg.maxClockSkewMs });
    const shown = visibleSettings(settings, { from: window.from, to: Math.min(window.to, now) }, audience.viewer, hiddenSpans(audience));
    res.json({ userId, ...window, intervals: intervals.map(intervalBody), settings: shown.map(settingBody) });
  });

  v1.get('/users/:userId/at', async (req, res) => {
    const userId = parseId(req.params['userId'], 'userId');
    const t = instant(req.query['t'], 't');
    const now = d.clock();
    notFuture(t, 't', now);
    const audience = await audienceOf(res, userId);
    const holding = (await d.index.userChanges(userId, t, t + 1))[0];
    // From the change holding t, so the one before it (its previousAt for setBy) is read too, as the history route does.
    const changes = await d.index.userChanges(userId, holding && holding.at <= t ? holding.at : t, t + 1);
    const settings = await d.index.settingsWritten(userId, Math.min(changes[0]?.at ?? t, t), t + d.cfg.maxClockSkewMs + 1);
    const { setBy, ...at } = statusAt(changes, t, now, audience, { settings, toleranceMs: d.cfg.maxClockSkewMs });
    res.json({ userId, t, ...at, setBy: setBy === undefined ? null : setByBody(setBy) });
  });

  v1.get('/users/:userId/totals', async (req, res) => {
    const userId = parseId(req.params['userId'], 'userId');
    const window = windowOf(req);
    const audience = await audienceOf(res, userId);
    const now = d.clock();
    const changes = await d.index.userChanges(userId, window.from, window.to);
    res.json({ userId, ...window, days: totalsPerDay(history(changes, window, now, audience), window) });
  });

  v1.get('/rooms/:kind/:id/at', async (req, res) => {
    const kind = parseId(req.params['kind'], 'kind');
    const roomId = parseId(req.params['id'], 'id');
    const t = instant(req.query['t'], 't');
    notFuture(t, 't', d.clock());
    const view = roomViewAt(await d.index.roomChangesAt(roomKey(kind, roomId), t), t);
    const caller = callerOf(res).userId;
    const settings = new Map<string, MemberSettings | undefined>();
    for (const m of view?.members ?? []) settings.set(m.userId, (await d.index.settings(m.userId)) ?? undefined);
    const body = roomBody(kind, roomId, view, t, d.cfg, caller, (u) => memberTimesShown(settings.get(u), viewerOf(caller, u, isContact)));
    res.json({ roomKind: body.roomKind, roomId: body.roomId, t, members: body.members });
  });

  app.use('/v1', v1);

  app.use((_req, res) => void res.status(404).json({ error: 'not found', field: 'path' }));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest) {
      res.status(err.status).json({ error: err.message, field: err.field, ...(err.code ? { code: err.code } : {}) });
      return;
    }
    const status = (err as { status?: number }).status;
    if (status !== undefined && status >= 400 && status < 500) {
      res.status(status).json({ error: 'bad request', field: null });
      return;
    }
    d.log.error({ err: String(err), path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal error', field: null });
  });
  return app;
}
