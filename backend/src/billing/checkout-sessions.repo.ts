/** checkout_sessions: a started checkout until the provider says paid, declined or expired. */
import type { PlanId } from '@resemble/contracts';
import type { CheckoutSessionsTable, Executor } from '../db/schema.js';
import type { Selectable } from 'kysely';

export type CheckoutSessionRow = Selectable<CheckoutSessionsTable>;

export async function openCheckoutSession(
  db: Executor,
  s: { id: string; userId: string; provider: string; plan: PlanId },
  nowIso: string,
): Promise<void> {
  await db
    .insertInto('checkout_sessions')
    .values({
      id: s.id,
      user_id: s.userId,
      provider: s.provider,
      plan: s.plan,
      status: 'open',
      created_at: nowIso,
    })
    .execute();
}

export function checkoutSession(
  db: Executor,
  id: string,
  provider: string,
): Promise<CheckoutSessionRow | undefined> {
  return db
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('id', '=', id)
    .where('provider', '=', provider)
    .executeTakeFirst();
}

/** Closes an open session; false when it was no longer open (a concurrent completion won). */
export async function closeCheckoutSession(
  db: Executor,
  id: string,
  status: 'completed' | 'declined' | 'expired',
  providerRef?: string,
): Promise<boolean> {
  const r = await db
    .updateTable('checkout_sessions')
    .set(providerRef === undefined ? { status } : { status, provider_ref: providerRef })
    .where('id', '=', id)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
