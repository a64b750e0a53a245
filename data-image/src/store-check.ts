import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  openSync,
  readSync,
  closeSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  CATALOG_DATA_VERSION_KEY,
  CATALOG_DDL,
  CATALOG_FILE,
  ENTITIES_DIR,
  ENTITY_CODE_PATTERN,
  ENTITY_DDL,
  ENTITY_META_KEYS,
  ENTITY_SCHEMA_VERSION,
  RUNS_DIR,
  STORE_SCHEMA_VERSION,
  catalogEntrySchema,
  runReportSchema,
  type CatalogEntry,
} from '@resemble/contracts';

/** The input was refused: every problem found is listed, so one run shows the whole repair list. */
export class StoreRejectedError extends Error {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 40);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(`data directory refused (${problems.length} problem(s)):\n  - ${shown.join('\n  - ')}${more}`);
    this.name = 'StoreRejectedError';
  }
}

export interface CheckedEntity {
  code: string;
  /** Absolute path of the entity file. */
  path: string;
  sha256: string;
}

export interface CheckedStore {
  dataDir: string;
  dataVersion: string;
  schemaVersion: number;
  firstDate: string | null;
  lastDate: string | null;
  entities: CheckedEntity[];
  /** File names under runs/ (validated run reports), sorted. */
  runs: string[];
  /** Writer temp files that were skipped (not part of the published store). */
  skipped: string[];
}

type Column = { name: string; type: string; notnull: number; pk: number };

/** Column lists of every table the contract DDL creates, so the check follows the contract, not a copy. */
function contractTables(ddl: string): Map<string, Column[]> {
  const db = new Database(':memory:');
  try {
    db.exec(ddl);
    return tableColumns(db);
  } finally {
    db.close();
  }
}

function tableColumns(db: Database.Database): Map<string, Column[]> {
  const names = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const out = new Map<string, Column[]>();
  for (const name of names) {
    const cols = db.prepare(`PRAGMA table_info("${name.replaceAll('"', '""')}")`).all() as Column[];
    out.set(
      name,
      cols.map(({ name: n, type, notnull, pk }) => ({ name: n, type: type.toUpperCase(), notnull, pk })),
    );
  }
  return out;
}

const ENTITY_TABLES = contractTables(ENTITY_DDL);
const CATALOG_TABLES = contractTables(CATALOG_DDL);

/** Differences between the contract's tables and a file's; extra tables (writer-private) are allowed. */
function schemaProblems(label: string, db: Database.Database, expected: Map<string, Column[]>): string[] {
  const actual = tableColumns(db);
  const problems: string[] = [];
  for (const [table, cols] of expected) {
    const got = actual.get(table);
    if (!got) {
      problems.push(`${label}: table "${table}" is missing (store contract, contracts/src/store.ts)`);
    } else if (JSON.stringify(got) !== JSON.stringify(cols)) {
      const fmt = (c: Column[]) =>
        c.map((x) => `${x.name} ${x.type}${x.notnull ? ' NOT NULL' : ''}${x.pk ? ' PK' : ''}`).join(', ');
      problems.push(`${label}: table "${table}" has columns (${fmt(got)}), the contract says (${fmt(cols)})`);
    }
  }
  return problems;
}

function integrityProblems(label: string, db: Database.Database): string[] {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  if (rows.length === 1 && rows[0].integrity_check === 'ok') return [];
  return [
    `${label}: PRAGMA integrity_check failed: ${rows
      .map((r) => r.integrity_check)
      .slice(0, 3)
      .join('; ')}`,
  ];
}

/**
 * SQLite header bytes 18/19 are 2 in WAL mode. The image is mounted read-only, and a WAL database cannot be
 * opened from a read-only directory, so published files must be in rollback (DELETE) mode.
 */
function journalModeProblem(label: string, path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(20);
    const n = readSync(fd, header, 0, 20, 0);
    if (n < 20 || header.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
      return `${label}: not an SQLite database (bad header)`;
    }
    if (header[18] === 2 || header[19] === 2) {
      return `${label}: is in WAL journal mode; read-only consumers need journal_mode=DELETE`;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function openReadonly(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true });
}

function metaMap(db: Database.Database): Map<string, string> {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  return new Map(rows.map((r) => [r.key, r.value]));
}

function checkCatalog(dataDir: string, problems: string[]) {
  const path = join(dataDir, CATALOG_FILE);
  if (!existsSync(path)) {
    problems.push(`${CATALOG_FILE}: missing`);
    return null;
  }
  const sidecars = ['-wal', '-journal'].filter((s) => existsSync(path + s));
  if (sidecars.length > 0)
    problems.push(`${CATALOG_FILE}: has ${sidecars.join(', ')} beside it (a writer is running or crashed)`);
  const modeProblem = journalModeProblem(CATALOG_FILE, path);
  if (modeProblem) {
    problems.push(modeProblem);
    if (modeProblem.includes('not an SQLite')) return null;
  }
  let db: Database.Database | undefined;
  try {
    db = openReadonly(path);
    const integrity = integrityProblems(CATALOG_FILE, db);
    if (integrity.length > 0) {
      problems.push(...integrity);
      return null;
    }
    const schema = schemaProblems(CATALOG_FILE, db, CATALOG_TABLES);
    if (schema.length > 0) {
      problems.push(...schema);
      return null;
    }
    const meta = metaMap(db);
    const schemaVersion = Number(meta.get('schema_version'));
    if (schemaVersion !== STORE_SCHEMA_VERSION) {
      problems.push(
        `${CATALOG_FILE}: meta schema_version is ${meta.get('schema_version') ?? 'missing'}, expected ${STORE_SCHEMA_VERSION}`,
      );
    }
    const dataVersion = meta.get(CATALOG_DATA_VERSION_KEY) ?? '';
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(dataVersion)) {
      problems.push(
        `${CATALOG_FILE}: meta ${CATALOG_DATA_VERSION_KEY} is missing or not a plain token ("${dataVersion}")`,
      );
    }
    const hasPublishLog =
      (db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'publish_log'").pluck().get() as number) >
      0;
    if (hasPublishLog) {
      const pending = db.prepare('SELECT code FROM publish_log ORDER BY code').pluck().all() as string[];
      if (pending.length > 0) {
        problems.push(
          `${CATALOG_FILE}: an interrupted publish left intents for ${pending.join(', ')}; reopen the store with the writer to repair it`,
        );
      }
    }
    const rows = db.prepare('SELECT * FROM entities ORDER BY code').all() as Record<string, unknown>[];
    const entries: CatalogEntry[] = [];
    for (const row of rows) {
      const parsed = catalogEntrySchema.safeParse(row);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        problems.push(`${CATALOG_FILE}: row ${JSON.stringify(row.code)} breaks the contract (${why})`);
      } else {
        entries.push(parsed.data);
      }
    }
    return { dataVersion, schemaVersion, entries };
  } catch (err) {
    problems.push(`${CATALOG_FILE}: cannot be read (${(err as Error).message})`);
    return null;
  } finally {
    db?.close();
  }
}

function checkEntityContent(label: string, path: string, entry: CatalogEntry, problems: string[]): void {
  let db: Database.Database | undefined;
  try {
    db = openReadonly(path);
    const integrity = integrityProblems(label, db);
    if (integrity.length > 0) {
      problems.push(...integrity);
      return;
    }
    const schema = schemaProblems(label, db, ENTITY_TABLES);
    if (schema.length > 0) {
      problems.push(...schema);
      return;
    }
    const meta = metaMap(db);
    const missing = ENTITY_META_KEYS.filter((k) => !meta.has(k));
    if (missing.length > 0) problems.push(`${label}: meta lacks ${missing.join(', ')}`);
    if (meta.has('code') && meta.get('code') !== entry.code) {
      problems.push(`${label}: meta code is "${meta.get('code')}", the file name says "${entry.code}"`);
    }
    if (meta.has('schema_version') && Number(meta.get('schema_version')) !== ENTITY_SCHEMA_VERSION) {
      problems.push(
        `${label}: meta schema_version is ${meta.get('schema_version')}, expected ${ENTITY_SCHEMA_VERSION}`,
      );
    }
    const stats = db
      .prepare('SELECT count(*) AS n, min(date) AS first, max(date) AS last FROM prices')
      .get() as {
      n: number;
      first: string | null;
      last: string | null;
    };
    if (stats.n !== entry.row_count) {
      problems.push(`${label}: has ${stats.n} price rows, the catalog says ${entry.row_count}`);
    }
    if (stats.n > 0 && (stats.first !== entry.first_date || stats.last !== entry.last_date)) {
      problems.push(
        `${label}: prices span ${stats.first}..${stats.last}, the catalog says ${entry.first_date}..${entry.last_date}`,
      );
    }
  } catch (err) {
    problems.push(`${label}: cannot be read (${(err as Error).message})`);
  } finally {
    db?.close();
  }
}

/** Writer temp files: hidden, ending in .tmp (see the store writer); they are not part of the store. */
const TEMP_FILE = /^\..*\.tmp$/;

/**
 * Validates a data directory against the store contract before it is baked into an image: SQLite
 * integrity, the contract's tables, catalog rows ⇔ entity files, each file's sha256, run reports.
 * Throws StoreRejectedError listing every problem.
 */
export async function checkStore(dataDir: string): Promise<CheckedStore> {
  const problems: string[] = [];
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new StoreRejectedError([`${dataDir}: not a directory`]);
  }
  const catalog = checkCatalog(dataDir, problems);
  const skipped: string[] = [];

  const entitiesDir = join(dataDir, ENTITIES_DIR);
  const files = new Map<string, string>();
  if (!existsSync(entitiesDir)) {
    problems.push(`${ENTITIES_DIR}/: missing`);
  } else {
    for (const name of readdirSync(entitiesDir).sort()) {
      const label = `${ENTITIES_DIR}/${name}`;
      if (TEMP_FILE.test(name)) {
        skipped.push(label);
        continue;
      }
      if (name.endsWith('.sqlite-wal') || name.endsWith('.sqlite-journal')) {
        problems.push(`${label}: a journal beside an entity file (a writer is running or crashed)`);
        continue;
      }
      const code = name.endsWith('.sqlite') ? name.slice(0, -'.sqlite'.length) : null;
      if (code === null || !ENTITY_CODE_PATTERN.test(code)) {
        problems.push(`${label}: not <CODE>.sqlite with CODE matching ${ENTITY_CODE_PATTERN}`);
        continue;
      }
      if (!statSync(join(entitiesDir, name)).isFile()) {
        problems.push(`${label}: not a regular file`);
        continue;
      }
      files.set(code, join(entitiesDir, name));
    }
  }

  const entities: CheckedEntity[] = [];
  if (catalog) {
    const listed = new Set(catalog.entries.map((e) => e.code));
    for (const code of files.keys()) {
      if (!listed.has(code)) problems.push(`${ENTITIES_DIR}/${code}.sqlite: has no catalog row`);
    }
    for (const entry of catalog.entries) {
      const path = files.get(entry.code);
      const label = `${ENTITIES_DIR}/${entry.code}.sqlite`;
      if (!path) {
        problems.push(`${label}: listed in the catalog but missing`);
        continue;
      }
      const sha256 = await sha256File(path);
      if (sha256 !== entry.sha256) {
        problems.push(`${label}: sha256 ${sha256} does not match the catalog's ${entry.sha256}`);
        continue;
      }
      const modeProblem = journalModeProblem(label, path);
      if (modeProblem) {
        problems.push(modeProblem);
        continue;
      }
      checkEntityContent(label, path, entry, problems);
      entities.push({ code: entry.code, path, sha256 });
    }
  }

  const runs: string[] = [];
  const runsDir = join(dataDir, RUNS_DIR);
  if (existsSync(runsDir)) {
    for (const name of readdirSync(runsDir).sort()) {
      if (TEMP_FILE.test(name) || !name.endsWith('.json')) {
        skipped.push(`${RUNS_DIR}/${name}`);
        continue;
      }
      try {
        runReportSchema.parse(JSON.parse(readFileSync(join(runsDir, name), 'utf8')));
        runs.push(name);
      } catch (err) {
        problems.push(
          `${RUNS_DIR}/${name}: not a valid run report (${(err as Error).message.split('\n')[0]})`,
        );
      }
    }
  }

  if (problems.length > 0 || !catalog) throw new StoreRejectedError(problems);
  const firsts = catalog.entries
    .filter((e) => e.row_count > 0)
    .map((e) => e.first_date)
    .sort();
  const lasts = catalog.entries
    .filter((e) => e.row_count > 0)
    .map((e) => e.last_date)
    .sort();
  return {
    dataDir,
    dataVersion: catalog.dataVersion,
    schemaVersion: catalog.schemaVersion,
    firstDate: firsts[0] ?? null,
    lastDate: lasts.at(-1) ?? null,
    entities,
    runs,
    skipped,
  };
}
