/** subscriptions: one row per user (the provider-neutral state of their paid plan). */
import { randomUUID } from 'node:crypto';
import type { PlanId } from '@resemble/contracts';
import { prepared, preparedByCount } from '../db/prepared-query.js';
import { turnBatch } from '../db/turn-batch.js';
import type { Executor, SubscriptionRow, SubscriptionUpdate } from '../db/schema.js';

export type { SubscriptionRow } from '../db/schema.js';

export interface SubscriptionState {
  userId: string;
  plan: PlanId;
  provider: SubscriptionRow['provider'];
  status: SubscriptionRow['status'];
  customerId?: string | null;
  providerSubscriptionId?: string | null;
  periodStart: string;
  periodEnd: string;
  cancelAtPeriodEnd: boolean;
}

export async function upsertSubscription(db: Executor, s: SubscriptionState, nowIso: string): Promise<void> {
  await db
    .insertInto('subscriptions')
    .values({
      id: randomUUID(),
      user_id: s.userId,
      plan: s.plan,
      provider: s.provider,
      status: s.status,
      provider_customer_id: s.customerId ?? null,
      provider_subscription_id: s.providerSubscriptionId ?? null,
      current_period_start: s.periodStart,
      current_period_end: s.periodEnd,
      cancel_at_period_end: s.cancelAtPeriodEnd ? 1 : 0,
      created_at: nowIso,
      updated_at: nowIso,
    })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet((eb) => ({
        plan: eb.ref('excluded.plan'),
        provider: eb.ref('excluded.provider'),
        status: eb.ref('excluded.status'),
        provider_customer_id: eb.fn.coalesce(
          'excluded.provider_customer_id',
          'subscriptions.provider_customer_id',
        ),
        provider_subscription_id: eb.ref('excluded.provider_subscription_id'),
        current_period_start: eb.ref('excluded.current_period_start'),
        current_period_end: eb.ref('excluded.current_period_end'),
        cancel_at_period_end: eb.ref('excluded.cancel_at_period_end'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

export function subscriptionOfUser(db: Executor, userId: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

const planColumnsQuery = prepared(1, (db, userId: string) =>
  db
    .selectFrom('subscriptions')
    .select(['plan', 'status', 'current_period_end'])
    .where('user_id', '=', userId),
);

type PlanColumns = Pick<SubscriptionRow, 'plan' | 'status' | 'current_period_end'>;

/** Several users' plan columns; one compiled text per count of users (db/prepared-query.ts). */
const planColumnsOfUsersQuery = preparedByCount(
  (n) => n,
  () =>
    (db, ...userIds: string[]) =>
      db
        .selectFrom('subscriptions')
        .select(['user_id', 'plan', 'status', 'current_period_end'])
        .where('user_id', 'in', userIds),
);

/**
 * The plan checks of one event-loop turn as one statement (db/turn-batch.ts): on PostgreSQL every
 * search runs one, and under load many of them, often of the same user, arrive together. user_id is
 * unique in subscriptions, so each user has at most one row.
 */
const planColumnsBatch = turnBatch<string, PlanColumns | undefined>(async (db, userIds) => {
  const unique = [...new Set(userIds)];
  if (unique.length === 1) {
    const row = (await planColumnsQuery(db, unique[0]!)).rows[0];
    return userIds.map(() => row);
  }
  const { rows } = await planColumnsOfUsersQuery(unique.length)(db, ...unique);
  const byUser = new Map(rows.map(({ user_id, ...columns }): [string, PlanColumns] => [user_id, columns]));
  return userIds.map((id) => byUser.get(id));
});

/** The three columns a plan check needs (every search runs it: compiled once, db/prepared-query.ts). */
export async function planColumnsOfUser(db: Executor, userId: string): Promise<PlanColumns | undefined> {
  const batch = planColumnsBatch(db);
  return batch ? batch.load(userId) : (await planColumnsQuery(db, userId)).rows[0];
}

export function subscriptionByProviderRef(
  db: Executor,
  provider: SubscriptionRow['provider'],
  providerSubscriptionId: string,
): Promise<SubscriptionRow | undefined> {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_subscription_id', '=', providerSubscriptionId)
    .executeTakeFirst();
}

export async function userOfCustomer(
  db: Executor,
  provider: SubscriptionRow['provider'],
  customerId: string,
): Promise<string | null> {
  const r = await db
    .selectFrom('subscriptions')
    .select('user_id')
    .where('provider', '=', provider)
    .where('provider_customer_id', '=', customerId)
    .executeTakeFirst();
  return r?.user_id ?? null;
}

/** Subscriptions of a provider whose paid period has ended by `nowIso`, in the given states. */
export function subscriptionsDue(
  db: Executor,
  provider: SubscriptionRow['provider'],
  statuses: SubscriptionRow['status'][],
  nowIso: string,
): Promise<SubscriptionRow[]> {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('provider', '=', provider)
    .where('status', 'in', statuses)
    .where('current_period_end', '<=', nowIso)
    .execute();
}

/**
 * Changes one subscription; `where` narrows it further (e.g. only while the period end is still the
 * one read, so two renewals cannot both extend it). Returns whether a row changed.
 */
export async function updateSubscription(
  db: Executor,
  id: string,
  set: SubscriptionUpdate,
  where: { currentPeriodEnd?: string; status?: SubscriptionRow['status'] } = {},
): Promise<boolean> {
  let q = db.updateTable('subscriptions').set(set).where('id', '=', id);
  if (where.currentPeriodEnd !== undefined) q = q.where('current_period_end', '=', where.currentPeriodEnd);
  if (where.status !== undefined) q = q.where('status', '=', where.status);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function updateSubscriptionByProviderRef(
  db: Executor,
  provider: SubscriptionRow['provider'],
  providerSubscriptionId: string,
  set: SubscriptionUpdate,
  onlyStatus?: SubscriptionRow['status'],
): Promise<void> {
  let q = db
    .updateTable('subscriptions')
    .set(set)
    .where('provider', '=', provider)
    .where('provider_subscription_id', '=', providerSubscriptionId);
  if (onlyStatus) q = q.where('status', '=', onlyStatus);
  await q.execute();
}

/** Subscriptions by provider and status, for the operator view. */
export async function countSubscriptions(
  db: Executor,
  where: { provider?: SubscriptionRow['provider']; status?: SubscriptionRow['status']; endsAfter?: string },
): Promise<number> {
  let q = db.selectFrom('subscriptions').select((e) => e.fn.countAll<number>().as('n'));
  if (where.provider) q = q.where('provider', '=', where.provider);
  if (where.status) q = q.where('status', '=', where.status);
  if (where.endsAfter) q = q.where('current_period_end', '>', where.endsAfter);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export function addMonths(iso: string, months: number): string {
  const d = new Date(iso);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.toISOString();
}
