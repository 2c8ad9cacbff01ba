/**
 * `make chaos`: the fault suite against the real parts ("Nothing lost when parts fail"). Starts its
 * own 3-node KRaft cluster (RF 3, min.insync.replicas=2) and a durable registry on its own ports and
 * INFRA_DIR (infra.ts), runs each scenario (scenarios.ts) on its own topic prefix with the
 * product's processor, query service and gateway as child processes, prints one table and writes
 * .infra/chaos/results.json, and stops everything it started, also on failure or timeout.
 *
 * Measured and checked: a scenario fails when an acknowledged event is lost, a user's last
 * acknowledged override or live device is not what readers see at the end, a partition stalls, the
 * query service answers 5xx, a snapshot version goes back, or its own expectation is not met.
 *
 * CHAOS_SCENARIOS=a,b (default: all), CHAOS_TIMEOUT_S (600), CHAOS_INFRA_DIR, CHAOS_KAFKA_PORT
 * (29192; nodes on +0, +2, +4, controllers +1, +3, +5), CHAOS_REGISTRY_PORT (28181),
 * CHAOS_REGISTRY_MANAGEMENT_PORT (29101), CHAOS_JARS_FROM (.infra: link its downloaded jars).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createKafka } from '../../services/platform/kafka';
import { load1, machine } from '../bench/measure';
import { chaosInfra, startInfra, stopInfra } from './infra';
import type { Ctx } from './harness';
import { SCENARIOS, type ScenarioResult } from './scenarios';

const ROOT = resolve(__dirname, '../..');
const log = (s: string) => console.log(`[chaos] ${new Date().toISOString().slice(11, 19)} ${s}`);

function table(results: readonly ScenarioResult[]): string {
  const head = ['scenario', 'acked hb/ovr', 'gw non-2xx', 'acked lost', 'ovr lost q/t', 'keys lost q/t', 'ver. regr.', 'stale ovr', 'dev drops', 'stalled', 'query 5xx', 'figures', 'result'];
  const rows = results.map((r) => {
    const a = r.audit;
    const figures = Object.entries(r.figures).filter(([k]) => k !== 'staleWrites').map(([k, v]) => `${k}=${v}`).join(' ');
    const non2xx = a ? Object.values(a.gatewayFailures).reduce((x, y) => x + y, 0) : null;
    return [
      r.name, a ? `${a.acked.heartbeat}/${a.acked.override}` : '-', non2xx === null ? '-' : String(non2xx), a ? String(a.ackedLostInLog) : '-',
      a ? `${a.overridesLost.query}/${a.overridesLost.topic}` : '-', a ? `${a.keysLost.query}/${a.keysLost.topic}` : '-',
      a ? String(a.versionRegressions) : '-', a ? String(a.staleWrites) : '-', a ? String(a.deviceDrops) : '-', a ? String(a.stalledPartitions) : '-', a ? String(a.query5xx) : '-',
      figures || '-', r.failures.length ? 'FAIL' : a && (a.staleWrites || a.deviceDrops) ? 'ok*' : 'ok',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<boolean> {
  const started = Date.now();
  const runId = `chaos-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const outDir = join(ROOT, '.infra/chaos');
  const workDir = join(outDir, runId);
  mkdirSync(workDir, { recursive: true });
  const wanted = (process.env['CHAOS_SCENARIOS'] ?? Object.keys(SCENARIOS).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of wanted) if (!SCENARIOS[w]) throw new Error(`unknown scenario ${w}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const timeoutS = Number(process.env['CHAOS_TIMEOUT_S'] ?? 600);
  const infra = chaosInfra(ROOT);
  const results: ScenarioResult[] = [];
  const output = () => ({
    format: 1, at: new Date(started).toISOString(), runId, machine: machine(ROOT), loadAverage: load1(),
    cluster: { nodes: 3, replicationFactor: 3, minInsyncReplicas: 2, brokers: infra.brokers, registry: infra.registryUrl },
    wallSeconds: Math.round((Date.now() - started) / 1000), scenarios: results, logs: workDir,
  });
  let stopping: Promise<void> | null = null;
  const stopAll = () => (stopping ??= stopInfra(infra, ROOT, log));
  const hardStop = setTimeout(() => {
    log(`time is up (${timeoutS} s): stopping`);
    results.push({ name: 'suite', title: 'time limit', figures: {}, failures: [`suite stopped at its time limit of ${timeoutS} s`], notes: [], seconds: 0 });
    writeFileSync(join(outDir, 'results.json'), JSON.stringify(output(), null, 2));
    void stopAll().finally(() => process.exit(2));
  }, timeoutS * 1000);
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

  try {
    await startInfra(infra, ROOT, log);
    const kafka = createKafka({ brokers: infra.brokers, clientId: `${runId}-suite` });
    const admin = kafka.admin();
    await admin.connect();
    const ctx: Ctx = { root: ROOT, infra, kafka, admin, runId, workDir, log };
    try {
      for (const name of wanted) {
        log(`${name}…`);
        const r = await (SCENARIOS[name] as (c: Ctx) => Promise<ScenarioResult>)(ctx);
        results.push(r);
        log(`${name}: ${r.failures.length ? `FAIL: ${r.failures.join('; ')}` : 'ok'} (${r.seconds} s) ${JSON.stringify(r.figures)}`);
        writeFileSync(join(outDir, 'results.json'), JSON.stringify(output(), null, 2));
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  } finally {
    clearTimeout(hardStop);
    await stopAll();
    writeFileSync(join(outDir, 'results.json'), JSON.stringify(output(), null, 2));
  }
  const failed = results.filter((r) => r.failures.length);
  console.log(`\n${table(results)}\n`);
  if (results.some((r) => r.audit && (r.audit.staleWrites || r.audit.deviceDrops))) {
    console.log('  ok*: nothing lost, but after the fault readers were sent snapshots older than ones already published (stale ovr: an older override; dev drops: the live device missing)');
  }
  for (const r of results) for (const n of r.notes) console.log(`  ${r.name}: ${n}`);
  for (const r of results) {
    if (r.audit?.staleWrites) console.log(`  ${r.name}: stale override snapshots (older than one already published): ${r.audit.staleSample.join('; ')}`);
    if (r.audit?.versionRegressions) console.log(`  ${r.name}: version regressions: ${r.audit.regressionSample.join('; ')}`);
    if (r.audit?.deviceDrops) console.log(`  ${r.name}: snapshots without the live device: ${r.audit.deviceDropSample.join('; ')}`);
  }
  for (const r of failed) for (const f of r.failures) console.log(`  FAIL ${r.name}: ${f}`);
  console.log(`\n${results.length - failed.length}/${results.length} scenarios ok in ${Math.round((Date.now() - started) / 1000)} s; results: ${join(outDir, 'results.json')}; logs: ${workDir}`);
  if (!failed.length) rmSync(workDir, { recursive: true, force: true });
  return failed.length === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
