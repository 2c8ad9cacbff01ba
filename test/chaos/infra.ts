/**
 * The fault suite's own cluster: three KRaft nodes (RF 3, min.insync.replicas=2) and a durable
 * registry, started by infra/up.sh with their own INFRA_DIR and ports, so nothing the suite kills
 * is shared with anyone. The downloaded jars are linked from the repository's .infra (or
 * CHAOS_JARS_FROM) when they are there, so a run fetches nothing twice.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ChaosInfra {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly brokers: string[];
  readonly registryUrl: string;
  /** node id (1..3) → port */
  readonly nodePort: (node: number) => number;
  /** True when the cluster was already running (then the suite leaves it running). */
  reused: boolean;
}

export function chaosInfra(root: string): ChaosInfra {
  const dir = process.env['CHAOS_INFRA_DIR'] ?? join(root, '.infra/chaos/cluster');
  const kafkaPort = Number(process.env['CHAOS_KAFKA_PORT'] ?? 29192);
  const registryPort = Number(process.env['CHAOS_REGISTRY_PORT'] ?? 28181);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    INFRA_DIR: dir, KAFKA_NODES: '3', KAFKA_PORT: String(kafkaPort), KAFKA_CONTROLLER_PORT: String(kafkaPort + 1),
    REGISTRY_PORT: String(registryPort), REGISTRY_MANAGEMENT_PORT: String(Number(process.env['CHAOS_REGISTRY_MANAGEMENT_PORT'] ?? 29101)),
    REGISTRY_STORAGE: 'h2',
  };
  delete env['REGISTRY_INSTANCE_DIR'];
  const nodePort = (node: number) => kafkaPort + 2 * (node - 1);
  return {
    dir, env, nodePort, reused: false,
    brokers: [1, 2, 3].map((n) => `127.0.0.1:${nodePort(n)}`),
    registryUrl: `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
  };
}

/** Links <dir>/kafka/libs and <dir>/registry/app to already downloaded copies, if any. */
function linkJars(root: string, dir: string): void {
  const from = process.env['CHAOS_JARS_FROM'] ?? join(root, '.infra');
  for (const [sub, marker] of [['kafka/libs', '.complete-'], ['registry/app', '.complete-']] as const) {
    const target = join(dir, sub);
    const source = join(from, sub);
    if (existsSync(target) || !existsSync(source)) continue;
    if (!readdirSync(source, { withFileTypes: true }).some((e) => e.name.startsWith(marker))) continue;
    mkdirSync(join(target, '..'), { recursive: true });
    symlinkSync(source, target);
  }
}

const sh = (infra: ChaosInfra, root: string, script: string, args: string[] = [], timeoutMs = 240_000) =>
  run('bash', [join(root, 'infra', script), ...args], { env: infra.env, cwd: root, timeout: timeoutMs, maxBuffer: 16 << 20 });

export async function startInfra(infra: ChaosInfra, root: string, log: (s: string) => void): Promise<void> {
  infra.reused = existsSync(join(infra.dir, 'started.env'));
  if (!infra.reused) {
    // A fresh cluster every run: no state of an earlier run (topics, groups, leaders) bleeds in.
    rmSync(join(infra.dir, 'kafka/cluster-3'), { recursive: true, force: true });
    rmSync(join(infra.dir, 'registry/data'), { recursive: true, force: true });
  }
  mkdirSync(infra.dir, { recursive: true });
  linkJars(root, infra.dir);
  log(`${infra.reused ? 'reusing' : 'starting'} 3-node cluster ${infra.brokers.join(',')} and registry ${infra.registryUrl} (INFRA_DIR ${infra.dir})`);
  await sh(infra, root, 'up.sh');
}

export async function stopInfra(infra: ChaosInfra, root: string, log: (s: string) => void): Promise<void> {
  if (infra.reused && process.env['CHAOS_STOP_REUSED'] !== '1') return log('cluster was running before the suite: left running');
  log('stopping the cluster and registry');
  await sh(infra, root, 'down.sh', [], 120_000).catch((e: unknown) => log(`down.sh failed: ${String(e)}`));
}

export function nodePid(infra: ChaosInfra, node: number): number {
  return Number(readFileSync(join(infra.dir, `kafka/cluster-3/node-${node}/kafka.pid`), 'utf8').trim());
}

export const nodeLog = (infra: ChaosInfra, node: number) => join(infra.dir, `kafka/cluster-3/node-${node}/kafka.log`);

export function killNode(infra: ChaosInfra, node: number): void {
  process.kill(nodePid(infra, node), 'SIGKILL');
}

/** infra/up.sh starts the node(s) not running and waits until every node and the registry answer. */
export async function restartMissingNodes(infra: ChaosInfra, root: string): Promise<void> {
  await sh(infra, root, 'up.sh');
}

export async function restartRegistry(infra: ChaosInfra, root: string): Promise<void> {
  await sh(infra, root, 'registry.sh', ['restart']);
}
