import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { ENTITY_DDL, ENTITY_META_KEYS, STORE_SCHEMA_VERSION, type EntityMeta } from '@resemble/contracts';
import { rebuildAdjusted, type Adjustment } from './adjust.js';
import type { RowInput } from './validate.js';

/** Everything an entity file holds, as plain objects. */
export interface EntityContent {
  meta: EntityMeta & { updated_at: string; schema_version: number };
  raw: RowInput[];
  adjustments: Adjustment[];
}

/** Temp files start with '.' (codes never do) and end in `.tmp`, so readers globbing `*.sqlite` skip them. */
export function tempPathFor(finalPath: string): string {
  const base = finalPath.slice(dirname(finalPath).length + 1);
  return join(dirname(finalPath), `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}
export const TEMP_FILE_PATTERN = /^\.(.+\.sqlite)\.(\d+)\.[0-9a-f]+\.tmp$/;

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Writes a complete entity file at `tmpPath`. Durability pragmas are off because nobody can see this
 * file until it is fsynced and renamed into place; it is switched back to journal_mode=DELETE so
 * readers can open the published file read-only.
 */
export function buildEntityFile(tmpPath: string, content: EntityContent): void {
  const db = new Database(tmpPath);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(ENTITY_DDL);
    const insertMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    const insertRaw = db.prepare(
      'INSERT INTO raw_prices (date, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertAdj = db.prepare(
      'INSERT INTO adjustments (ex_date, kind, factor, detected_at) VALUES (?, ?, ?, ?)',
    );
    db.transaction(() => {
      const m = content.meta;
      const values: Record<(typeof ENTITY_META_KEYS)[number], string> = {
        schema_version: String(STORE_SCHEMA_VERSION),
        code: m.code,
        name: m.name,
        market: m.market,
        currency: m.currency,
        updated_at: m.updated_at,
      };
      for (const key of ENTITY_META_KEYS) insertMeta.run(key, values[key]);
      for (const r of content.raw) insertRaw.run(r.date, r.open, r.high, r.low, r.close, r.volume);
      for (const a of content.adjustments) insertAdj.run(a.exDate, a.kind, a.factor, m.updated_at);
      rebuildAdjusted(db);
    })();
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

/** Atomic publish: the file is durable before the rename, and the rename is durable before we return. */
export function publishFile(tmpPath: string, finalPath: string): void {
  try {
    fsyncPath(tmpPath);
    renameSync(tmpPath, finalPath);
  } catch (err) {
    rmSync(tmpPath, { force: true });
    throw err;
  }
  fsyncPath(dirname(finalPath));
}

export function openEntityReadonly(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true });
}

export function readEntityContent(path: string): EntityContent {
  const db = openEntityReadonly(path);
  try {
    const metaRows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    const meta = Object.fromEntries(metaRows.map((r) => [r.key, r.value]));
    const raw = db
      .prepare('SELECT date, open, high, low, close, volume FROM raw_prices ORDER BY date')
      .all() as RowInput[];
    const adjustments = db
      .prepare('SELECT ex_date AS exDate, kind, factor FROM adjustments ORDER BY ex_date')
      .all() as Adjustment[];
    return {
      meta: {
        code: meta.code ?? '',
        name: meta.name ?? '',
        market: meta.market ?? '',
        currency: meta.currency ?? '',
        updated_at: meta.updated_at ?? '',
        schema_version: Number(meta.schema_version ?? STORE_SCHEMA_VERSION),
      },
      raw,
      adjustments,
    };
  } finally {
    db.close();
  }
}

/** Summary figures of a published entity file, used to (re)build its catalog row. */
export function summarizeEntityFile(path: string): {
  meta: Record<string, string>;
  rowCount: number;
  firstDate: string | null;
  lastDate: string | null;
} {
  const db = openEntityReadonly(path);
  try {
    const metaRows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    const s = db.prepare('SELECT COUNT(*) AS n, MIN(date) AS first, MAX(date) AS last FROM prices').get() as {
      n: number;
      first: string | null;
      last: string | null;
    };
    return {
      meta: Object.fromEntries(metaRows.map((r) => [r.key, r.value])),
      rowCount: s.n,
      firstDate: s.first,
      lastDate: s.last,
    };
  } finally {
    db.close();
  }
}
