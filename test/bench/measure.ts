/** Small measurement helpers: percentiles, a child's CPU time and memory, the machine. */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export interface Distribution {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly min: number | null;
}

/** Nearest-rank percentiles (no interpolation: every figure is a value that was measured). */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null) : null);
  return { count: sorted.length, p50: rank(0.5), p99: rank(0.99), max: sorted.at(-1) ?? null, min: sorted[0] ?? null };
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, in clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of a process so far. */
export function peakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export const MiB = (kib: number) => Math.round(kib / 1024);

export function machine(root: string) {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: sh('uname -r'),
    commit: sh('git rev-parse HEAD'),
    /** Uncommitted changes to tracked files would make the commit an approximation. */
    dirty: sh('git status --porcelain --untracked-files=no') !== '',
  };
}

/** The 1-minute load average: others share this machine, so every phase records how busy it was. */
export const load1 = () => Math.round((loadavg()[0] ?? 0) * 100) / 100;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples `read` every `everyMs` until `stop` is called; stop resolves with the samples, in order. */
export function sampleEvery(read: () => Promise<number>, everyMs: number): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let sampling = true;
  const loop = (async () => {
    while (sampling) {
      samples.push(await read().catch(() => NaN));
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      sampling = false;
      await loop;
      return samples;
    },
  };
}
