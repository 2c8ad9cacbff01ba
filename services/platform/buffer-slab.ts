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
 * whose pages fault in as records are written. Slabs of 64 KiB avoid that, but came from malloc's
 * arenas among the users' long-lived bytes: a catch-up settled at 1,170 B per user resident
 * instead of 755-909 (make bench throughput, 2026-12-07), for ~1 CPU-s/M less.
 */

/** What writes a record in place: avsc's Type.encode (the new position, or ≤ 0 when `buf` has no room from `pos`). */
export interface InPlaceEncoder {
  encode(value: unknown, buf: Buffer, pos: number): number;
}

export class BufferSlab {
  private slab: Buffer;
  private used = 0;
  /** For a record that does not fit a fresh slab: encoded here, then copied into a buffer of its own. */
  private oversize: Buffer | null = null;

  constructor(private readonly slabBytes = 256 * 1024) {
    this.slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  /**
   * `header` then `type.encode(value)`, written straight into the slab: no scratch buffer and no
   * copy out of it. Buffer#copy cost 0.3 s of each stream thread's 15.8 busy seconds in a catch-up
   * profile (entries, snapshots and changes, a call each). A record that does not fit what is left
   * moves to a fresh slab (the attempt's bytes are left behind, unused); one that does not fit a
   * fresh slab gets a buffer of its own. What `type.encode` throws propagates; the slab is intact.
   */
  encode(header: Buffer, type: InPlaceEncoder, value: unknown): Buffer {
    for (;;) {
      const start = this.used;
      const body = start + header.length;
      if (body < this.slabBytes) {
        for (let i = 0; i < header.length; i++) this.slab[start + i] = header[i] as number;
        const end = type.encode(value, this.slab, body);
        if (end > 0) {
          this.used = start + align(end - start);
          return this.slab.subarray(start, end);
        }
      }
      if (start === 0) return this.encodeOversize(header, type, value);
      this.fresh();
    }
  }

  private encodeOversize(header: Buffer, type: InPlaceEncoder, value: unknown): Buffer {
    let buf = this.oversize ?? Buffer.allocUnsafe(this.slabBytes * 2);
    for (;;) {
      header.copy(buf, 0);
      const end = type.encode(value, buf, header.length);
      if (end > 0) {
        this.oversize = buf;
        return Buffer.from(buf.subarray(0, end));
      }
      buf = Buffer.allocUnsafe(Math.max(buf.length * 2, buf.length - end));
    }
  }

  private fresh(): void {
    this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
    this.used = 0;
  }
}

/** 8-byte aligned, so no two records share a word (cheaper copies into and out of them). */
function align(length: number): number {
  return (length + 7) & ~7;
}
