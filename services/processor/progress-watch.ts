/**
 * Whether each task makes progress while input waits for it. A task that stops (a restore that
 * never ends, a fetch that kafkajs no longer schedules) says nothing by itself; this check makes
 * `/healthz` and `/readyz` answer 503 when a partition has had records waiting past its position
 * for longer than `stallAfterMs` without a batch, so a supervisor restarts the member.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../platform/log';

export interface ProgressWatchOptions {
  readonly kafka: Kafka;
  readonly inputTopics: readonly string[];
  readonly groupId: string;
  readonly stallAfterMs: number;
  readonly clock: () => number;
  readonly log: Logger;
  /** The partitions this member owns now. */
  readonly assigned: () => readonly number[];
}

/** A partition's last known position per input topic and when it last moved. */
interface Progress {
  readonly positions: Map<string, bigint>;
  lastMovedAt: number;
}

export class ProgressWatch {
  private readonly progress = new Map<number, Progress>();
  private stalledNow: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private admin: Admin | null = null;
  private checking = false;
  /** The check in flight, so stop() can wait for it instead of leaving it to use a closed admin. */
  private inFlight: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: ProgressWatchOptions) {}

  /** A batch of `topic` on `partition` ended before `next`, or a restore completed (no topic). */
  moved(partition: number, topic?: string, next?: string): void {
    const p = this.progress.get(partition) ?? { positions: new Map<string, bigint>(), lastMovedAt: this.o.clock() };
    if (topic !== undefined && next !== undefined) p.positions.set(topic, BigInt(next));
    p.lastMovedAt = this.o.clock();
    this.progress.set(partition, p);
  }

  /** Partitions with input waiting and no progress for longer than stallAfterMs (as of the last check). */
  stalled(): readonly number[] {
    return this.stalledNow;
  }

  start(): void {
    const every = Math.max(100, Math.min(5_000, Math.floor(this.o.stallAfterMs / 2)));
    this.timer = setInterval(() => {
      this.inFlight = this.check();
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }

  /** One check: the ends of the input partitions against each owned partition's position. */
  async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      if (!this.admin) {
        this.admin = this.o.kafka.admin();
        await this.admin.connect();
      }
      const admin = this.admin;
      const assigned = new Set(this.o.assigned());
      for (const p of this.progress.keys()) if (!assigned.has(p)) this.progress.delete(p);
      const committed = await admin.fetchOffsets({ groupId: this.o.groupId, topics: [...this.o.inputTopics] });
      const now = this.o.clock();
      const stalled: number[] = [];
      for (const topic of this.o.inputTopics) {
        for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
          if (!assigned.has(partition)) continue;
          const p = this.progress.get(partition) ?? { positions: new Map<string, bigint>(), lastMovedAt: now };
          this.progress.set(partition, p);
          const commit = committed.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition)?.offset ?? '-1';
          const position = p.positions.get(topic) ?? (commit === '-1' ? 0n : BigInt(commit));
          if (BigInt(high) > position && now - p.lastMovedAt > this.o.stallAfterMs && !stalled.includes(partition)) stalled.push(partition);
        }
      }
      const newly = stalled.filter((p) => !this.stalledNow.includes(p));
      if (newly.length) this.o.log.error({ partitions: newly, stallAfterMs: this.o.stallAfterMs }, 'input is waiting but these partitions made no progress: reporting unhealthy');
      this.stalledNow = stalled.sort((a, b) => a - b);
    } catch (e) {
      this.o.log.warn({ err: String(e) }, 'progress check failed; retried at the next interval');
    } finally {
      this.checking = false;
    }
  }
}
