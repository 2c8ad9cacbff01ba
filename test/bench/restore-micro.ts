/**
 * A task's restore from its local store, without Kafka: one partition's users (by default the
 * bench's 83,000 per partition, from 333,000 backlog heartbeats) written to a LevelDB store, then
 * read back by stage: the store scan alone, scan + entry decoding, and the whole local restore
 * (scan, load into a fresh task, start: timers re-armed). Prints µs per entry and writes
 * .infra/bench/restore-micro.json.
 *
 *   node -r tsx/cjs test/bench/restore-micro.ts     (RESTORE_USERS, RESTORE_HEARTBEATS, RESTORE_ROUNDS)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG } from '../../services/core';
import { CHECKPOINT_KEY, decodeEntry } from '../../services/processor/entry-codec';
import { LevelPartitionStore } from '../../services/processor/store';
import { PresenceTask } from '../../services/processor/task';
import { backlogTask } from './backlog-task';
import { Population } from './population';

const ROOT = resolve(__dirname, '../..');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const USERS = num('RESTORE_USERS', 83_000);
const HEARTBEATS = num('RESTORE_HEARTBEATS', 333_000);
const ROUNDS = num('RESTORE_ROUNDS', 3);
const BATCH = 15_000;

async function main(): Promise<void> {
  const task = backlogTask(new Population(USERS, 'restore'), HEARTBEATS, BATCH);
  const cp = task.checkpoint({ at: Date.now(), snapshotEnd: null, roomSnapshotEnd: null });
  const dir = mkdtempSync(join(tmpdir(), 'restore-micro-'));
  try {
    const store = await LevelPartitionStore.open(dir);
    const changes = cp.changelog.map((r) => [r.key, r.value] as const);
    for (let i = 0; i < changes.length; i += 10_000) await store.write(0, changes.slice(i, i + 10_000), String(i));
    const entries = changes.length - 1;
    const timed = async (run: () => Promise<void>): Promise<number> => {
      let best = Infinity;
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        await run();
        best = Math.min(best, performance.now() - t0);
      }
      return Math.round((best * 1000 * 100) / entries) / 100;
    };
    const scanUs = await timed(async () => void (await store.scan(0, () => {})));
    const decodeUs = await timed(async () => void (await store.scan(0, (k, v) => void (k === CHECKPOINT_KEY || decodeEntry(v)))));
    const loadUs = await timed(async () => {
      const fresh = new PresenceTask(0, DEFAULT_CONFIG);
      await store.scan(0, (k, v) => fresh.loadEntry(k, v));
      fresh.finishLoad();
    });
    let startMs = Infinity;
    const restoreUs = await timed(async () => {
      const fresh = new PresenceTask(0, DEFAULT_CONFIG);
      await store.scan(0, (k, v) => fresh.loadEntry(k, v));
      fresh.finishLoad();
      const t0 = performance.now();
      fresh.start(Date.now());
      startMs = Math.min(startMs, performance.now() - t0);
    });
    await store.close();
    const out = { entries, scanUs, scanPlusDecodeUs: decodeUs, scanPlusLoadUs: loadUs, startUs: Math.round((startMs * 1000 * 100) / entries) / 100, localRestoreUs: restoreUs, localRestoreMsFor500kUsers: Math.round((restoreUs * 500_000) / 1000) };
    console.log(`local restore, one task: ${entries} entries (best of ${ROUNDS}), µs per entry`);
    for (const [k, v] of Object.entries(out)) console.log(`  ${k.padEnd(28)} ${v}`);
    mkdirSync(join(ROOT, '.infra/bench'), { recursive: true });
    writeFileSync(join(ROOT, '.infra/bench/restore-micro.json'), JSON.stringify({ at: new Date().toISOString(), ...out }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
