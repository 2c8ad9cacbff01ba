/**
 * The query service's HTTP API as an OpenAPI 3.1 document, served at /openapi.json. The response
 * schemas are checked against the real answers in routes.int.spec.ts (ajv), so this cannot drift
 * from what the service sends without a test failing. Enumerations come from the core.
 */
import { ACTIVITY_SOURCES, ACTIVITY_TYPES, EFFECTIVE_STATUSES, GATE_REASONS, LAST_SEEN_PRIVACIES, LAST_SEEN_BUCKETS, OVERRIDE_STATUSES, PLATFORMS, VISIBILITIES } from '../core';
import { authErrors, epochMs, error, json, nullable, opsPaths, ref } from '../platform/ops-openapi';


export const QUERY_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Presence query service',
    version: '1.0.0',
    description: 'Reads presence, rooms and notification-gate decisions from the replica of the compacted snapshot topics. Status is recomputed at read time with the service clock; what a caller sees of another user follows their visibility and last-seen privacy.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT; `sub` is the caller' } },
    schemas: {
      Error: {
        type: 'object', required: ['error', 'field'], additionalProperties: false,
        properties: { error: { type: 'string' }, field: { type: ['string', 'null'], description: 'The request field at fault (path, query or body), or null' }, code: { type: 'string' } },
      },
      Status: { type: 'string', enum: [...EFFECTIVE_STATUSES] },
      Device: {
        type: 'object', required: ['deviceId', 'sessionId', 'platform'], additionalProperties: false,
        properties: { deviceId: { type: 'string' }, sessionId: { type: 'string' }, platform: { type: 'string', enum: [...PLATFORMS] } },
      },
      DeviceRoute: {
        type: 'object', required: ['deviceId', 'sessionId', 'platform', 'gatewayId', 'active'], additionalProperties: false,
        properties: {
          deviceId: { type: 'string' }, sessionId: { type: 'string' }, platform: { type: 'string', enum: [...PLATFORMS] },
          gatewayId: { type: ['string', 'null'], description: 'Gateway of the session\'s latest heartbeat (where to push); null when unknown' },
          active: { type: 'boolean', description: 'The session\'s own last activity is less than the away threshold old; false: idle' },
        },
      },
      Override: {
        type: 'object', required: ['status', 'customText', 'expiresAt'], additionalProperties: false,
        properties: {
          status: { type: 'string', enum: [...OVERRIDE_STATUSES] },
          customText: { type: ['string', 'null'] }, expiresAt: nullable(epochMs),
        },
      },
      Activity: {
        type: 'object', required: ['activity', 'source', 'customText', 'emoji', 'expiresAt'], additionalProperties: false,
        description: 'What the user is doing, from one source. Presenting and Focusing fold into DoNotDisturb, InACall and InAMeeting into Busy, unless a manual Busy/DoNotDisturb/AppearOffline override decides the status or the user is Offline; Custom changes nothing',
        properties: {
          activity: { type: 'string', enum: [...ACTIVITY_TYPES] }, source: { type: 'string', enum: [...ACTIVITY_SOURCES] },
          customText: { type: ['string', 'null'] }, emoji: { type: ['string', 'null'] }, expiresAt: nullable(epochMs),
        },
      },
      Presence: {
        type: 'object', additionalProperties: false,
        required: ['userId', 'status', 'statusSince', 'lastSeen', 'lastActive', 'override', 'devices'],
        properties: {
          userId: { type: 'string' },
          status: ref('Status'),
          statusSince: nullable(epochMs),
          lastSeen: nullable(epochMs),
          lastActive: nullable(epochMs),
          override: nullable(ref('Override')),
          devices: { type: 'array', items: ref('Device') },
          activity: { ...ref('Activity'), description: 'Only while an activity is in force and the user is visible to the caller: the current one (first by precedence)' },
          activities: { type: 'array', items: ref('Activity'), description: 'Only with `activity`: every activity in force, one at most per source, in precedence order' },
          visibility: { type: 'string', enum: [...VISIBILITIES], description: 'Only in the caller\'s own presence' },
          lastSeenPrivacy: { type: 'string', enum: [...LAST_SEEN_PRIVACIES], description: 'Only in the caller\'s own presence' },
          lastSeenApprox: { type: 'string', enum: [...LAST_SEEN_BUCKETS], description: 'Only for another user whose last-seen privacy is coarse (their times are then null)' },
        },
      },
      Snapshot: {
        type: 'object', additionalProperties: false, description: 'The processor\'s snapshot of a user as written to presence.snapshot.v1 (status at emittedAt; readers recompute it)',
        required: ['userId', 'status', 'statusSince', 'lastSeen', 'lastActive', 'override', 'visibility', 'lastSeenPrivacy', 'devices', 'version', 'emittedAt'],
        properties: {
          userId: { type: 'string' }, status: ref('Status'), statusSince: nullable(epochMs), lastSeen: nullable(epochMs), offlineAt: nullable(epochMs),
          lastActive: nullable(epochMs), override: nullable(ref('Override')), visibility: { type: 'string', enum: [...VISIBILITIES] },
          lastSeenPrivacy: { type: 'string', enum: [...LAST_SEEN_PRIVACIES] },
          activities: {
            type: 'array', description: 'Only when some activity was in force at emittedAt: those, in precedence order (readers drop expired ones with their clock)',
            items: {
              type: 'object', required: ['activity', 'source', 'customText', 'emoji', 'expiresAt', 'setAt'], additionalProperties: false,
              properties: {
                activity: { type: 'string', enum: [...ACTIVITY_TYPES] }, source: { type: 'string', enum: [...ACTIVITY_SOURCES] },
                customText: { type: ['string', 'null'] }, emoji: { type: ['string', 'null'] }, expiresAt: nullable(epochMs), setAt: epochMs,
              },
            },
          },
          devices: {
            type: 'array',
            items: {
              type: 'object', required: ['deviceId', 'sessionId', 'platform'], additionalProperties: false,
              properties: {
                deviceId: { type: 'string' }, sessionId: { type: 'string' }, platform: { type: 'string', enum: [...PLATFORMS] },
                gatewayId: { type: ['string', 'null'] }, active: { type: 'boolean' },
              },
            },
          },
          version: { type: 'integer', minimum: 0 }, emittedAt: epochMs,
        },
      },
      Room: {
        type: 'object', required: ['roomKind', 'roomId', 'members'], additionalProperties: false,
        properties: {
          roomKind: { type: 'string' }, roomId: { type: 'string' },
          members: {
            type: 'array',
            items: {
              type: 'object', required: ['userId', 'sessionId', 'joinedAt', 'lastSeen', 'metadata', 'ephemeral'], additionalProperties: false,
              properties: {
                userId: { type: 'string' }, sessionId: { type: 'string' }, joinedAt: epochMs,
                lastSeen: { ...nullable(epochMs), description: 'Null for another member whose last-seen privacy is not exact' },
                metadata: { type: 'object', additionalProperties: { type: 'string' } },
                ephemeral: {
                  ...nullable({
                    type: 'object', required: ['state', 'target', 'expiresAt'], additionalProperties: false,
                    properties: { state: { type: 'string' }, target: { type: ['string', 'null'] }, expiresAt: epochMs },
                  }),
                  description: 'What the member is doing right now (typing, editing), until expiresAt; null: nothing',
                },
              },
            },
          },
        },
      },
      GateDecision: {
        type: 'object', required: ['deliver', 'reason', 'status', 'userKnown'], additionalProperties: false,
        properties: {
          deliver: { type: 'boolean' },
          reason: { type: 'string', enum: [...GATE_REASONS] },
          status: ref('Status'),
          userKnown: { type: 'boolean' },
          targetGateways: {
            ...nullable({ type: 'array', items: { type: 'string' } }),
            description: 'Only for trusted callers, as on notification.decision.v1: for a push that delivers, the gateways of the user\'s live sessions, active first ([]: deliver offline); null otherwise',
          },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/users/{userId}/presence': {
      get: {
        summary: 'One user\'s presence as the caller may see it (unknown users read Offline)',
        parameters: [{ name: 'userId', in: 'path', required: true, schema: { type: 'string', minLength: 1 } }],
        responses: { 200: json(ref('Presence'), 'The presence'), 400: error('Bad userId'), ...authErrors },
      },
    },
    '/v1/users/{userId}/devices': {
      get: {
        summary: 'Device presence for routing: the user\'s live sessions with gateway, platform and active/idle (none: deliver offline). Trusted callers (QUERY_GATE_CALLERS) and the user itself; an invisible user\'s sessions are listed too',
        parameters: [{ name: 'userId', in: 'path', required: true, schema: { type: 'string', minLength: 1 } }],
        responses: {
          200: json({ type: 'object', required: ['userId', 'devices'], additionalProperties: false, properties: { userId: { type: 'string' }, devices: { type: 'array', items: ref('DeviceRoute') } } }, 'The live sessions, sorted by device and session'),
          400: error('Bad userId'), ...authErrors, 403: error('Caller neither in QUERY_GATE_CALLERS nor the user'),
        },
      },
    },
    '/v1/presence:batchGet': {
      post: {
        summary: 'Many users\' presence in request order, in one pass over memory',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['userIds'], properties: { userIds: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 } } } } },
        },
        responses: {
          200: json({ type: 'object', required: ['presences'], additionalProperties: false, properties: { presences: { type: 'array', items: ref('Presence') } } }, 'One presence per requested id'),
          400: error('Bad body, empty or too many ids (field names the culprit)'), ...authErrors,
        },
      },
    },
    '/v1/snapshots:batchGet': {
      post: {
        summary: 'Raw snapshots, visibility unapplied, for trusted readers that apply the viewer rules themselves (a gateway serving its sockets\' subscriptions); callers listed in QUERY_SNAPSHOT_CALLERS only',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['userIds'], properties: { userIds: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 } } } } },
        },
        responses: {
          200: json({
            type: 'object', required: ['snapshots'], additionalProperties: false,
            properties: {
              snapshots: {
                type: 'array',
                items: {
                  type: 'object', required: ['userId', 'view', 'watermark', 'contacts'], additionalProperties: false,
                  properties: {
                    userId: { type: 'string' }, view: nullable(ref('Snapshot')), watermark: { ...nullable(epochMs), description: 'The processor watermark of the user\'s partition as this replica knows it' },
                    contacts: {
                      type: 'array', description: 'The user\'s contact list (presence.contacts.v1), every live entry: who sees them when their visibility is contacts (the first 5,000 by addedAt, contact)',
                      items: { type: 'object', required: ['contact', 'addedAt'], additionalProperties: false, properties: { contact: { type: 'string' }, addedAt: epochMs } },
                    },
                  },
                },
              },
            },
          }, 'One entry per requested id; view null for a user never seen'),
          400: error('Bad body, empty or too many ids'), ...authErrors, 403: error('Caller not in QUERY_SNAPSHOT_CALLERS'),
        },
      },
    },
    '/v1/rooms/{kind}/{id}': {
      get: {
        summary: 'Who is in a room now (an empty or unknown room has no members)',
        parameters: [
          { name: 'kind', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
          { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
        ],
        responses: { 200: json(ref('Room'), 'The room'), 400: error('Bad kind or id'), ...authErrors },
      },
    },
    '/v1/rooms/{kind}/{id}/stream': {
      get: {
        summary: 'Server-Sent Events: `event: room` with the Room first, then on every change the caller may see (members, their ephemeral state, its lapse)',
        parameters: [
          { name: 'kind', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
          { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
          { name: 'access_token', in: 'query', required: false, schema: { type: 'string' }, description: 'For EventSource, which cannot set headers' },
        ],
        responses: { 200: { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 400: error('Bad kind or id'), ...authErrors },
      },
    },
    '/v1/gate': {
      get: {
        summary: 'May a notification on this channel reach the user now? The notification gate\'s rule, on the real status for trusted callers',
        parameters: [
          { name: 'userId', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'channel', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'bypassDoNotDisturb', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false', '1', '0'] } },
        ],
        responses: { 200: json(ref('GateDecision'), 'The decision'), 400: error('Bad or unknown parameter'), ...authErrors, 403: error('Caller not in QUERY_GATE_CALLERS') },
      },
    },
    '/v1/presence/stream': {
      get: {
        summary: 'Server-Sent Events: `event: presence` with a Presence for each user first, then on every change the caller may see',
        parameters: [
          { name: 'userIds', in: 'query', required: true, schema: { type: 'string' }, description: 'Comma-separated' },
          { name: 'access_token', in: 'query', required: false, schema: { type: 'string' }, description: 'For EventSource, which cannot set headers' },
        ],
        responses: { 200: { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 400: error('Bad userIds'), ...authErrors },
      },
    },
    ...opsPaths('Caught up with the snapshot topics', 'Still catching up'),
  },
} as const;
