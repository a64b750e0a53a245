import { createHash } from 'node:crypto';
import {
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  copyFileSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EMPTY_DATA_VERSION,
  dataVersion,
  entityPath,
  listCatalog,
  openStore,
  readEntity,
  StoreError,
} from './index.js';
import { makeRows, tempDir } from '../../test/helpers.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function newDir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('store writes', () => {
  it('stores validated rows, reports rejects, and keeps the catalog in line with the file', () => {
    const dir = newDir();
    const store = openStore(dir);
    const rows = makeRows(30, 3);
    const bad = [{ ...rows[4], date: '2021-02-29' }, { ...rows[5] }, { ...rows[6], volume: -3 }];
    const res = store.writeEntity({ code: 'AAPL', market: 'US', currency: 'USD', name: 'Apple' }, [
      ...rows,
      ...bad,
    ]);
    expect(res).toMatchObject({ changed: true, rowsAdded: 30, rowCount: 30 });
    expect(res.rejected.map((r) => r.reason)).toEqual(['invalid_date', 'duplicate_date', 'invalid_volume']);
    expect(readEntity(dir, 'AAPL')).toEqual(rows);
    expect(readEntity(dir, 'AAPL', { raw: true })).toEqual(rows);
    expect(readEntity(dir, 'AAPL', { from: rows[10].date, to: rows[12].date })).toEqual(rows.slice(10, 13));
    const [entry] = listCatalog(dir);
    expect(entry).toMatchObject({
      code: 'AAPL',
      name: 'Apple',
      market: 'US',
      currency: 'USD',
      first_date: rows[0].date,
      last_date: rows[29].date,
      row_count: 30,
    });
    expect(entry.sha256).toBe(sha(entityPath(dir, 'AAPL')));
    store.close();
  });

  it('computes the data version from the sorted (code, sha256) pairs and the master, and changes it only on change', () => {
    const dir = newDir();
    const store = openStore(dir);
    expect(store.dataVersion()).toBe(EMPTY_DATA_VERSION);
    store.writeEntity({ code: 'MSFT' }, makeRows(10, 1));
    store.writeEntity({ code: 'AAPL' }, makeRows(10, 2));
    // Each new code also got a minimal master record (no name, kind stock, listed), hashed after the files.
    const masterLine = (code: string) =>
      `${JSON.stringify([code, 'UNKNOWN', null, null, 'stock', ...Array(8).fill(null), 'listed', null, null])}\n`;
    const master = createHash('sha256').update(masterLine('AAPL')).update(masterLine('MSFT')).digest('hex');
    const expected = createHash('sha256')
      .update(`AAPL\t${sha(entityPath(dir, 'AAPL'))}\nMSFT\t${sha(entityPath(dir, 'MSFT'))}\n`)
      .update(`companies\t${master}\n`)
      .digest('hex');
    expect(store.dataVersion()).toBe(expected);
    expect(dataVersion(dir)).toBe(expected);

    const mtime = statSync(entityPath(dir, 'AAPL')).mtimeMs;
    const again = store.writeEntity({ code: 'AAPL' }, makeRows(10, 2));
    expect(again).toMatchObject({ changed: false, rowsAdded: 0, rowsUnchanged: 10 });
    expect(store.dataVersion()).toBe(expected);
    expect(statSync(entityPath(dir, 'AAPL')).mtimeMs).toBe(mtime);

    const changed = makeRows(10, 2);
    changed[3] = { ...changed[3], volume: changed[3].volume + 1 };
    expect(store.writeEntity({ code: 'AAPL' }, changed)).toMatchObject({
      changed: true,
      rowsUpdated: 1,
      rowsUnchanged: 9,
    });
    expect(store.dataVersion()).not.toBe(expected);
    store.close();
  });

  it('recognises a write of exactly the stored rows from the digest, and nothing less exact', () => {
    const dir = newDir();
    const store = openStore(dir);
    const rows = makeRows(50, 12);
    store.writeEntity({ code: 'DIG' }, rows);
    const same = store.writeEntity({ code: 'DIG' }, [...rows].reverse(), { mode: 'replace' });
    expect(same).toMatchObject({ changed: false, rowsUnchanged: 50, rowCount: 50 });
    const tiny = rows.map((r) => ({ ...r }));
    tiny[7].close = tiny[7].close + Number.EPSILON * tiny[7].close; // one ulp or so
    expect(tiny[7].close).not.toBe(rows[7].close);
    expect(store.writeEntity({ code: 'DIG' }, tiny)).toMatchObject({
      changed: true,
      rowsUpdated: 1,
      rowsUnchanged: 49,
    });
    expect(readEntity(dir, 'DIG')[7].close).toBe(tiny[7].close);
    // A file without the digest (older writer) takes the row-by-row path to the same answer.
    const db = new Database(entityPath(dir, 'DIG'));
    db.prepare("DELETE FROM meta WHERE key = 'raw_digest'").run();
    db.close();
    store.reconcile({ full: true });
    expect(store.writeEntity({ code: 'DIG' }, tiny)).toMatchObject({ changed: false, rowsUnchanged: 50 });
    store.close();
  });

  it('merges by date by default and replaces the whole history in replace mode', () => {
    const dir = newDir();
    const store = openStore(dir);
    const rows = makeRows(20, 5);
    store.writeEntity({ code: 'X' }, rows.slice(0, 12));
    const merged = store.writeEntity({ code: 'X' }, rows.slice(8));
    expect(merged).toMatchObject({ rowsAdded: 8, rowsUnchanged: 4, rowCount: 20 });
    expect(readEntity(dir, 'X')).toEqual(rows);
    const replaced = store.writeEntity({ code: 'X' }, rows.slice(5, 10), { mode: 'replace' });
    expect(replaced).toMatchObject({ rowsRemoved: 15, rowsUnchanged: 5, rowCount: 5 });
    expect(readEntity(dir, 'X')).toEqual(rows.slice(5, 10));
    expect(listCatalog(dir)[0]).toMatchObject({
      row_count: 5,
      first_date: rows[5].date,
      last_date: rows[9].date,
    });
    store.close();
  });

  it('keeps stored meta unless a write names new values, and a meta change publishes', () => {
    const dir = newDir();
    const store = openStore(dir);
    store.writeEntity({ code: '7203.T', market: 'TSE', currency: 'JPY', name: 'Toyota' }, makeRows(5));
    expect(store.writeEntity({ code: '7203.T' }, makeRows(5)).changed).toBe(false);
    expect(store.writeEntity({ code: '7203.T', name: 'Toyota Motor' }, makeRows(5)).changed).toBe(true);
    expect(listCatalog(dir)[0]).toMatchObject({ name: 'Toyota Motor', market: 'TSE', currency: 'JPY' });
    store.close();
  });

  it('refuses unsafe codes with a clear error and writes nothing', () => {
    const dir = newDir();
    const store = openStore(dir);
    for (const code of ['../etc', '.hidden', 'a/b', 'a b', '', 'X'.repeat(33), 'トヨタ']) {
      expect(() => store.writeEntity({ code }, makeRows(3))).toThrow(StoreError);
      expect(() => store.writeEntity({ code }, makeRows(3))).toThrow(/invalid entity code/);
    }
    expect(readdirSync(join(dir, 'entities'))).toEqual([]);
    expect(listCatalog(dir)).toEqual([]);
    store.close();
  });

  it('never creates an entity without valid rows', () => {
    const dir = newDir();
    const store = openStore(dir);
    const res = store.writeEntity({ code: 'EMPTY' }, [
      { date: 'x', open: 1, high: 1, low: 1, close: 1, volume: 1 },
    ]);
    expect(res).toMatchObject({ changed: false, rowCount: 0, sha256: null });
    expect(existsSync(entityPath(dir, 'EMPTY'))).toBe(false);
    store.close();
  });
});

describe('published files', () => {
  it('are in rollback-journal (DELETE) mode and open read-only with a clean integrity check', () => {
    const dir = newDir();
    const store = openStore(dir);
    store.writeEntity({ code: 'RO' }, makeRows(500, 9));
    store.close();
    for (const path of [entityPath(dir, 'RO'), join(dir, 'catalog.sqlite')]) {
      const header = readFileSync(path).subarray(18, 20);
      expect([...header], path).toEqual([1, 1]); // 2, 2 would mean WAL
      const db = new Database(path, { readonly: true, fileMustExist: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
    expect(existsSync(`${entityPath(dir, 'RO')}-journal`)).toBe(false);
    const ro = openStore(dir, { readonly: true });
    expect(ro.listCatalog()).toHaveLength(1);
    expect(() => ro.writeEntity({ code: 'RO' }, makeRows(3))).toThrow(/read-only/);
    ro.close();
  });
});

describe('reconcile', () => {
  it('adds catalog rows for files it lacks and drops rows whose file is gone', () => {
    const src = newDir();
    const dir = newDir();
    const a = openStore(src);
    a.writeEntity({ code: 'AAA', market: 'US' }, makeRows(7, 1));
    a.close();
    const store = openStore(dir);
    store.writeEntity({ code: 'BBB' }, makeRows(4, 2));
    store.close();
    copyFileSync(entityPath(src, 'AAA'), entityPath(dir, 'AAA'));
    rmSync(entityPath(dir, 'BBB'));
    const reopened = openStore(dir);
    expect(reopened.listCatalog().map((e) => [e.code, e.row_count, e.market])).toEqual([['AAA', 7, 'US']]);
    expect(reopened.listCatalog()[0].sha256).toBe(sha(entityPath(dir, 'AAA')));
    reopened.close();
  });

  it('full reconcile repairs a catalog row whose file was replaced behind its back', () => {
    const dir = newDir();
    const store = openStore(dir);
    store.writeEntity({ code: 'AAA' }, makeRows(7, 1));
    store.writeEntity({ code: 'BBB' }, makeRows(9, 2));
    const before = store.dataVersion();
    copyFileSync(entityPath(dir, 'BBB'), entityPath(dir, 'AAA'));
    expect(store.reconcile({ full: true }).entriesRepaired).toEqual(['AAA']);
    expect(store.getCatalogEntry('AAA')).toMatchObject({ row_count: 9, sha256: sha(entityPath(dir, 'BBB')) });
    expect(store.dataVersion()).not.toBe(before);
    store.close();
  });

  it('leaves foreign files that are not entity files alone', () => {
    const dir = newDir();
    openStore(dir).close();
    writeFileSync(join(dir, 'entities', 'notes.txt'), 'x');
    const store = openStore(dir);
    expect(store.listCatalog()).toEqual([]);
    store.close();
    expect(existsSync(join(dir, 'entities', 'notes.txt'))).toBe(true);
  });
});
