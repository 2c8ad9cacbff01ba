/** A tiny HTTP endpoint for liveness, readiness and Prometheus metrics of a background service. */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** What /metrics serves: a prom-client registry, or one that aggregates several (stream threads). */
export type MetricsSource = Pick<Registry, 'metrics' | 'contentType'>;

/** `healthy` (default: always) answers /healthz: false means the process should be restarted. */
export function startOpsServer(opts: { port: number; registry: MetricsSource; ready: () => boolean; healthy?: () => boolean; health?: () => unknown }): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/healthz') {
      const healthy = opts.healthy?.() ?? true;
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: healthy ? 'ok' : 'unhealthy', ...(opts.health ? { detail: opts.health() } : {}) }));
    } else if (url === '/readyz') {
      const ready = opts.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready }));
    } else if (url === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve(server));
  });
}
