/** The operator's view: users and plans, money, failed payments, data freshness, ml-service health. */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_DATA_VERSION_KEY, CATALOG_FILE, RUNS_DIR, runReportSchema } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { dataFreshness } from './data-freshness.js';

export async function overview(ctx: AppContext) {
  const nowIso = new Date(ctx.now()).toISOString();
  const users = (ctx.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  const pro = (
    ctx.db
      .prepare(
        "SELECT COUNT(*) AS n FROM subscriptions WHERE status IN ('active','past_due') AND current_period_end > ?",
      )
      .get(nowIso) as { n: number }
  ).n;
  const revenue = ctx.db
    .prepare(
      "SELECT substr(created_at, 1, 7) AS month, SUM(amount_jpy) AS amount, COUNT(*) AS n FROM payments WHERE status = 'succeeded' GROUP BY month ORDER BY month DESC LIMIT 24",
    )
    .all() as { month: string; amount: number; n: number }[];
  const count = (status: string) =>
    (ctx.db.prepare('SELECT COUNT(*) AS n FROM payments WHERE status = ?').get(status) as { n: number }).n;
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
    failedPayments: count('failed'),
    pendingPayments: count('pending'),
    dataVersion: readDataVersion(ctx.config.storage.dataDir),
    lastScraperRun: lastRun(ctx.config.storage.dataDir),
    dataSources: dataFreshness(ctx.config.storage.dataDir, new Date(ctx.now())),
    ml,
    testMode: ctx.billing.testMode,
  };
}

export function listUsers(ctx: AppContext) {
  const nowIso = new Date(ctx.now()).toISOString();
  return ctx.db
    .prepare(
      `SELECT u.id, u.email, u.role, u.email_verified AS emailVerified, u.created_at AS createdAt,
        CASE WHEN s.status IN ('active','past_due') AND s.current_period_end > ? THEN s.plan ELSE 'free' END AS plan,
        s.provider, s.status AS subscriptionStatus
       FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id ORDER BY u.created_at DESC LIMIT 500`,
    )
    .all(nowIso);
}

export function listPayments(ctx: AppContext) {
  return ctx.db
    .prepare(
      `SELECT p.id, p.provider, p.amount_jpy AS amountJpy, p.status, p.period, p.failure_reason AS failureReason, p.created_at AS createdAt, u.email
       FROM payments p LEFT JOIN users u ON u.id = p.user_id ORDER BY p.created_at DESC LIMIT 500`,
    )
    .all();
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
