/** payments: every charge attempt, keyed for idempotency by (provider, what it pays for). */
import { randomUUID } from 'node:crypto';
import type { Executor, PaymentsTable, SubscriptionRow } from '../db/schema.js';
import type { Updateable } from 'kysely';

export interface PaymentInput {
  userId: string | null;
  provider: SubscriptionRow['provider'];
  amountJpy: number;
  status: 'succeeded' | 'failed' | 'pending';
  period?: string | null;
  idempotencyKey?: string | null;
  providerRef?: string | null;
  failureReason?: string | null;
}

/** Returns false when a payment with this idempotency key exists already (a re-run or a duplicate event). */
export async function recordPayment(db: Executor, p: PaymentInput, nowIso: string): Promise<boolean> {
  const r = await db
    .insertInto('payments')
    .values({
      id: randomUUID(),
      user_id: p.userId,
      provider: p.provider,
      amount_jpy: p.amountJpy,
      status: p.status,
      period: p.period ?? null,
      idempotency_key: p.idempotencyKey ?? null,
      provider_ref: p.providerRef ?? null,
      failure_reason: p.failureReason ?? null,
      created_at: nowIso,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function updatePaymentByKey(
  db: Executor,
  idempotencyKey: string,
  set: Updateable<PaymentsTable>,
): Promise<void> {
  await db.updateTable('payments').set(set).where('idempotency_key', '=', idempotencyKey).execute();
}

export function paymentByKey(
  db: Executor,
  idempotencyKey: string,
): Promise<{ status: PaymentsTable['status'] } | undefined> {
  return db
    .selectFrom('payments')
    .select('status')
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

export function paymentByProviderRef(
  db: Executor,
  provider: string,
  providerRef: string,
): Promise<{ idempotency_key: string | null; status: PaymentsTable['status'] } | undefined> {
  return db
    .selectFrom('payments')
    .select(['idempotency_key', 'status'])
    .where('provider', '=', provider)
    .where('provider_ref', '=', providerRef)
    .executeTakeFirst();
}

/** Failed attempts whose key starts with `keyPrefix` and that failed with `reason`. */
export async function countFailures(db: Executor, keyPrefix: string, reason: string): Promise<number> {
  const r = await db
    .selectFrom('payments')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('idempotency_key', 'like', `${keyPrefix}%`)
    .where('failure_reason', '=', reason)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export function paymentsOfUser(db: Executor, userId: string, limit = 50) {
  return db
    .selectFrom('payments')
    .select(['id', 'provider', 'amount_jpy', 'status', 'period', 'created_at', 'failure_reason'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}
