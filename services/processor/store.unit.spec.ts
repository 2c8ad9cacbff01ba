/** One contract, run against every PartitionStore implementation (LevelDB on a fresh temp dir). */
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelPartitionStore, MemoryPartitionStore, type PartitionStore } from './store';

const B = (s: string) => Buffer.from(s, 'utf8');

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'presence-store-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.each<[string, () => Promise<PartitionStore>]>([
  ['LevelPartitionStore', () => LevelPartitionStore.open(tempDir())],
  ['MemoryPartitionStore', async () => new MemoryPartitionStore()],
])('%s contract', (_name, make) => {
  let store: PartitionStore;
  beforeEach(async () => (store = await make()));
  afterEach(() => store.close());

  it('starts empty with no changelog position', async () => {
    expect(await store.load(0)).toEqual({ entries: new Map(), changelogPosition: null });
  });

  it('scan hands over every entry of the partition once and returns its position', async () => {
    await store.write(4, [['u/a', B('1')], ['u/b', B('2')], ['r/doc/1', B('3')]], '9');
    await store.write(5, [['u/other', B('x')]], '1');
    const seen: Array<[string, string]> = [];
    expect(await store.scan(4, (k, v) => seen.push([k, v.toString('utf8')]))).toBe('9');
    expect(seen.sort()).toEqual([['r/doc/1', '3'], ['u/a', '1'], ['u/b', '2']]);
    expect(await store.scan(6, () => { throw new Error('no entries expected'); })).toBeNull();
  });

  it('scan hands over a partition larger than one read batch in key order, each entry once', async () => {
    const keys = Array.from({ length: 2_500 }, (_, i) => `u/user-${String(i).padStart(5, '0')}`);
    await store.write(2, keys.map((k) => [k, B(k)] as const), '2500');
    const seen: string[] = [];
    await store.scan(2, (k, v) => {
      expect(v.toString('utf8')).toBe(k);
      seen.push(k);
    });
    expect(seen.sort()).toEqual(keys);
  });

  it('a scan whose consumer throws midway rejects with that error and leaves the store usable', async () => {
    const keys = Array.from({ length: 2_500 }, (_, i) => `u/user-${String(i).padStart(5, '0')}`);
    await store.write(3, keys.map((k) => [k, B(k)] as const), '7');
    let handed = 0;
    await expect(store.scan(3, () => {
      if (++handed === 1_500) throw new Error('bad entry');
    })).rejects.toThrow('bad entry');
    let again = 0;
    expect(await store.scan(3, () => void again++)).toBe('7');
    expect(again).toBe(keys.length);
  });

  it('writes puts, deletes and the position together, per partition', async () => {
    await store.write(1, [['u/alice', B('{"v":1}')], ['u/bob', B('{"v":2}')]], '10');
    await store.write(1, [['u/alice', B('{"v":3}')], ['u/bob', null]], '12');
    await store.write(2, [['u/alice', B('other')]], '5');
    expect(await store.load(1)).toEqual({ entries: new Map([['u/alice', B('{"v":3}')]]), changelogPosition: '12' });
    expect(await store.load(2)).toEqual({ entries: new Map([['u/alice', B('other')]]), changelogPosition: '5' });
  });

  it('drops one partition and keeps the others', async () => {
    await store.write(1, [['u/a', B('x')]], '1');
    await store.write(11, [['u/b', B('y')]], '2');
    await store.drop(1);
    expect(await store.load(1)).toEqual({ entries: new Map(), changelogPosition: null });
    expect((await store.load(11)).entries.get('u/b')).toEqual(B('y'));
  });

  it('held lists the partitions with a position, ascending, and forgets a dropped one', async () => {
    expect(await store.held()).toEqual([]);
    await store.write(11, [['u/b', B('y')]], '2');
    await store.write(0, [], '4');
    await store.write(3, [['u/a', B('x')]], '1');
    expect(await store.held()).toEqual([0, 3, 11]);
    await store.drop(3);
    expect(await store.held()).toEqual([0, 11]);
  });

  it('keys with separators and unicode round-trip', async () => {
    await store.write(3, [['r/document/42!x', B('m')], ['u/zoë', B('z')]], '7');
    expect([...(await store.load(3)).entries.keys()].sort()).toEqual(['r/document/42!x', 'u/zoë']);
  });
});

describe('LevelPartitionStore durability', () => {
  it('survives close and reopen', async () => {
    const dir = tempDir();
    const a = await LevelPartitionStore.open(dir);
    await a.write(0, [['u/alice', B('state')]], '42');
    await a.close();
    const b = await LevelPartitionStore.open(dir);
    expect(await b.load(0)).toEqual({ entries: new Map([['u/alice', B('state')]]), changelogPosition: '42' });
    await b.close();
  });

  it('moves a store it cannot open aside and starts empty', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'store'));
    writeFileSync(join(dir, 'store', 'CURRENT'), 'MANIFEST-999999\n'); // points at a manifest that does not exist
    const moved: string[] = [];
    const store = await LevelPartitionStore.open(dir, (to) => moved.push(to));
    expect(moved).toHaveLength(1);
    expect(readdirSync(dir).some((f) => f.startsWith('store.corrupt-'))).toBe(true);
    expect(await store.load(0)).toEqual({ entries: new Map(), changelogPosition: null });
    await store.close();
  });
});
