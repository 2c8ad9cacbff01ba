/**
 * Small encoded records (snapshots, changes, store entries: 100-400 bytes each) carved out of
 * shared slabs instead of one Buffer each. Node's own pool is 8 KiB, so a backlog's half million
 * snapshots and entries made ~30,000 ArrayBuffers, each created, tracked and swept by the GC
 * (`createPool` under the snapshot and entry encoders: 805 ms of a 39 s processor profile).
 *
 * A slice keeps its whole slab alive: fit for records that live until they are sent and written,
 * not for anything kept for long (a slab of 256 KiB is freed once every record carved from it is).
 *
 * 256 KiB is above the processor's mmap threshold (malloc-env.ts), so each slab is a fresh mapping
 * whose pages fault in as records are copied in. Slabs of 64 KiB avoid that, but came from malloc's
 * arenas among the users' long-lived bytes: a catch-up settled at 1,170 B per user resident
 * instead of 755-909 (make bench throughput, 2026-12-07), for ~1 CPU-s/M less.
 */
export class BufferSlab {
  private slab: Buffer;
  private used = 0;

  constructor(private readonly slabBytes = 256 * 1024) {
    this.slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  /** A copy of `source[start, end)`; a record larger than an eighth of a slab gets a buffer of its own. */
  copyOf(source: Buffer, start = 0, end = source.length): Buffer {
    const length = end - start;
    if (length > this.slabBytes >>> 3) return Buffer.from(source.subarray(start, end));
    if (this.used + length > this.slabBytes) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + length);
    source.copy(out, 0, start, end);
    // 8-byte aligned, so no two records share a word (cheaper copies into and out of them).
    this.used += (length + 7) & ~7;
    return out;
  }
}
