/**
 * One partition's PresenceTask fed the bench population's backlog without Kafka, as the processor
 * would (checked heartbeats, a flush per batch, 100 ms apart): the in-process benchmarks' common
 * starting point (task-memory, restore-micro).
 */
import { DEFAULT_CONFIG } from '../../services/core';
import { heartbeatEvent } from '../../services/processor/input';
import { PresenceTask } from '../../services/processor/task';
import type { Population } from './population';

/** `afterBatch` runs after each batch's flush (task-memory checkpoints there). */
export function backlogTask(population: Population, heartbeats: number, batch: number, afterBatch: (task: PresenceTask, now: number) => void = () => {}): PresenceTask {
  const task = new PresenceTask(0, DEFAULT_CONFIG);
  const start = Date.now();
  for (let base = 0, batchNo = 0; base < heartbeats; base += batch, batchNo++) {
    const now = start + batchNo * 100;
    for (let i = base; i < Math.min(heartbeats, base + batch); i++) {
      const wire = population.backlogHeartbeat(i, now);
      const checked = heartbeatEvent(wire, wire.userId, now, DEFAULT_CONFIG);
      if (checked.ok) task.applyUser(checked.event, now);
    }
    task.flush(now).commit();
    afterBatch(task, now);
  }
  return task;
}
