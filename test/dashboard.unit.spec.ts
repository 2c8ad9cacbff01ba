/**
 * The Grafana dashboard in infra/grafana names only metrics the services export, with the labels
 * its queries group by: a renamed metric or label fails here instead of leaving an empty panel.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { createGateMetrics } from '../services/notification-gate/metrics';
import { createGatewayMetrics } from '../services/gateway/metrics';
import { createProcessorMetrics } from '../services/processor/metrics';
import { createQueryMetrics } from '../services/query/metrics';

interface Panel { title: string; targets: Array<{ expr: string }> }
const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'infra', 'grafana', 'presence-dashboard.json'), 'utf8')) as { panels: Panel[] };

function exported(): Map<string, { type: string; labels: Set<string> }> {
  const registries: Registry[] = [
    createProcessorMetrics().registry, createGatewayMetrics().registry,
    createQueryMetrics({ lag: () => 0, ready: () => true, streams: () => 0, roomStreams: () => 0, users: () => 0, rooms: () => 0 }).registry,
    createGateMetrics({ lag: () => 0, ready: () => true, users: () => 0 }).registry,
  ];
  const out = new Map<string, { type: string; labels: Set<string> }>();
  for (const r of registries) {
    for (const m of r.getMetricsAsArray()) {
      const { name, labelNames, type } = m as unknown as { name: string; labelNames?: string[]; type: string };
      out.set(name, { type: String(type), labels: new Set(labelNames ?? []) });
    }
  }
  return out;
}

describe('the Grafana dashboard', () => {
  const metrics = exported();
  const uses = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

  it('has panels for what operators watch', () => {
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(12);
    expect(uses.length).toBeGreaterThan(dashboard.panels.length);
  });

  it.each(uses.map((u) => [u.panel, u.expr]))('%s: %s names exported metrics and labels', (_panel, expr) => {
    const names = [...expr.matchAll(/presence_[a-z_]+/g)].map((m) => m[0]);
    expect(names.length).toBeGreaterThan(0);
    for (const raw of names) {
      const base = raw.replace(/_(bucket|sum|count)$/, '');
      const m = metrics.get(raw) ?? metrics.get(base);
      expect([raw, m !== undefined]).toEqual([raw, true]);
      if (raw !== base && !metrics.has(raw)) expect([raw, m?.type]).toEqual([raw, 'histogram']);
      const selectorLabels = [...(expr.match(new RegExp(`${raw}\\{([^}]*)\\}`))?.[1] ?? '').matchAll(/([a-z_]+)=/g)].map((x) => x[1] as string);
      const groupLabels = [...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((x) => (x[1] ?? '').split(',').map((l) => l.trim())).filter((l) => l && l !== 'le' && l !== 'instance');
      for (const label of [...selectorLabels, ...groupLabels.filter(() => names.length === 1)]) expect([raw, label, m?.labels.has(label)]).toEqual([raw, label, true]);
    }
  });
});
