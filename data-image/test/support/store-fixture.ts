import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  CATALOG_DDL,
  ENTITY_DDL,
  ENTITY_SCHEMA_VERSION,
  mulberry32,
  STORE_SCHEMA_VERSION,
  type RunReport,
} from '@resemble/contracts';

/** Seeded PRNG (mulberry32, shared from contracts) so fixtures are reproducible from a seed. */
export const rng = mulberry32;

function tradingDays(start: string, n: number): string[] {
  const out: string[] = [];
  const d = new Date(`${start}T00:00:00Z`);
  while (out.length < n) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

const UPDATED_AT = '2024-01-02T00:00:00.000Z';

/** Writes one entity file with the contract DDL (rollback journal, as the store writer publishes them). */
export function writeEntity(dataDir: string, code: string, rows: number, seed: number): void {
  const path = join(dataDir, 'entities', `${code}.sqlite`);
  const db = new Database(path);
  db.pragma('journal_mode = DELETE');
  // A fixture, not a store: durability does not matter, speed of writing hundreds of files does.
  db.pragma('synchronous = OFF');
  db.exec(ENTITY_DDL);
  const random = rng(seed);
  const insert = db.prepare(
    'INSERT INTO prices (date, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertRaw = db.prepare(
    'INSERT INTO raw_prices (date, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    let close = 100 * (0.5 + random());
    for (const date of tradingDays('2020-01-01', rows)) {
      const open = close;
      close = Math.max(1, close * (1 + (random() - 0.5) * 0.04));
      const row = [
        date,
        open,
        Math.max(open, close) * 1.01,
        Math.min(open, close) * 0.99,
        close,
        Math.floor(random() * 1e6),
      ];
      insert.run(...row);
      insertRaw.run(...row);
    }
    for (const [k, v] of Object.entries({
      schema_version: String(ENTITY_SCHEMA_VERSION),
      code,
      name: `${code} Corp`,
      market: 'TEST',
      currency: 'USD',
      updated_at: UPDATED_AT,
    })) {
      meta.run(k, v);
    }
  })();
  db.close();
}

/** Rebuilds catalog.sqlite from the entity files, with data_version = sha256 over "code\tsha256\n" lines. */
export function writeCatalog(dataDir: string): void {
  const path = join(dataDir, 'catalog.sqlite');
  const db = new Database(path);
  db.pragma('journal_mode = DELETE');
  db.exec(CATALOG_DDL);
  db.exec('DELETE FROM entities; DELETE FROM meta;');
  const codes = listCodes(dataDir);
  const version = createHash('sha256');
  const insert = db.prepare(
    'INSERT INTO entities (code, name, market, currency, first_date, last_date, row_count, updated_at, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const code of codes) {
      const file = join(dataDir, 'entities', `${code}.sqlite`);
      const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
      const e = new Database(file, { readonly: true });
      const s = e.prepare('SELECT count(*) AS n, min(date) AS f, max(date) AS l FROM prices').get() as {
        n: number;
        f: string;
        l: string;
      };
      e.close();
      insert.run(code, `${code} Corp`, 'TEST', 'USD', s.f, s.l, s.n, UPDATED_AT, sha);
      version.update(`${code}\t${sha}\n`);
    }
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(
      String(STORE_SCHEMA_VERSION),
    );
    db.prepare("INSERT INTO meta (key, value) VALUES ('data_version', ?)").run(version.digest('hex'));
  })();
  db.close();
}

function listCodes(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'entities'))
    .filter((n) => n.endsWith('.sqlite'))
    .map((n) => n.slice(0, -'.sqlite'.length))
    .sort();
}

export function codesFor(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `T${String(i).padStart(3, '0')}${i % 3 === 0 ? '.T' : ''}`);
}

/** A complete, contract-conforming store: `codes` entity files, the catalog and one run report. */
export function makeStore(dataDir: string, codes: string[], rows = 60): void {
  mkdirSync(join(dataDir, 'entities'), { recursive: true });
  mkdirSync(join(dataDir, 'runs'), { recursive: true });
  codes.forEach((code, i) => writeEntity(dataDir, code, rows, 1000 + i));
  writeCatalog(dataDir);
  const report: RunReport = {
    id: '2024-01-02T00-00-00Z',
    source: 'fixture',
    startedAt: '2024-01-02T00:00:00.000Z',
    finishedAt: '2024-01-02T00:00:01.000Z',
    durationMs: 1000,
    ok: codes,
    failed: [],
    skipped: [],
    rowsAdded: codes.length * rows,
    rowsRejected: [],
    success: true,
  };
  writeFileSync(join(dataDir, 'runs', `${report.id}.json`), JSON.stringify(report));
}

/** Appends one more day to an entity (as a daily scrape would) and refreshes the catalog. */
export function appendDay(dataDir: string, code: string): void {
  const db = new Database(join(dataDir, 'entities', `${code}.sqlite`));
  const last = db.prepare('SELECT date, close FROM prices ORDER BY date DESC LIMIT 1').get() as {
    date: string;
    close: number;
  };
  const [next] = tradingDays(last.date, 2).slice(1);
  db.prepare('INSERT INTO prices (date, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?)').run(
    next,
    last.close,
    last.close * 1.02,
    last.close * 0.98,
    last.close * 1.01,
    1234,
  );
  db.close();
  writeCatalog(dataDir);
}
