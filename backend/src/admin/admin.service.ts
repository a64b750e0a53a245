/** The operator's view: users and plans, money, failed payments, data freshness, ml-service health. */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DATA_VERSION_KEY, CATALOG_FILE, RUNS_DIR, runReportSchema } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { dataFreshness } from './data-freshness.js';
import { countUsers } from '../auth/users.repo.js';
import * as reports from './admin-reports.repo.js';

export async function overview(ctx: AppContext) {
  const nowIso = new Date(ctx.now()).toISOString();
  const db = ctx.database.kysely;
  const users = await countUsers(db);
  const pro = await reports.countEntitled(db, nowIso);
  const revenue = await reports.revenueByMonth(db);
  let ml: { status: string; health: unknown } = { status: 'down', health: null };
  try {
    const h = await ctx.ml.health();
    ml = { status: h.status, health: h };
  } catch {
    ml = { status: 'down', health: null };
  }
  return {
    users,
    usersByPlan: { free: users - pro, pro },
    revenueByMonth: revenue.map((r) => ({ month: r.month, amountJpy: r.amount, payments: r.n })),
    failedPayments: await reports.countPayments(db, 'failed'),
    pendingPayments: await reports.countPayments(db, 'pending'),
    dataVersion: readDataVersion(ctx.config.storage.dataDir),
    lastScraperRun: lastRun(ctx.config.storage.dataDir),
    dataSources: dataFreshness(ctx.config.storage.dataDir, new Date(ctx.now())),
    ml,
    testMode: ctx.billing.testMode,
  };
}

export function listUsers(ctx: AppContext) {
  return reports.usersWithPlans(ctx.database.kysely, new Date(ctx.now()).toISOString());
}

export function listPayments(ctx: AppContext) {
  return reports.paymentsWithPayers(ctx.database.kysely);
}

function readDataVersion(dataDir: string): string | null {
  const file = join(dataDir, CATALOG_FILE);
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (
      (
        db.prepare('SELECT value FROM meta WHERE key = ?').get(CATALOG_DATA_VERSION_KEY) as
          { value: string } | undefined
      )?.value ?? null
    );
  } catch {
    return null;
  } finally {
    db.close();
  }
}

function lastRun(dataDir: string): unknown {
  const dir = join(dataDir, RUNS_DIR);
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const f of files.reverse()) {
    const r = runReportSchema.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    if (r.success) return r.data;
  }
  return null;
}
