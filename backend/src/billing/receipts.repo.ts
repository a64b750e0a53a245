/** receipts: one per successful payment, written once (the payment id is the key) and never changed. */
import type { Executor, ReceiptsTable } from '../db/schema.js';

/** Succeeded payments of a user that have no receipt yet, oldest first. */
export function paymentsWithoutReceipt(db: Executor, userId: string) {
  return db
    .selectFrom('payments')
    .leftJoin('receipts', 'receipts.payment_id', 'payments.id')
    .select(['payments.id', 'payments.amount_jpy', 'payments.created_at'])
    .where('payments.user_id', '=', userId)
    .where('payments.status', '=', 'succeeded')
    .where('receipts.payment_id', 'is', null)
    .orderBy('payments.created_at', 'asc')
    .execute();
}

/** A second writer issuing the same receipt at the same moment is a no-op, not an error. */
export async function insertReceipt(db: Executor, r: ReceiptsTable): Promise<void> {
  await db
    .insertInto('receipts')
    .values(r)
    .onConflict((oc) => oc.column('payment_id').doNothing())
    .execute();
}

/** A user's receipt with the payment and account facts it prints; undefined when it is not theirs. */
export function receiptOfUser(db: Executor, userId: string, paymentId: string) {
  return db
    .selectFrom('receipts')
    .innerJoin('payments', 'payments.id', 'receipts.payment_id')
    .innerJoin('users', 'users.id', 'receipts.user_id')
    .select([
      'receipts.payment_id',
      'receipts.number',
      'receipts.plan',
      'receipts.amount_jpy',
      'receipts.tax_rate_percent',
      'receipts.tax_jpy',
      'receipts.issuer_name',
      'receipts.registration_number',
      'receipts.issued_at',
      'payments.provider',
      'payments.period',
      'payments.created_at as paid_at',
      'users.email',
      'users.receipt_name',
    ])
    .where('receipts.payment_id', '=', paymentId)
    .where('receipts.user_id', '=', userId)
    .executeTakeFirst();
}

/** Which of a user's payments have a receipt (the account page links those). */
export async function receiptIdsOfUser(db: Executor, userId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('receipts').select('payment_id').where('user_id', '=', userId).execute();
  return new Set(rows.map((r) => r.payment_id));
}
