/**
 * The processor's local state store: per input partition, a set of key → encoded state entries and
 * the changelog offset they reflect, written together in one atomic batch. The LevelDB store is the
 * real one; the in-memory one exists for pure tests of code that needs a store, and both pass the
 * same contract suite (store.unit.spec.ts).
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';

export interface PartitionContents {
  readonly entries: Map<string, Buffer>;
  /** The next changelog offset to read to catch up (offset of the last applied record + 1), or null. */
  readonly changelogPosition: string | null;
}

export interface PartitionStore {
  load(partition: number): Promise<PartitionContents>;
  /**
   * Hands each entry to `onEntry` as it is read (none kept: a restore decodes them at once) and
   * returns the changelog position. A failure may come after some entries were handed over.
   */
  scan(partition: number, onEntry: (key: string, value: Buffer) => void): Promise<string | null>;
  /** Atomically applies puts (value) and deletes (null) and records the changelog position. */
  write(partition: number, changes: ReadonlyArray<readonly [string, Buffer | null]>, changelogPosition: string): Promise<void>;
  drop(partition: number): Promise<void>;
  /** The partitions with a recorded changelog position (what a restore here would start from), ascending. */
  held(): Promise<number[]>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(readonly code: 'STORE_CORRUPT' | 'STORE_IO', message: string, readonly cause?: unknown) {
    super(message);
  }
}

const pad = (p: number) => String(p).padStart(5, '0');
const dataPrefix = (p: number) => `${pad(p)}!d!`;
const positionKey = (p: number) => `${pad(p)}!m!changelog-position`;
/** Upper bound of a prefix range: '!' + 1 is '"'. */
const rangeEnd = (prefix: string) => `${prefix.slice(0, -1)}"`;

export class LevelPartitionStore implements PartitionStore {
  private constructor(private readonly db: ClassicLevel<string, Buffer>) {}

  /**
   * Opens (or creates) the store under `dir`. A store LevelDB cannot open (corruption, foreign
   * files) is moved aside and a fresh one is created: the changelog alone restores it.
   */
  static async open(dir: string, onCorrupt?: (movedTo: string, cause: unknown) => void): Promise<LevelPartitionStore> {
    const path = join(dir, 'store');
    try {
      const db = new ClassicLevel<string, Buffer>(path, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
      await db.open();
      return new LevelPartitionStore(db);
    } catch (cause) {
      if (!existsSync(path)) throw new StoreError('STORE_IO', `cannot create store at ${path}`, cause);
      const movedTo = `${path}.corrupt-${Date.now()}`;
      renameSync(path, movedTo);
      onCorrupt?.(movedTo, cause);
      const db = new ClassicLevel<string, Buffer>(path, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
      await db.open();
      return new LevelPartitionStore(db);
    }
  }

  async load(partition: number): Promise<PartitionContents> {
    const entries = new Map<string, Buffer>();
    const changelogPosition = await this.scan(partition, (k, v) => entries.set(k, v));
    return { entries, changelogPosition };
  }

  async scan(partition: number, onEntry: (key: string, value: Buffer) => void): Promise<string | null> {
    const prefix = dataPrefix(partition);
    // The position first: entries written after it was read only make the state newer than it says.
    const changelogPosition = (await this.db.get(positionKey(partition)))?.toString('utf8') ?? null;
    // In batches of 1,000 (nextv): `for await` over the iterator cost a promise per entry. The
    // next batch is read (in LevelDB's thread) while this one is handed over.
    const it = this.db.iterator({ gte: prefix, lt: rangeEnd(prefix) });
    try {
      let next = it.nextv(1_000);
      try {
        for (let batch = await next; batch.length > 0; batch = await next) {
          next = it.nextv(1_000);
          for (const [k, v] of batch) onEntry(k.slice(prefix.length), v);
        }
      } finally {
        await next.catch(() => undefined); // the read ahead of a consumer that threw: closed below
      }
    } finally {
      await it.close();
    }
    return changelogPosition;
  }

  async write(partition: number, changes: ReadonlyArray<readonly [string, Buffer | null]>, changelogPosition: string): Promise<void> {
    const prefix = dataPrefix(partition);
    const batch = this.db.batch();
    for (const [key, value] of changes) {
      if (value === null) batch.del(prefix + key);
      else batch.put(prefix + key, value);
    }
    batch.put(positionKey(partition), Buffer.from(changelogPosition, 'utf8'));
    await batch.write();
  }

  async drop(partition: number): Promise<void> {
    const prefix = dataPrefix(partition);
    await this.db.clear({ gte: prefix, lt: rangeEnd(prefix) });
    await this.db.del(positionKey(partition));
  }

  async held(): Promise<number[]> {
    const out: number[] = [];
    // One seek per partition: keys start with the padded partition number.
    for (let from = ''; ;) {
      const [key] = await this.db.keys({ gte: from, limit: 1 }).all();
      const partition = key === undefined ? NaN : Number(key.slice(0, 5));
      if (!Number.isInteger(partition)) return out;
      if ((await this.db.get(positionKey(partition))) !== undefined) out.push(partition);
      from = pad(partition + 1);
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export class MemoryPartitionStore implements PartitionStore {
  private readonly partitions = new Map<number, { entries: Map<string, Buffer>; position: string | null }>();

  async load(partition: number): Promise<PartitionContents> {
    const p = this.partitions.get(partition);
    return { entries: new Map(p?.entries ?? []), changelogPosition: p?.position ?? null };
  }

  async scan(partition: number, onEntry: (key: string, value: Buffer) => void): Promise<string | null> {
    const p = this.partitions.get(partition);
    for (const [k, v] of p?.entries ?? []) onEntry(k, v);
    return p?.position ?? null;
  }

  async write(partition: number, changes: ReadonlyArray<readonly [string, Buffer | null]>, changelogPosition: string): Promise<void> {
    const p = this.partitions.get(partition) ?? { entries: new Map<string, Buffer>(), position: null };
    for (const [key, value] of changes) {
      if (value === null) p.entries.delete(key);
      else p.entries.set(key, value);
    }
    p.position = changelogPosition;
    this.partitions.set(partition, p);
  }

  async drop(partition: number): Promise<void> {
    this.partitions.delete(partition);
  }

  async held(): Promise<number[]> {
    return [...this.partitions].filter(([, p]) => p.position !== null).map(([n]) => n).sort((a, b) => a - b);
  }

  async close(): Promise<void> {}
}
