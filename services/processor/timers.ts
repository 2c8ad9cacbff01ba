/**
 * The timer loop: each task keeps one deadline per key in a heap, so a tick asks each task only for
 * its earliest one and costs O(tasks + due keys). A tick also retries a failed flush and takes the
 * task's checkpoint when the commit interval has passed.
 */
import type { LeaseExpiry, ProcessorJournalEntry } from '../contract/avro-types';
import type { GatewayLeases } from './gateway-leases';
import { tickStep } from './journal';
import type { ProcessorMetrics } from './metrics';
import type { OutRecord } from './record-collector';
import { withLock, type TaskManager, type TaskSlot } from './task-manager';

export interface TimerOptions {
  readonly tasks: TaskManager;
  readonly resolutionMs: number;
  readonly commitIntervalMs: number;
  /** A catching-up task flushes and checkpoints only this often (see TaskSlot.catchingUp). */
  readonly catchUpIntervalMs: number;
  readonly clock: () => number;
  readonly metrics: ProcessorMetrics;
  readonly mayWrite: (slot: TaskSlot) => boolean;
  readonly writeFailed: (slot: TaskSlot, e: unknown, what: string) => Promise<void>;
  /**
   * How often each task writes its watermark (null: never, e.g. no watermark topic). A watermark W
   * is written only after every timer due at W fired and its snapshots were acknowledged.
   */
  readonly watermarkIntervalMs: number | null;
  readonly watermarkRecord: (partition: number, watermark: number, now: number) => OutRecord;
  /** Gateway leases (gateway-leases.ts): sessions of gateways whose lease ran out end before the flush. Null: none. */
  readonly gatewayLeases?: Pick<GatewayLeases, 'due' | 'apply'> | null;
  /** The journal record of a tick that flushed (journal.ts), sent with its outputs; null: no journal. */
  readonly journalRecord?: ((entry: ProcessorJournalEntry) => OutRecord) | null;
}

export function startTimers(o: TimerOptions): { stop(): Promise<void> } {
  let running = true;
  let loop: Promise<void> | null = null;

  const lastWatermark = new WeakMap<TaskSlot, number>();

  async function tickTask(slot: TaskSlot): Promise<void> {
    const { task, writer } = slot;
    const now = o.clock();
    if (!slot.isRestored || !o.mayWrite(slot) || now < slot.retryAt) return;
    const interval = slot.catchingUp ? o.catchUpIntervalMs : o.commitIntervalMs;
    const checkpointDue = now - writer.lastCheckpointAt >= interval && (writer.hasUncheckpointed || task.pending > 0);
    const next = task.deadlines.next();
    // Catching up, timers wait for the checkpoint like the batches' snapshots do.
    const due = next !== null && next <= now && (!slot.catchingUp || checkpointDue);
    const watermarkDue = o.watermarkIntervalMs !== null && now - (lastWatermark.get(slot) ?? 0) >= o.watermarkIntervalMs;
    const leasesDue = !slot.catchingUp && (o.gatewayLeases?.due(task, now) ?? false); // gateway leases
    if (!due && !leasesDue && (task.pending === 0 || slot.catchingUp) && !writer.hasPendingOutputs && !checkpointDue && !watermarkDue) return;
    const timer = o.metrics.batchSeconds.startTimer({ source: 'timer' });
    await withLock(slot, async () => {
      if (!o.mayWrite(slot)) return;
      try {
        const at = o.clock();
        if (slot.catchingUp && !checkpointDue) {
          if (watermarkDue) lastWatermark.set(slot, at); // no watermark while outputs are deferred
          return;
        }
        const expiries: LeaseExpiry[] = [];
        // gateway leases: ends sessions of gateways gone, flushed below
        o.gatewayLeases?.apply(task, at, (gatewayId, deadUpTo) => expiries.push({ gatewayId, deadUpTo }));
        task.fireDue(at);
        const flushes = task.pending > 0;
        // The journal entry first, the watermark last (it must not precede the snapshots it vouches for).
        const extra = [
          ...slot.journalBacklog.splice(0), // steps of deferring batches, before this tick's
          ...(flushes && o.journalRecord ? [o.journalRecord(tickStep(task.partition, at, expiries))] : []),
          ...(watermarkDue ? [o.watermarkRecord(task.partition, at, o.clock())] : []),
        ];
        if (flushes || writer.hasPendingOutputs || extra.length) await writer.emit(flushes ? at : null, [], extra, null);
        if (watermarkDue) lastWatermark.set(slot, at);
        if (o.clock() - writer.lastCheckpointAt >= interval && writer.hasUncheckpointed && o.mayWrite(slot)) await writer.checkpoint();
        slot.failures = 0;
      } catch (e) {
        await o.writeFailed(slot, e, 'timer flush');
      }
    });
    timer();
  }

  const ticker = setInterval(() => {
    if (loop || !running) return;
    loop = (async () => {
      for (const slot of [...o.tasks.slots.values()]) await tickTask(slot);
      // Every tick, not per batch: a checkpoint (here or after a batch) packs users (compactQuietMs).
      o.metrics.compactKeys.set(o.tasks.compactKeys());
    })().finally(() => (loop = null));
  }, o.resolutionMs);

  return {
    async stop() {
      running = false;
      clearInterval(ticker);
      await loop;
    },
  };
}
