/**
 * The ops routes every express service mounts (their OpenAPI is ops-openapi.ts): liveness,
 * readiness, Prometheus metrics and the service's OpenAPI document. Background services without
 * express use http.ts's startOpsServer instead.
 */
import type { Express } from 'express';
import type { Registry } from 'prom-client';

export function mountOpsRoutes(app: Express, o: { readonly document: object; readonly ready: () => boolean; readonly registry: Registry }): void {
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/openapi.json', (_req, res) => void res.json(o.document));
  app.get('/readyz', (_req, res) => {
    const ready = o.ready();
    res.status(ready ? 200 : 503).json({ ready });
  });
  app.get('/metrics', async (_req, res) => void res.type(o.registry.contentType).send(await o.registry.metrics()));
}
