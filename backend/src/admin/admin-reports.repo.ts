/**
 * Read-only reports for the operator view that span tables (users with their plan, payments with their
 * payer's e-mail, revenue by month); each table's own writes stay in its repository.
 */
import { sql } from 'kysely';
import type { Executor } from '../db/schema.js';

export async function countEntitled(db: Executor, nowIso: string): Promise<number> {
  const r = await db
    .selectFrom('subscriptions')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('status', 'in', ['active', 'past_due'])
    .where('current_period_end', '>', nowIso)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function revenueByMonth(db: Executor, months = 24) {
  const month = sql<string>`substr(created_at, 1, 7)`;
  const rows = await db
    .selectFrom('payments')
    .select([
      month.as('month'),
      (e) => e.fn.sum<number>('amount_jpy').as('amount'),
      (e) => e.fn.countAll<number>().as('n'),
    ])
    .where('status', '=', 'succeeded')
    .groupBy(month)
    .orderBy(month, 'desc')
    .limit(months)
    .execute();
  // PostgreSQL's SUM of integers is NUMERIC, handed over as a string.
  return rows.map((r) => ({ month: r.month, amount: Number(r.amount), n: Number(r.n) }));
}

export async function countPayments(
  db: Executor,
  status: 'succeeded' | 'failed' | 'pending',
): Promise<number> {
  const r = await db
    .selectFrom('payments')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export function usersWithPlans(db: Executor, nowIso: string, limit = 500) {
  return db
    .selectFrom('users as u')
    .leftJoin('subscriptions as s', 's.user_id', 'u.id')
    .select((eb) => [
      'u.id',
      'u.email',
      'u.role',
      'u.email_verified as emailVerified',
      'u.created_at as createdAt',
      eb
        .case()
        .when(eb.and([eb('s.status', 'in', ['active', 'past_due']), eb('s.current_period_end', '>', nowIso)]))
        .then(eb.ref('s.plan'))
        .else(sql<'free'>`'free'`)
        .end()
        .as('plan'),
      's.provider',
      's.status as subscriptionStatus',
    ])
    .orderBy('u.created_at', 'desc')
    .limit(limit)
    .execute();
}

export function paymentsWithPayers(db: Executor, limit = 500) {
  return db
    .selectFrom('payments as p')
    .leftJoin('users as u', 'u.id', 'p.user_id')
    .select([
      'p.id',
      'p.provider',
      'p.amount_jpy as amountJpy',
      'p.status',
      'p.period',
      'p.failure_reason as failureReason',
      'p.created_at as createdAt',
      'u.email',
    ])
    .orderBy('p.created_at', 'desc')
    .limit(limit)
    .execute();
}
