import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { entityPath, listCatalog, openStore, readEntity } from './index.js';
import { SCRAPER_DIR, makeRows, tempDir } from '../../test/helpers.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function crashDuringWrite(dataDir: string, step: string): void {
  // node --import tsx (not the tsx wrapper) so the killed process is the one we spawned.
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'test/crash-child.ts', dataDir, 'CRASH', '2', step],
    {
      cwd: SCRAPER_DIR,
      encoding: 'utf8',
    },
  );
  expect(res.signal, res.stderr).toBe('SIGKILL');
}

function integrityOk(path: string): boolean {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) === 'ok';
  } finally {
    db.close();
  }
}

describe('a writer killed during a publish', () => {
  it.each(['after-stage', 'after-intent'])(
    '%s: the old file stays, temp files are cleaned, the catalog matches',
    (step) => {
      const t = tempDir();
      cleanups.push(t.cleanup);
      const oldRows = makeRows(40, 1);
      const store = openStore(t.dir);
      store.writeEntity({ code: 'CRASH' }, oldRows);
      const version = store.dataVersion();
      store.close();

      crashDuringWrite(t.dir, step);
      expect(readdirSync(join(t.dir, 'entities')).some((f) => f.endsWith('.tmp'))).toBe(true);

      const reopened = openStore(t.dir);
      expect(readdirSync(join(t.dir, 'entities'))).toEqual(['CRASH.sqlite']);
      expect(integrityOk(entityPath(t.dir, 'CRASH'))).toBe(true);
      expect(readEntity(t.dir, 'CRASH')).toEqual(oldRows);
      expect(listCatalog(t.dir)[0].sha256).toBe(sha(entityPath(t.dir, 'CRASH')));
      expect(reopened.dataVersion()).toBe(version);
      // The interrupted write, run again, completes.
      expect(reopened.writeEntity({ code: 'CRASH' }, makeRows(40, 2)).changed).toBe(true);
      expect(readEntity(t.dir, 'CRASH')).toEqual(makeRows(40, 2).sort((a, b) => (a.date < b.date ? -1 : 1)));
      reopened.close();
    },
  );

  it('after the rename but before the catalog commit: the catalog is rebuilt from the new file', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store = openStore(t.dir);
    store.writeEntity({ code: 'CRASH', market: 'US' }, makeRows(40, 1));
    const version = store.dataVersion();
    store.close();

    crashDuringWrite(t.dir, 'after-rename');
    const stale = listCatalog(t.dir)[0];
    expect(stale.sha256).not.toBe(sha(entityPath(t.dir, 'CRASH')));

    const reopened = openStore(t.dir);
    const entry = reopened.getCatalogEntry('CRASH');
    expect(integrityOk(entityPath(t.dir, 'CRASH'))).toBe(true);
    expect(entry?.sha256).toBe(sha(entityPath(t.dir, 'CRASH')));
    expect(entry?.market).toBe('US');
    // Seeds 1 and 2 cover the same 40 days, so the merged file holds 40 rows with seed 2's values.
    expect(entry?.row_count).toBe(40);
    expect(readEntity(t.dir, 'CRASH')).toEqual(makeRows(40, 2));
    expect(reopened.dataVersion()).not.toBe(version);
    reopened.close();
  });
});
