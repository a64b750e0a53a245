/**
 * Moves the app database to PostgreSQL (or another SQLite file):
 *   npm run db:copy -w backend -- --from data/app.sqlite --to postgres://user@host/resemble
 * Stop backend first. The source is migrated to the current schema (as backend would on start), the
 * target gets the schema, then every table is copied in one transaction and verified row for row
 * (count and SHA-256 per table) before it commits. A target with any row in it is refused.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dbTarget } from '../db/db-target.js';
import { openDatabase, type AppDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { copyDatabase, CopyRefused } from '../db/copy.js';

const USAGE = 'usage: db:copy --from <app.sqlite> --to <postgres://… | other.sqlite>';

function target(arg: string) {
  return dbTarget(/^postgres(ql)?:\/\//.test(arg) ? arg : undefined, arg);
}

async function main(argv: string[]): Promise<number> {
  let values: { from?: string; to?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' } } }));
  } catch (err) {
    console.error(`db:copy: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.from || !values.to) {
    console.error(USAGE);
    return 2;
  }
  const from = target(values.from);
  if (from.engine === 'sqlite' && !existsSync(from.file)) {
    console.error(`db:copy: --from ${from.file} does not exist`);
    return 2;
  }
  const dbs: AppDatabase[] = [];
  try {
    const src = openDatabase(from, 1);
    dbs.push(src);
    const dst = openDatabase(target(values.to), 1);
    dbs.push(dst);
    await migrateToLatest(src);
    await migrateToLatest(dst);
    const reports = await copyDatabase(src, dst);
    for (const r of reports)
      console.log(`${r.table.padEnd(18)} ${String(r.rows).padStart(8)} rows  sha256 ${r.sha256}`);
    const total = reports.reduce((n, r) => n + r.rows, 0);
    console.log(`db:copy: copied and verified ${total} rows in ${reports.length} tables`);
    return 0;
  } catch (err) {
    console.error(`db:copy: ${err instanceof CopyRefused ? 'refused: ' : ''}${(err as Error).message}`);
    return 1;
  } finally {
    for (const d of dbs) await d.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
