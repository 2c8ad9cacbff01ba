/**
 * One setTimeout for the earliest of many deadlines, re-armed only when that earliest instant
 * changes (the SSE streams schedule thousands of deadlines; the event loop sees one timer).
 */
export class SingleTimer {
  private timer: NodeJS.Timeout | null = null;
  private at: number | null = null;

  constructor(private readonly clock: () => number, private readonly fire: () => void) {}

  /** Fires at `next` (null: never); unchanged `next` keeps the timer as it is. Unref'd. */
  arm(next: number | null): void {
    if (next === this.at) return;
    this.clear();
    this.at = next;
    if (next === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.at = null;
      this.fire();
    }, Math.max(0, next - this.clock()));
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.at = null;
  }
}
