/**
 * The history service's HTTP API as an OpenAPI 3.1 document, served at /openapi.json. The response
 * schemas are checked against the real answers in history.int.spec.ts (ajv, test/openapi.ts).
 */
import { ACTOR_KINDS, EFFECTIVE_STATUSES, OVERRIDE_STATUSES } from '../core';
import { authErrors, epochMs, error, json, nullable, opsPaths, ref } from '../platform/ops-openapi';

const instant = (name: string, description: string) => ({
  name, in: 'query', required: true, description: `${description}: epoch milliseconds or an ISO 8601 date-time`, schema: { type: 'string' },
});
const userParam = { name: 'userId', in: 'path', required: true, schema: { type: 'string', minLength: 1 } };
const privacy = { 403: error('Another user whose last-seen privacy is not exact: their history is shown only to them (code `last-seen-privacy`)') };
const perStatus = { type: 'object', additionalProperties: false, required: [...EFFECTIVE_STATUSES], properties: Object.fromEntries(EFFECTIVE_STATUSES.map((s) => [s, { type: 'integer', minimum: 0 }])) };

export const HISTORY_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Presence history service',
    version: '1.0.0',
    description: 'Status intervals, the status at an instant, time in status per UTC day and a room\'s members at an instant, from a local index of presence.changes.v1 and presence.room-changes.v1 (retained 7 days), with the audit (who set each override or setting, and why) from presence.override.v1. What a caller sees of another user follows the same visibility and last-seen privacy rules as the query service: periods the user was invisible (or everything, while they are invisible now) read Offline with cause null.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT; `sub` is the caller' } },
    schemas: {
      Error: {
        type: 'object', required: ['error', 'field'], additionalProperties: false,
        properties: { error: { type: 'string' }, field: { type: ['string', 'null'], description: 'The request field at fault (path or query), or null' }, code: { type: 'string' } },
      },
      Status: { type: 'string', enum: [...EFFECTIVE_STATUSES] },
      Actor: {
        type: 'object', required: ['kind', 'id'], additionalProperties: false, description: 'Who made a change (PresenceOverride.actor): for kind user, stamped by the gateway from the caller\'s token',
        properties: { kind: { type: 'string', enum: [...ACTOR_KINDS] }, id: { type: 'string' } },
      },
      SetBy: {
        type: 'object', required: ['at', 'status', 'actor', 'reason'], additionalProperties: false,
        description: 'The manual status setting that began the interval (matched by time: the write in force when the processor recorded the change, see the README)',
        properties: {
          at: { ...epochMs, description: 'When it was set (setAt)' }, status: { type: 'string', enum: [...OVERRIDE_STATUSES] },
          actor: { ...nullable(ref('Actor')), description: 'null: not recorded (a producer that did not say)' }, reason: { type: ['string', 'null'] },
        },
      },
      Setting: {
        type: 'object', required: ['at', 'kind', 'value', 'actor', 'reason'], additionalProperties: false,
        description: 'One write of a register on presence.override.v1 (every write, also one a later write overruled)',
        properties: {
          at: { ...epochMs, description: 'When it was set (setAt)' },
          kind: { type: 'string', enum: ['status', 'visibility', 'lastSeenPrivacy'] },
          value: { type: 'string', description: 'The override status, visibility or last-seen privacy written' },
          customText: { type: ['string', 'null'], description: 'kind status only' }, expiresAt: { ...nullable(epochMs), description: 'kind status only' },
          actor: nullable(ref('Actor')), reason: { type: ['string', 'null'] },
        },
      },
      Interval: {
        type: 'object', required: ['status', 'from', 'to', 'cause', 'setBy'], additionalProperties: false,
        properties: {
          setBy: { ...nullable(ref('SetBy')), description: 'Who set the manual status that began it, and why; null when no setting did (or the caller may not know: an Appear Offline, to others)' },
          status: ref('Status'), from: { ...epochMs, description: 'Inclusive' }, to: { ...epochMs, description: 'Exclusive' },
          cause: { type: ['string', 'null'], description: '`event` or `clock`: the cause of the change that began it; null when no recorded change did (before the first retained change, an unknown user, a period hidden from the caller)' },
        },
      },
      History: {
        type: 'object', required: ['userId', 'from', 'to', 'intervals', 'settings'], additionalProperties: false,
        properties: {
          userId: { type: 'string' }, from: epochMs, to: epochMs, intervals: { type: 'array', items: ref('Interval'), description: 'In time order, clipped to [from, min(to, now))' },
          settings: {
            type: 'array', items: ref('Setting'),
            description: 'The audit: register writes made in the window, by setAt. The user sees all of theirs; others only Busy, Do Not Disturb and Available outside the periods hidden from them (nothing while the user is invisible)',
          },
        },
      },
      StatusAt: {
        type: 'object', required: ['userId', 't', 'status', 'since', 'until', 'cause', 'setBy'], additionalProperties: false,
        properties: {
          userId: { type: 'string' }, t: epochMs, status: ref('Status'),
          since: { ...nullable(epochMs), description: 'Start of the interval holding t; null when not known or hidden' },
          until: { ...nullable(epochMs), description: 'Its end; null while it lasts or when hidden' },
          cause: { type: ['string', 'null'] },
          setBy: { ...nullable(ref('SetBy')), description: 'As in the history: who set the manual status that began that interval, and why' },
        },
      },
      Totals: {
        type: 'object', required: ['userId', 'from', 'to', 'days'], additionalProperties: false,
        properties: {
          userId: { type: 'string' }, from: epochMs, to: epochMs,
          days: {
            type: 'array', description: 'Every UTC day the window touches, in order',
            items: { type: 'object', required: ['day', 'ms'], additionalProperties: false, properties: { day: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, ms: { ...perStatus, description: 'Milliseconds of that day within the window (and before now) in each status' } } },
          },
        },
      },
      RoomAt: {
        type: 'object', required: ['roomKind', 'roomId', 't', 'members'], additionalProperties: false,
        properties: {
          roomKind: { type: 'string' }, roomId: { type: 'string' }, t: epochMs,
          members: {
            type: 'array',
            items: {
              type: 'object', required: ['userId', 'sessionId', 'joinedAt', 'lastSeen', 'metadata'], additionalProperties: false,
              properties: {
                userId: { type: 'string' }, sessionId: { type: 'string' }, joinedAt: epochMs,
                lastSeen: { ...nullable(epochMs), description: 'As of the room change; null for another member whose last-seen privacy is not exact' },
                metadata: { type: 'object', additionalProperties: { type: 'string' } },
                ephemeral: {
                  oneOf: [{ type: 'object', required: ['state', 'target', 'expiresAt'], additionalProperties: false, properties: { state: { type: 'string' }, target: { type: ['string', 'null'] }, expiresAt: { type: 'integer' } } }, { type: 'null' }],
                  description: 'What the member was doing then (typing), until expiresAt; null: nothing',
                },
              },
            },
          },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/users/{userId}/history': {
      get: {
        summary: 'Status intervals [from, to) with their cause and who set a manual status, clipped to the window and to now; the settings written in the window (audit)',
        parameters: [userParam, instant('from', 'Window start'), instant('to', 'Window end (exclusive; at most HISTORY_MAX_WINDOW_DAYS after from)')],
        responses: { 200: json(ref('History'), 'The intervals'), 400: error('Bad userId, from or to (field names it)'), ...authErrors, ...privacy },
      },
    },
    '/v1/users/{userId}/at': {
      get: {
        summary: 'The status at an instant (not in the future) and the interval holding it',
        parameters: [userParam, instant('t', 'The instant')],
        responses: { 200: json(ref('StatusAt'), 'The status'), 400: error('Bad userId or t'), ...authErrors, ...privacy },
      },
    },
    '/v1/users/{userId}/totals': {
      get: {
        summary: 'Time in each status per UTC day over the window',
        parameters: [userParam, instant('from', 'Window start'), instant('to', 'Window end (exclusive)')],
        responses: { 200: json(ref('Totals'), 'The totals'), 400: error('Bad userId, from or to'), ...authErrors, ...privacy },
      },
    },
    '/v1/rooms/{kind}/{id}/at': {
      get: {
        summary: 'Who was in a room at an instant (an empty or unknown room has no members)',
        parameters: [
          { name: 'kind', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
          { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
          instant('t', 'The instant'),
        ],
        responses: { 200: json(ref('RoomAt'), 'The members'), 400: error('Bad kind, id or t'), ...authErrors },
      },
    },
    ...opsPaths('Caught up with the history topics (the end offsets read at start)', 'Still indexing'),
  },
} as const;
