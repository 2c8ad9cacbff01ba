/**
 * The processor's in-process cost per event, without Kafka: one partition's PresenceTask fed the
 * bench population's backlog (by default 333,000 heartbeats over 83,000 users, batches of 15,000),
 * timing hygiene, apply, flush (decisions + Avro encoding of the snapshots and changes it returns),
 * commit and checkpoint (entry encoding, every `MICRO_CHECKPOINT_EVERY` batches). Prints µs per event
 * and bytes per changelog entry, and writes .infra/bench/task-micro.json.
 *
 *   npx tsx test/bench/task-micro.ts     (MICRO_HEARTBEATS, MICRO_USERS, MICRO_BATCH, MICRO_ROUNDS)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG, type UserEvent } from '../../services/core';
import { avroType } from '../../services/contract/schemas';
import { heartbeatEvent } from '../../services/processor/input';
import type { PresenceHeartbeat } from '../../services/contract/avro-types';
import { PresenceTask } from '../../services/processor/task';
import { Population } from './population';

const ROOT = resolve(__dirname, '../..');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const HEARTBEATS = num('MICRO_HEARTBEATS', 333_000);
const USERS = num('MICRO_USERS', 83_000);
const BATCH = num('MICRO_BATCH', 15_000);
const ROUNDS = num('MICRO_ROUNDS', 3);
const CHECKPOINT_EVERY = num('MICRO_CHECKPOINT_EVERY', 5);
const STEADY_BEATS = num('MICRO_STEADY_BEATS', 4);

const snapshotType = avroType('presence.v1.PresenceSnapshot');
const changeType = avroType('presence.v1.PresenceChange');

/** One batch of wire heartbeats and the instant the processor handles it. */
interface WireBatch { readonly now: number; readonly wire: readonly PresenceHeartbeat[] }

/** Feeds `batches` through one task, timing each stage; figures are per heartbeat. */
function measure(task: PresenceTask, batches: Iterable<WireBatch>): Record<string, number> {
  const t = { hygiene: 0, apply: 0, flush: 0, encode: 0, commit: 0, checkpoint: 0 };
  let heartbeats = 0;
  let snapshots = 0;
  let changes = 0;
  let entries = 0;
  let entryBytes = 0;
  let batchNo = 0;
  let last = 0;
  const checkpoint = (now: number) => {
    const t0 = performance.now();
    const cp = task.checkpoint({ at: now, snapshotEnd: null, roomSnapshotEnd: null });
    cp.commit();
    t.checkpoint += performance.now() - t0;
    entries += cp.changelog.length;
    for (const c of cp.changelog) entryBytes += c.value?.length ?? 0;
  };
  for (const { now, wire } of batches) {
    heartbeats += wire.length;
    let t0 = performance.now();
    const events: UserEvent[] = [];
    for (const w of wire) {
      const checked = heartbeatEvent(w, w.userId, now, DEFAULT_CONFIG);
      if (checked.ok) events.push(checked.event);
    }
    let t1 = performance.now();
    t.hygiene += t1 - t0;
    for (const e of events) task.applyUser(e, now);
    t0 = performance.now();
    t.apply += t0 - t1;
    const flush = task.flush(now);
    t1 = performance.now();
    t.flush += t1 - t0;
    for (const s of flush.snapshots) snapshotType.toBuffer(s.value);
    for (const c of flush.changes) changeType.toBuffer(c.value);
    t0 = performance.now();
    t.encode += t0 - t1;
    flush.commit();
    t1 = performance.now();
    t.commit += t1 - t0;
    snapshots += flush.snapshots.length;
    changes += flush.changes.length;
    // Before the checkpointed write path (commit 48fa558 and earlier) the flush itself returned the
    // encoded changelog entries: count them the same way, so the figure compares across versions.
    const legacy = (flush as { changelog?: Array<{ value: string | null }> }).changelog;
    if (legacy) {
      entries += legacy.length;
      for (const c of legacy) entryBytes += c.value ? Buffer.byteLength(c.value) : 0;
    } else if (++batchNo % CHECKPOINT_EVERY === 0) {
      checkpoint(now);
    }
    last = now;
  }
  if (batchNo % CHECKPOINT_EVERY !== 0) checkpoint(last); // the tail, as a stopping task does
  const per = (ms: number) => Math.round((ms * 1000 * 100) / heartbeats) / 100;
  const ratio = (n: number) => Math.round((n / heartbeats) * 1000) / 1000;
  return {
    hygieneUs: per(t.hygiene), applyUs: per(t.apply), flushUs: per(t.flush), encodeOutputsUs: per(t.encode), commitUs: per(t.commit),
    checkpointUs: per(t.checkpoint), applyPlusFlushUs: per(t.apply + t.flush + t.commit + t.checkpoint),
    totalUs: per(t.hygiene + t.apply + t.flush + t.encode + t.commit + t.checkpoint),
    snapshotsPerEvent: ratio(snapshots), changesPerEvent: ratio(changes), changelogPerEvent: ratio(entries),
    bytesPerEntry: entries ? Math.round(entryBytes / entries) : 0,
    heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
}

/** The bench's backlog: users cycle, one device per user per round (most heartbeats open a session). */
function* backlog(population: Population, start: number): Generator<WireBatch> {
  for (let base = 0, batchNo = 0; base < HEARTBEATS; base += BATCH, batchNo++) {
    const wire = [];
    for (let i = base; i < Math.min(HEARTBEATS, base + BATCH); i++) wire.push(population.backlogHeartbeat(i, start + batchNo * 100));
    yield { now: start + batchNo * 100, wire };
  }
}

/** Live traffic: every session beats once per heartbeat interval, `beats` times (the soft heartbeats). */
function* steady(population: Population, start: number, beats: number): Generator<WireBatch> {
  const sessions = population.sessions();
  const interval = DEFAULT_CONFIG.heartbeatIntervalMs;
  for (let beat = 0; beat < beats; beat++) {
    for (let base = 0; base < sessions.length; base += BATCH) {
      const now = start + beat * interval + Math.floor((base / sessions.length) * interval);
      const wire = sessions.slice(base, base + BATCH).map(([u, d]) => population.heartbeatOf(u, d, beat, now, beat * interval));
      yield { now, wire };
    }
  }
}

function round(): Record<string, number> {
  const backlogFigures = measure(new PresenceTask(0, DEFAULT_CONFIG), backlog(new Population(USERS, 'micro'), Date.now()));
  // Steady state: the same users online, their sessions open already (the first beat, untimed).
  const population = new Population(USERS, 'micro-steady');
  const task = new PresenceTask(0, DEFAULT_CONFIG);
  const start = Date.now();
  measure(task, steady(population, start, 1));
  const s = measure(task, steady(population, start + DEFAULT_CONFIG.heartbeatIntervalMs, STEADY_BEATS));
  return {
    ...backlogFigures,
    steadyApplyPlusFlushUs: s.applyPlusFlushUs as number, steadyTotalUs: s.totalUs as number,
    steadyOutputsPerHeartbeat: Math.round(((s.snapshotsPerEvent as number) + (s.changesPerEvent as number) + (s.changelogPerEvent as number)) * 1000) / 1000,
  };
}

const rounds: Array<Record<string, number>> = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(round());
const best = Object.fromEntries(Object.keys(rounds[0] as object).map((k) => [k, Math.min(...rounds.map((x) => x[k] as number))]));
const out = { heartbeats: HEARTBEATS, users: USERS, batch: BATCH, checkpointEvery: CHECKPOINT_EVERY, rounds, best };
mkdirSync(join(ROOT, '.infra/bench'), { recursive: true });
writeFileSync(join(ROOT, '.infra/bench/task-micro.json'), JSON.stringify(out, null, 2));
console.log(`in-process, one task: ${HEARTBEATS} heartbeats over ${USERS} users, batches of ${BATCH}, checkpoint every ${CHECKPOINT_EVERY} batches (best of ${ROUNDS})`);
for (const [k, v] of Object.entries(best)) console.log(`  ${k.padEnd(20)} ${v}`);
