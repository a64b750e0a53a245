/**
 * A version-1 store as the writer before the company master left it: entity files as today (their format
 * did not change) and a catalog without `companies`, schema_version 1 and the data version over the
 * entity files alone. Built by writing with today's writer and taking the catalog back to version 1.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../src/store/index.js';
import { makeRows } from './helpers.js';

export const OLD_ENTITIES = [
  { code: 'AAPL', name: 'Apple Inc.', market: 'US', currency: 'USD' },
  { code: '7203', name: 'トヨタ自動車', market: 'JP', currency: 'JPY' },
  { code: 'MSFT', name: 'MSFT', market: 'US', currency: 'USD' },
];

export function writeOldStore(dir: string): void {
  const store = openStore(dir);
  OLD_ENTITIES.forEach((e, i) => store.writeEntity(e, makeRows(30, i + 1)));
  store.close();
  const db = new Database(join(dir, 'catalog.sqlite'));
  try {
    db.transaction(() => {
      db.exec('DROP TABLE companies');
      db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
      const h = createHash('sha256');
      for (const r of db.prepare('SELECT code, sha256 FROM entities ORDER BY code').all() as {
        code: string;
        sha256: string;
      }[])
        h.update(`${r.code}\t${r.sha256}\n`);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'data_version'").run(h.digest('hex'));
    })();
  } finally {
    db.close();
  }
}
