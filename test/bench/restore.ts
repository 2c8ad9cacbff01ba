/**
 * Restore timing: the processor restarted with the same group (so it owns the same partitions and
 * has no input left to read), either with its data dir kept (local store plus the changelog delta
 * since the stored position) or with it deleted (the whole changelog). The processor logs
 * 'assignment' when the group hands it partitions and 'partition restored' per partition; the
 * span from the first assignment to the last partition restored is the restore itself, without
 * node's start-up.
 */
import { MiB, cpuSeconds, load1 } from './measure';
import type { BenchConfig } from './config';
import { processorMetrics } from './throughput';
import { startProcessorChild, type Guarantee, type Thresholds } from './services';

export interface RestoreResult {
  readonly source: 'local store + changelog delta' | 'changelog alone';
  readonly partitions: number;
  /** Keys (users) loaded into memory. */
  readonly keys: number;
  /** Changelog records replayed. */
  readonly changelogRecords: number;
  /** Assignment to the last partition restored (from the processor's log timestamps). */
  readonly restoreSeconds: number;
  /** Spawn to /readyz 200: what an operator waits for. */
  readonly readySeconds: number;
  readonly keysPerSecond: number;
  readonly cpuSeconds: number;
  /** RSS once restored: the state alone, without the garbage of processing it. */
  readonly rssMiB: number;
  readonly rssKiB: number;
  readonly heapUsedBytes: number | null;
  readonly heapTotalBytes: number | null;
  readonly externalBytes: number | null;
  /** Users left compact (encoded) by the restore: nothing due within PROCESSOR_COMPACT_QUIET_MS. */
  readonly compactKeys: number | null;
  readonly loadAverage: number;
}

export async function restoreRun(cfg: BenchConfig, o: {
  source: RestoreResult['source']; prefix: string; groupId: string; guarantee: Guarantee; dataDir: string; thresholds: Thresholds;
}): Promise<RestoreResult> {
  const p = await startProcessorChild(cfg, { name: `restore-${o.source === 'changelog alone' ? 'changelog' : 'local'}`, ...o });
  try {
    const timeout = cfg.runTimeoutMs;
    // With stream threads each thread logs its own assignment (and a thread that joined alone may
    // restore partitions it then hands on): from the first assignment to the last restore of each
    // partition's final owner, once the processor is ready.
    const assignment = await p.child.waitLog((l) => l.msg === 'assignment', 60_000, 'assignment');
    await p.child.waitHttpOk(`${p.url}/readyz`, timeout);
    const readySeconds = (Date.now() - p.child.spawnedAt) / 1000;
    const lastRestoreOf = new Map<number, (typeof p.child.lines)[number]>();
    for (const l of p.child.lines) if (l.msg === 'partition restored') lastRestoreOf.set(Number(l['partition']), l);
    const partitions = [...lastRestoreOf.keys()];
    if (partitions.length !== cfg.partitions) throw new Error(`restore: ready with ${partitions.length} of ${cfg.partitions} partitions restored; see ${p.child.logFile}`);
    const restored = [...lastRestoreOf.values()];
    const last = Math.max(...restored.map((l) => l.time ?? 0));
    const restoreSeconds = (last - (assignment.time ?? last)) / 1000;
    const keys = restored.reduce((n, l) => n + Number(l['keys'] ?? 0), 0);
    // readPartitionRanges logs 'restored' once per range read: the changelog's, then the snapshot topics'.
    const changelogRecords = p.child.lines
      .filter((l) => l.msg === 'restored' && ((l['topics'] as string[] | undefined) ?? []).some((t) => t.endsWith('presence.processor-store-changelog')))
      .reduce((n, l) => n + Number(l['records'] ?? 0), 0);
    const metrics = await processorMetrics(p.url);
    const rss = p.child.rssKiB();
    return {
      source: o.source, partitions: partitions.length, keys, changelogRecords, restoreSeconds, readySeconds,
      keysPerSecond: Math.round(keys / Math.max(0.001, restoreSeconds)),
      cpuSeconds: cpuSeconds(p.child.pid), rssMiB: MiB(rss), rssKiB: rss, heapUsedBytes: metrics.heapUsedBytes, heapTotalBytes: metrics.heapTotalBytes, externalBytes: metrics.externalBytes, compactKeys: metrics.compactKeys, loadAverage: load1(),
    };
  } finally {
    await p.child.stop();
  }
}
