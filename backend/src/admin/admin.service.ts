/** The operator's view: users and plans, money, failed payments, data freshness, ml-service health. */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DATA_VERSION_KEY, CATALOG_FILE, RUNS_DIR, runReportSchema } from '@resemble/contracts';
import type { Executor } from '../db/schema.js';
import type { BillingService } from '../billing/billing.service.js';
import type { MlClient } from '../search/ml.client.js';
import { dataFreshness } from './data-freshness.js';
import { countUsers } from '../auth/users.repo.js';
import * as reports from './admin-reports.repo.js';

export interface AdminDeps {
  db: Executor;
  ml: Pick<MlClient, 'health'>;
  billing: Pick<BillingService, 'testMode'>;
  /** The market data directory: its catalog, run reports and sources' freshness. */
  dataDir: string;
  now: () => number;
}

export async function overview(deps: AdminDeps) {
  const { db, dataDir, now } = deps;
  const nowIso = new Date(now()).toISOString();
  const users = await countUsers(db);
  const pro = await reports.countEntitled(db, nowIso);
  const revenue = await reports.revenueByMonth(db);
  let ml: { status: string; health: unknown } = { status: 'down', health: null };
  try {
    const h = await deps.ml.health();
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
    dataVersion: readDataVersion(dataDir),
    lastScraperRun: lastRun(dataDir),
    dataSources: dataFreshness(dataDir, new Date(now())),
    ml,
    testMode: deps.billing.testMode,
  };
}

export function listUsers(deps: Pick<AdminDeps, 'db' | 'now'>) {
  return reports.usersWithPlans(deps.db, new Date(deps.now()).toISOString());
}

export function listPayments(db: Executor) {
  return reports.paymentsWithPayers(db);
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
