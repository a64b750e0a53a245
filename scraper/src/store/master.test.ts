import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { STORE_SCHEMA_VERSION } from '@resemble/contracts';
import { entityPath, listCatalog, openStore, readEntity, StoreError, type CompanyPatch } from './index.js';
import { SCRAPER_DIR, makeRows, tempDir } from '../../test/helpers.js';
import { OLD_ENTITIES, writeOldStore } from '../../test/old-store.js';

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

function catalogMeta(dir: string): Record<string, string> {
  const db = new Database(join(dir, 'catalog.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  } finally {
    db.close();
  }
}
function hasCompaniesTable(dir: string): boolean {
  const db = new Database(join(dir, 'catalog.sqlite'), { readonly: true });
  try {
    return db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'companies'").get() !== undefined;
  } finally {
    db.close();
  }
}
function fileShas(dir: string): Record<string, string> {
  return Object.fromEntries(OLD_ENTITIES.map((e) => [e.code, sha(entityPath(dir, e.code))]));
}

describe('migration of a version-1 store', () => {
  it('adds the master with the names the entities had, keeps every file, and changes the data version', () => {
    const dir = newDir();
    writeOldStore(dir);
    const before = catalogMeta(dir);
    expect(before.schema_version).toBe('1');
    const shas = fileShas(dir);
    const catalogBefore = listCatalog(dir);

    const store = openStore(dir);
    expect(catalogMeta(dir).schema_version).toBe(String(STORE_SCHEMA_VERSION));
    expect(
      store.listCompanies().map((c) => [c.code, c.market, c.name_ja, c.name_en, c.kind, c.status]),
    ).toEqual([
      ['7203', 'JP', 'トヨタ自動車', null, 'stock', 'listed'],
      ['AAPL', 'US', null, 'Apple Inc.', 'stock', 'listed'],
      // A name that is only the code is no name.
      ['MSFT', 'US', null, null, 'stock', 'listed'],
    ]);
    expect(fileShas(dir)).toEqual(shas);
    expect(store.listCatalog()).toEqual(catalogBefore);
    expect(store.dataVersion()).not.toBe(before.data_version);
    expect(readEntity(dir, 'AAPL')).toEqual(makeRows(30, 1));
    const migrated = store.dataVersion();
    store.close();
    // A second open has nothing to migrate.
    const again = openStore(dir);
    expect(again.dataVersion()).toBe(migrated);
    again.close();
  });

  it('refuses a catalog newer than the writer, naming the versions', () => {
    const dir = newDir();
    openStore(dir).close();
    const db = new Database(join(dir, 'catalog.sqlite'));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    expect(() => openStore(dir)).toThrow(/schema_version 99/);
  });

  it.each(['after-copy', 'after-migrate'])(
    'killed %s: the old catalog is intact, and the next open migrates it and removes the temp file',
    (step) => {
      const dir = newDir();
      writeOldStore(dir);
      const before = readFileSync(join(dir, 'catalog.sqlite'));
      const res = spawnSync(process.execPath, ['--import', 'tsx', 'test/migrate-crash-child.ts', dir, step], {
        cwd: SCRAPER_DIR,
        encoding: 'utf8',
      });
      expect(res.signal, res.stderr).toBe('SIGKILL');
      expect(readFileSync(join(dir, 'catalog.sqlite')).equals(before)).toBe(true);
      expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(true);
      expect(hasCompaniesTable(dir)).toBe(false);

      const store = openStore(dir);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(catalogMeta(dir).schema_version).toBe(String(STORE_SCHEMA_VERSION));
      expect(store.listCompanies()).toHaveLength(3);
      store.close();
    },
  );

  it('killed after the rename: the store is migrated', () => {
    const dir = newDir();
    writeOldStore(dir);
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/migrate-crash-child.ts', dir, 'after-rename'],
      {
        cwd: SCRAPER_DIR,
        encoding: 'utf8',
      },
    );
    expect(res.signal, res.stderr).toBe('SIGKILL');
    expect(catalogMeta(dir).schema_version).toBe(String(STORE_SCHEMA_VERSION));
    expect(hasCompaniesTable(dir)).toBe(true);
    const store = openStore(dir);
    expect(store.listCompanies()).toHaveLength(3);
    store.close();
  });
});

const listing = (over: Partial<Record<string, Partial<CompanyPatch>>> = {}): CompanyPatch[] =>
  [
    {
      code: '7203',
      market: 'JP',
      nameJa: 'トヨタ自動車',
      kind: 'stock' as const,
      segment: 'プライム（内国株式）',
    },
    { code: '285A', market: 'JP', nameJa: 'キオクシアホールディングス', kind: 'stock' as const },
    { code: '1306', market: 'JP', nameJa: 'ＴＯＰＩＸ連動型上場投資信託', kind: 'etf' as const },
  ].map((p) => ({ ...p, ...over[p.code] }));

describe('company master writes', () => {
  it('adds issues without prices, keeps prices untouched on renames, and an identical listing changes nothing', () => {
    const dir = newDir();
    const store = openStore(dir);
    store.writeEntity({ code: '7203', market: 'JP', currency: 'JPY' }, makeRows(20, 3));
    const fileSha = sha(entityPath(dir, '7203'));

    const first = store.applyCompanies(listing(), { source: 'test', asOf: '2024-10-31' });
    expect(first).toMatchObject({ added: ['285A', '1306'], updated: ['7203'], changed: true });
    expect(store.getCompany('285A')).toMatchObject({
      name_ja: 'キオクシアホールディングス',
      listed_since: '2024-10-31',
      status: 'listed',
    });
    // 285A has no prices: a master row, no entity row.
    expect(store.getCatalogEntry('285A')).toBeUndefined();
    const version = store.dataVersion();

    expect(store.applyCompanies(listing(), { source: 'test', asOf: '2024-11-30' })).toMatchObject({
      unchanged: 3,
      changed: false,
    });
    expect(store.dataVersion()).toBe(version);

    const renamed = store.applyCompanies(listing({ '7203': { nameJa: 'トヨタ自動車（新）' } }), {
      source: 'test',
      asOf: '2024-12-31',
    });
    expect(renamed).toMatchObject({ updated: ['7203'], unchanged: 2 });
    expect(store.getCompany('7203')).toMatchObject({
      name_ja: 'トヨタ自動車（新）',
      segment: 'プライム（内国株式）',
    });
    expect(store.dataVersion()).not.toBe(version);
    expect(sha(entityPath(dir, '7203'))).toBe(fileSha);
    expect(readEntity(dir, '7203')).toEqual(makeRows(20, 3));
    store.close();
  });

  it('a complete listing marks the missing issues delisted, never deletes them, and relists a returning one', () => {
    const dir = newDir();
    const store = openStore(dir);
    store.writeEntity({ code: '7203', market: 'JP' }, makeRows(20, 3));
    store.applyCompanies(listing(), { source: 'jpx', asOf: '2024-10-31', complete: { market: 'JP' } });
    const without = listing().filter((p) => p.code !== '7203');
    const res = store.applyCompanies(without, {
      source: 'jpx',
      asOf: '2024-11-29',
      complete: { market: 'JP', minShare: 0.5 },
    });
    expect(res.delisted).toEqual(['7203']);
    expect(store.getCompany('7203')).toMatchObject({
      status: 'delisted',
      delisted_since: '2024-11-29',
      name_ja: 'トヨタ自動車',
    });
    expect(readEntity(dir, '7203')).toHaveLength(20);
    expect(store.listCompanies()).toHaveLength(3);

    const back = store.applyCompanies(listing(), {
      source: 'jpx',
      asOf: '2024-12-30',
      complete: { market: 'JP' },
    });
    expect(back.relisted).toEqual(['7203']);
    expect(store.getCompany('7203')).toMatchObject({ status: 'listed', delisted_since: null });
    store.close();
  });

  it('refuses a listing that would delist most of a market, and a record without a name, changing nothing', () => {
    const dir = newDir();
    const store = openStore(dir);
    store.applyCompanies(listing(), { source: 'jpx', asOf: '2024-10-31', complete: { market: 'JP' } });
    const version = store.dataVersion();
    expect(() =>
      store.applyCompanies(listing().slice(0, 1), {
        source: 'jpx',
        asOf: '2024-11-29',
        complete: { market: 'JP' },
      }),
    ).toThrow(/fewer than 50%/);
    expect(() => store.applyCompanies([{ code: '9999', market: 'JP' }], { source: 'x', asOf: null })).toThrow(
      StoreError,
    );
    expect(store.dataVersion()).toBe(version);
    expect(store.listCompanies().every((c) => c.status === 'listed')).toBe(true);
    store.close();
  });
});
