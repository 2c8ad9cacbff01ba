/**
 * Where a task's memory goes, per user, without Kafka: one partition's PresenceTask fed the bench
 * population's backlog (by default 400,000 heartbeats over 100,000 users, 2–4 devices each), flushed
 * and checkpointed per batch, then its parts dropped one at a time with a full GC between: the heap
 * each drop frees is that part's share; then the same users restored from their encoded entries into a
 * fresh task. Prints bytes per user and writes .infra/bench/task-memory.json.
 *
 *   node --expose-gc -r tsx/cjs test/bench/task-memory.ts     (MEMORY_HEARTBEATS, MEMORY_USERS)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG, type PresenceConfig } from '../../services/core';
import { GatewayIndex } from '../../services/processor/gateway-leases';
import { encodeEntry, type Entry } from '../../services/processor/entry-codec';
import { PresenceTask, userStoreKey } from '../../services/processor/task';
import { backlogTask } from './backlog-task';
import { Population } from './population';

const ROOT = resolve(__dirname, '../..');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const USERS = num('MEMORY_USERS', 100_000);
const HEARTBEATS = num('MEMORY_HEARTBEATS', 400_000);
const BATCH = 15_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const before = heap();
const task = backlogTask(new Population(USERS, 'memory'), HEARTBEATS, BATCH, (t, now) => t.checkpoint({ at: now, snapshotEnd: null, roomSnapshotEnd: null }).commit());
const users = task.size;
// The task's private parts, dropped in turn (this tool only: the task is thrown away after).
const parts = task as unknown as {
  gateways: GatewayIndex;
  deadlines: unknown;
  entries: Map<string, { emitted: unknown; state: { sessions: unknown[] } }>;
};
// What a restore would read back: every user's store entry, each key a fresh string as LevelDB hands it over.
const stored = [...parts.entries].map(([key, entry]) => [Buffer.from(userStoreKey(key)).toString(), encodeEntry(entry as unknown as Entry)] as const);
const shares: Record<string, number> = {};
let last = heap();
const total = last - before;
const drop = (name: string, f: () => void): void => {
  f();
  const now = heap();
  shares[name] = Math.round((last - now) / users);
  last = now;
};
drop('gatewayIndex', () => void (parts.gateways = new GatewayIndex(() => [])));
drop('deadlines', () => void (parts.deadlines = null));
drop('emittedViews', () => { for (const e of parts.entries.values()) e.emitted = null; });
drop('sessions', () => { for (const e of parts.entries.values()) e.state = { ...e.state, sessions: [] }; });
drop('statesAndMap', () => parts.entries.clear());
/**
 * The same users restored from their entries into a fresh task (the live one is gone by now): as
 * loadEntry decodes them, or as the processor restores (resetLoad with the restore's instant, the
 * bench's 1 h thresholds: nothing due within PROCESSOR_COMPACT_QUIET_MS, so every user stays compact).
 */
function restore(cfg: PresenceConfig, asProcessor: boolean) {
  const before = heap();
  const started = performance.now();
  const task = new PresenceTask(0, cfg);
  if (asProcessor) task.resetLoad(Date.now());
  for (const [key, value] of stored) task.loadEntry(key, value);
  task.finishLoad();
  task.start(Date.now());
  const ms = Math.round(performance.now() - started);
  return { bytesPerUser: Math.round((heap() - before) / task.size), ms, compact: task.compactCount, size: task.size };
}
const decoded = restore(DEFAULT_CONFIG, false);
const compact = restore({ ...DEFAULT_CONFIG, offlineAfterMs: 3_600_000, sessionRetentionMs: 3_600_000 }, true);
const out = {
  users, heartbeats: HEARTBEATS, bytesPerUser: Math.round(total / users), shares, restoredBytesPerUser: decoded.bytesPerUser, restoreMs: decoded.ms,
  compactUsers: compact.compact, compactBytesPerUser: compact.bytesPerUser, compactRestoreMs: compact.ms,
};
mkdirSync(join(ROOT, '.infra/bench'), { recursive: true });
writeFileSync(join(ROOT, '.infra/bench/task-memory.json'), JSON.stringify(out, null, 2));
console.log(`one task's heap: ${HEARTBEATS} heartbeats over ${users} users: ${out.bytesPerUser} B per user`);
for (const [k, v] of Object.entries(shares)) console.log(`  ${k.padEnd(14)} ${v} B/user`);
console.log(`the same users restored from their store entries: ${decoded.bytesPerUser} B per user (decoded and started in ${decoded.ms} ms)`);
console.log(`restored as the processor does, nothing due for an hour: ${compact.bytesPerUser} B per user, ${compact.compact} of ${compact.size} compact (in ${compact.ms} ms)`);
