/**
 * The gateway's HTTP API as an OpenAPI 3.1 document, served at /openapi.json. The WebSocket at
 * /v1/ws is described by its upgrade only (its frames are in the README). The answers of the HTTP
 * tests in gateway.int.spec.ts are checked against it (ajv).
 */
import { ACTIVITY_SOURCES, ACTIVITY_TYPES, LAST_SEEN_PRIVACIES, MAX_REASON_LENGTH, OVERRIDE_STATUSES, PLATFORMS, VISIBILITIES } from '../core';
import { json, opsPaths, ref } from '../platform/ops-openapi';

/** The audit's optional note (trimmed; blank is none). */
const reason = { type: ['string', 'null'], maxLength: MAX_REASON_LENGTH, description: 'Why (audit note, shown in the history)' };
const AUDIT = 'Published with actor `{ kind: user, id: <token sub> }` and the optional `reason` (audit, shown in the history). A body with an `actor` field is refused (400, field `actor`): only the token says who acts.';
const body = (properties: Record<string, object>, required: string[]) => ({
  required: true, content: { 'application/json': { schema: { type: 'object', required, properties } } },
});
const accepted = { 202: json(ref('Accepted'), 'Accepted: published to Kafka, or held by coalescing (heartbeats)') };
const refusals = {
  400: json(ref('Error'), 'Bad input; `field` names it (`body` for malformed JSON)'),
  401: json(ref('Error'), 'Missing or bad bearer token (field `authorization`)'),
  403: json(ref('Error'), 'The body names another user (field `userId`)'),
  413: json(ref('Error'), 'Body larger than GATEWAY_MAX_FRAME_BYTES (field `body`)'),
  429: json(ref('Error'), 'Too many commands for this user (`rate-limited`, `retriable`, `retryAfterMs`)'),
  503: json(ref('Error'), 'Kafka did not take it in time (`unavailable`, `retriable`)'),
};
const session = { deviceId: { type: 'string' }, sessionId: { type: 'string' }, platform: { type: 'string', enum: [...PLATFORMS] } };
const roomPath = [
  { name: 'roomKind', in: 'path', required: true, schema: { type: 'string' } },
  { name: 'roomId', in: 'path', required: true, schema: { type: 'string' } },
];
const roomCommand = (summary: string, withMetadata: boolean) => ({
  post: {
    summary, parameters: roomPath,
    requestBody: body({ sessionId: { type: 'string' }, ...(withMetadata ? { metadata: { type: 'object', additionalProperties: { type: 'string' } } } : {}) }, ['sessionId']),
    responses: { ...accepted, ...refusals, 409: json(ref('Error'), 'The session is in too many rooms (field `roomId`)') },
  },
});

const ephemeralCommand = {
  put: {
    summary: 'What the session is doing in the room right now (typing, editing a field) for ephemeralTtlMs (default 5 s, at most 30 s); ephemeral null clears it',
    parameters: roomPath,
    requestBody: body({
      sessionId: { type: 'string' },
      ephemeral: { oneOf: [{ type: 'object', required: ['state'], properties: { state: { type: 'string', pattern: '^[A-Za-z0-9._:-]+$' }, target: { type: ['string', 'null'] } } }, { type: 'null' }] },
      ephemeralTtlMs: { type: 'integer', minimum: 1 },
    }, ['sessionId', 'ephemeral']),
    responses: { ...accepted, ...refusals, 409: json(ref('Error'), 'The session is in too many rooms (field `roomId`)') },
  },
};

export const GATEWAY_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Presence gateway',
    version: '1.0.0',
    description: 'Publishes what clients say about their own presence (the bearer token\'s `sub`) to the input topics: heartbeats, disconnects, overrides, visibility, last-seen privacy, activities and room membership. The same commands as the WebSocket frames at /v1/ws.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    schemas: {
      Accepted: { type: 'object', required: ['result'], additionalProperties: false, properties: { result: { type: 'string', enum: ['published', 'coalesced'] } } },
      Error: {
        type: 'object', required: ['error', 'field'], additionalProperties: false,
        properties: {
          error: { type: 'string' }, field: { type: ['string', 'null'] }, code: { type: 'string' },
          retriable: { type: 'boolean' }, retryAfterMs: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/heartbeat': {
      post: { summary: 'A session is alive (coalesced per session)', requestBody: body({ ...session, idleMs: { type: 'integer', minimum: 0 } }, ['deviceId', 'sessionId']), responses: { ...accepted, ...refusals } },
    },
    '/v1/disconnect': {
      post: { summary: 'A session ended cleanly (its rooms too)', requestBody: body(session, ['deviceId', 'sessionId']), responses: { ...accepted, ...refusals } },
    },
    // The audit: `reason` is the client's note; the actor is stamped from the token (a body with `actor` is a 400).
    '/v1/status': {
      put: {
        summary: 'Set or clear (Available) the manual status',
        requestBody: body({ status: { type: 'string', enum: [...OVERRIDE_STATUSES] }, customText: { type: ['string', 'null'] }, expiresAt: { type: ['integer', 'null'] }, reason }, ['status']),
        description: AUDIT,
        responses: { ...accepted, ...refusals },
      },
    },
    '/v1/visibility': {
      put: { summary: 'Who may see the status', description: AUDIT, requestBody: body({ visibility: { type: 'string', enum: [...VISIBILITIES] }, reason }, ['visibility']), responses: { ...accepted, ...refusals } },
    },
    '/v1/last-seen-privacy': {
      put: { summary: 'How others see the last-seen times', description: AUDIT, requestBody: body({ lastSeenPrivacy: { type: 'string', enum: [...LAST_SEEN_PRIVACIES] }, reason }, ['lastSeenPrivacy']), responses: { ...accepted, ...refusals } },
    },
    '/v1/activity': {
      put: {
        summary: 'Set or clear (activity null) what the user is doing, for one source',
        description: `${AUDIT} Presenting and Focusing read DoNotDisturb, InACall and InAMeeting Busy (unless a manual Busy/DoNotDisturb/AppearOffline status decides, or the user is Offline); Custom needs customText or an emoji. source defaults to manual; expiresAt must be in the future. A bad field is a 400 naming it.`,
        requestBody: body({
          activity: { type: ['string', 'null'], enum: [...ACTIVITY_TYPES, null] }, source: { type: 'string', enum: [...ACTIVITY_SOURCES] },
          customText: { type: ['string', 'null'], maxLength: 100 }, emoji: { type: ['string', 'null'] }, expiresAt: { type: ['integer', 'null'] }, reason,
        }, ['activity']),
        responses: { ...accepted, ...refusals },
      },
    },
    '/v1/rooms/{roomKind}/{roomId}/join': roomCommand('Join a room with the session', true),
    '/v1/rooms/{roomKind}/{roomId}/heartbeat': roomCommand('Still in the room (to change metadata; renewal is automatic over the socket)', true),
    '/v1/rooms/{roomKind}/{roomId}/leave': roomCommand('Leave a room', false),
    '/v1/rooms/{roomKind}/{roomId}/ephemeral': ephemeralCommand,
    '/v1/ws': {
      get: {
        summary: 'WebSocket upgrade (`?access_token=&deviceId=&sessionId=&platform=`); frames in the README',
        responses: {
          101: { description: 'Switching protocols: the first frame is `welcome`' },
          400: json(ref('Error'), 'Bad session parameter'), 401: json(ref('Error'), 'Missing or bad token'), 503: json(ref('Error'), 'The gateway is stopping'),
        },
      },
    },
    '/client/presence-client.js': { get: { security: [], summary: 'The browser client module (any origin)', responses: { 200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } } } } },
    ...opsPaths('Accepting connections', 'Stopping'),
  },
} as const;
