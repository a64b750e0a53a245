/**
 * Copies every app table from one database to another (an operator moving from the SQLite file to
 * PostgreSQL: `npm run db:copy`). One transaction on each side: the source is read from one snapshot,
 * and the target either receives every row and passes the check, or nothing at all. The check compares,
 * per table, the row count and a SHA-256 over every row (sorted by key, each value as JSON), read back
 * from the target inside the same transaction before it commits.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AppDatabase } from './database.js';
import { TABLES, type Database, type TableName } from './schema.js';

export class CopyRefused extends Error {}

export interface TableReport {
  table: TableName;
  rows: number;
  sha256: string;
}

const BATCH = 500;

type Row = Record<string, unknown>;

async function readAll(db: Kysely<Database> | Transaction<Database>, table: TableName): Promise<Row[]> {
  // Kysely's types cannot follow a table name chosen at run time; the rows are plain objects either way.
  const rows = (await (db as Kysely<any>).selectFrom(table).selectAll().execute()) as Row[];
  const key = TABLES.find((t) => t.name === table)!.key;
  const keyOf = (r: Row) => JSON.stringify(key.map((k) => r[k]));
  // Sorted here, not by ORDER BY: the engines' text collations differ, code-unit order does not.
  return rows
    .map((r) => [keyOf(r), r] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
}

/** Count and content hash of one table, the same for equal content on either engine. */
export async function tableDigest(
  db: Kysely<Database> | Transaction<Database>,
  table: TableName,
): Promise<TableReport> {
  const rows = await readAll(db, table);
  const hash = createHash('sha256');
  for (const r of rows) {
    const columns = Object.keys(r).sort();
    hash.update(JSON.stringify(columns.map((c) => [c, r[c] ?? null])) + '\n');
  }
  return { table, rows: rows.length, sha256: hash.digest('hex') };
}

export async function copyDatabase(from: AppDatabase, to: AppDatabase): Promise<TableReport[]> {
  return from.kysely.transaction().execute((src) =>
    to.kysely.transaction().execute(async (dst) => {
      const filled: string[] = [];
      for (const { name } of TABLES) {
        const { n } = await (dst as Transaction<any>)
          .selectFrom(name)
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        if (Number(n) > 0) filled.push(`${name} (${n} rows)`);
      }
      if (filled.length) {
        throw new CopyRefused(
          `the target database is not empty: ${filled.join(', ')}. db:copy only fills an empty database; ` +
            'point --to at a new one (its schema is created by the copy), or empty it yourself first',
        );
      }
      const reports: TableReport[] = [];
      for (const { name } of TABLES) {
        const rows = await readAll(src, name);
        for (let i = 0; i < rows.length; i += BATCH) {
          await (dst as Transaction<any>)
            .insertInto(name)
            .values(rows.slice(i, i + BATCH))
            .execute();
        }
        const want = await tableDigest(src, name);
        const got = await tableDigest(dst, name);
        if (want.rows !== got.rows || want.sha256 !== got.sha256) {
          throw new Error(
            `verification failed for ${name}: source ${want.rows} rows ${want.sha256.slice(0, 12)}, ` +
              `target ${got.rows} rows ${got.sha256.slice(0, 12)}; nothing was written`,
          );
        }
        reports.push(got);
      }
      return reports;
    }),
  );
}
