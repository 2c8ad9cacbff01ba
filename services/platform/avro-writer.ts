/**
 * Avro binary written by hand, for a hot record whose layout is fixed in code (entry-writer.ts):
 * the same bytes avsc writes (zigzag varint longs, length-prefixed UTF-8, one-byte union branch and
 * small enum indices, blocked arrays), without avsc's per-field dispatch. Writes past the buffer's
 * end are dropped (a typed array ignores them) and `pos` still advances, so the caller sees
 * `pos > buf.length` and returns a negative end, as avsc's Type#encode does.
 *
 * Not used for the snapshots: a writer for PresenceSnapshot measured 1.08-1.14 µs per 3-device
 * snapshot against avsc's 1.20-1.23 once warm, too little for a second copy of a public schema.
 */
/** A value the writer refuses (as avsc would): the field and why. */
export class AvroEncodeError extends Error {}

export class AvroWriter {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  long(n: unknown, field: string): void {
    // avsc's isSafeLong bounds (one inside Number's safe integers on each side).
    if (typeof n !== 'number' || n % 1 !== 0 || !(n >= -9007199254740990 && n <= 9007199254740990)) throw new AvroEncodeError(`${field}: not a long (${String(n)})`);
    this.varlong(n);
  }

  /** Avro's zigzag varint, as avsc's Tap#writeLong writes it. */
  varlong(n: number): void {
    const buf = this.buf;
    if (n >= -1073741824 && n < 1073741824) {
      let m = n >= 0 ? n << 1 : (~n << 1) | 1;
      while (m > 0x7f) {
        buf[this.pos++] = (m & 0x7f) | 0x80;
        m >>= 7;
      }
      buf[this.pos++] = m;
      return;
    }
    let f = n >= 0 ? n * 2 : -n * 2 - 1;
    while (f >= 128) {
      buf[this.pos++] = (f & 0x7f) | 0x80;
      f /= 128;
    }
    buf[this.pos++] = f & 0x7f;
  }

  /**
   * A ["null", T] union's branch: 0 for null, else 1 (zigzag-encoded); true when a value follows.
   * Only null is null: a field defaulting to null maps undefined itself (`?? null`), as avsc does.
   */
  present<T>(v: T | null): v is T {
    const some = v !== null;
    this.buf[this.pos++] = some ? 2 : 0;
    return some;
  }

  nullableLong(n: unknown, field: string): void {
    if (this.present(n)) this.long(n, field);
  }

  string(s: unknown, field: string): void {
    if (typeof s !== 'string') throw new AvroEncodeError(`${field}: not a string (${String(s)})`);
    const len = Buffer.byteLength(s);
    this.varlong(len);
    const pos = this.pos;
    this.pos += len;
    if (this.pos > this.buf.length) return; // too small: the caller gets a negative end
    if (len > 64) {
      (this.buf as Buffer & { utf8Write(s: string, offset: number, length: number): number }).utf8Write(s, pos, len);
      return;
    }
    // Short strings byte by byte, as avsc does (a native write costs more than the loop).
    const buf = this.buf;
    let o = pos;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[o++] = c;
      } else if (c < 0x800) {
        buf[o++] = (c >> 6) | 0xc0;
        buf[o++] = (c & 0x3f) | 0x80;
      } else {
        const d = s.charCodeAt(i + 1);
        if ((c & 0xfc00) === 0xd800 && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x03ff) << 10) + (d & 0x03ff);
          i++;
          buf[o++] = (c >> 18) | 0xf0;
          buf[o++] = ((c >> 12) & 0x3f) | 0x80;
        } else {
          buf[o++] = (c >> 12) | 0xe0;
        }
        buf[o++] = ((c >> 6) & 0x3f) | 0x80;
        buf[o++] = (c & 0x3f) | 0x80;
      }
    }
  }

  nullableString(s: unknown, field: string): void {
    if (this.present(s)) this.string(s, field);
  }

  symbol(table: Map<string, number>, s: unknown, field: string): void {
    const index = table.get(s as string);
    if (index === undefined) throw new AvroEncodeError(`${field}: not a symbol of its enum (${String(s)})`);
    if (index < 64) this.buf[this.pos++] = index << 1; // one byte, the common case
    else this.varlong(index);
  }

  boolean(b: unknown, field: string): void {
    if (typeof b !== 'boolean') throw new AvroEncodeError(`${field}: not a boolean (${String(b)})`);
    this.buf[this.pos++] = b ? 1 : 0;
  }

  /** An array's block: its count (none when empty), the items, the closing zero count. */
  array<T>(items: readonly T[] | undefined, field: string, item: (w: AvroWriter, x: T) => void): void {
    if (items === undefined) items = []; // the array fields written by hand all default to []
    if (!Array.isArray(items)) throw new AvroEncodeError(`${field}: not an array`);
    if (items.length > 0) {
      this.varlong(items.length);
      for (let i = 0; i < items.length; i++) item(this, items[i] as T);
    }
    this.buf[this.pos++] = 0;
  }
}

/** An enum's symbols → their indices, in the schema's declared order. */
export function symbolIndex(symbols: readonly string[]): Map<string, number> {
  return new Map(symbols.map((s, i) => [s, i]));
}
