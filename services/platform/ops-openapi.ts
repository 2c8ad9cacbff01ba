/**
 * What the HTTP services' OpenAPI documents share: the fragment builders every document uses, and
 * the ops paths (liveness, readiness, metrics, the document itself).
 */
export const nullable = (schema: object) => ({ oneOf: [schema, { type: 'null' }] });
export const epochMs = { type: 'integer', minimum: 0, description: 'Epoch milliseconds' } as const;
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
/** A response with the document's Error schema. */
export const error = (description: string) => json(ref('Error'), description);
export const authErrors = { 401: error('Missing, malformed or expired bearer token (field `authorization`)') };

/** `ready`: what readiness means for the service; `notReady`: why it would answer 503. */
export function opsPaths(ready: string, notReady: string) {
  return {
    '/healthz': { get: { security: [], summary: 'Liveness', responses: { 200: json({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }, 'Alive') } } },
    '/readyz': {
      get: {
        security: [], summary: ready,
        responses: {
          200: json({ type: 'object', required: ['ready'], properties: { ready: { const: true } } }, 'Ready'),
          503: json({ type: 'object', required: ['ready'], properties: { ready: { const: false } } }, notReady),
        },
      },
    },
    '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { 200: { description: 'Text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/openapi.json': { get: { security: [], summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
  } as const;
}
