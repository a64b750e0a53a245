/**
 * webhook_events: the provider event ids already applied. Its primary key (provider, event_id) is what
 * applies an event once when two replicas receive it at the same moment: the second INSERT waits for the
 * first transaction, then finds the row and does nothing, so only the first applies the event.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, Executor } from '../db/schema.js';

export interface WebhookEvent {
  provider: string;
  eventId: string;
  type: string;
}

export async function eventSeen(db: Executor, provider: string, eventId: string): Promise<boolean> {
  const row = await db
    .selectFrom('webhook_events')
    .select('event_id')
    .where('provider', '=', provider)
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Records the event id; false means it was recorded before and must not be applied again. */
export async function claimEvent(db: Executor, e: WebhookEvent, nowIso: string): Promise<boolean> {
  const r = await db
    .insertInto('webhook_events')
    .values({ provider: e.provider, event_id: e.eventId, type: e.type, received_at: nowIso })
    .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/**
 * Claims the event and applies it in one transaction: 'duplicate' when it was claimed before (or by a
 * concurrent delivery that committed first), otherwise what apply returned. If apply throws, the claim
 * rolls back with it, so the provider's retry applies the event later.
 */
export async function applyEventOnce<T>(
  db: Kysely<Database>,
  e: WebhookEvent,
  nowIso: string,
  apply: (trx: Transaction<Database>) => Promise<T>,
): Promise<T | 'duplicate'> {
  return db.transaction().execute(async (trx) => {
    if (!(await claimEvent(trx, e, nowIso))) return 'duplicate' as const;
    return apply(trx);
  });
}
