/**
 * A provider event applied once however many deliveries race: the webhook_events primary key decides,
 * not timing. On PostgreSQL the deliveries run on separate connections at the same moment, as two
 * replicas would; the one that loses waits for the winner's commit and then does nothing.
 */
import { sql, type Transaction } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database } from '../src/db/schema.js';
import { applyEventOnce } from '../src/billing/webhook-events.repo.js';
import { ENGINES, testDatabases } from './support/test-db.js';

const dbs = testDatabases();
afterAll(() => dbs.closeAll());

describe.each(ENGINES)('a webhook event on %s', (engine) => {
  const event = { provider: 'stripe', eventId: 'evt_race', type: 'invoice.paid' };
  const payment = (id: string) => async (trx: Transaction<Database>) => {
    // Long enough that every delivery is inside its transaction before the first commits.
    if (engine === 'postgres') await sql`SELECT pg_sleep(0.2)`.execute(trx);
    await trx
      .insertInto('payments')
      .values({
        id,
        user_id: null,
        provider: 'stripe',
        amount_jpy: 1480,
        status: 'succeeded',
        created_at: 'now',
      })
      .execute();
    return 'applied' as const;
  };

  it('delivered 8 times at once is applied once', async () => {
    const db = await dbs.open(engine);
    await migrateToLatest(db);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => applyEventOnce(db.kysely, event, 'now', payment(`p${i}`))),
    );
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(7);
    expect(await db.kysely.selectFrom('payments').select('id').execute()).toHaveLength(1);
    expect(await db.kysely.selectFrom('webhook_events').selectAll().execute()).toHaveLength(1);
  });

  it('that failed to apply is not marked seen: the provider’s retry applies it', async () => {
    const db = await dbs.open(engine);
    await migrateToLatest(db);
    await expect(
      applyEventOnce(db.kysely, event, 'now', async (trx) => {
        await payment('p-lost')(trx);
        throw new Error('provider answered 500');
      }),
    ).rejects.toThrow('provider answered 500');
    expect(await db.kysely.selectFrom('webhook_events').selectAll().execute()).toEqual([]);
    expect(await db.kysely.selectFrom('payments').selectAll().execute()).toEqual([]);
    expect(await applyEventOnce(db.kysely, event, 'now', payment('p-retry'))).toBe('applied');
    expect(await applyEventOnce(db.kysely, event, 'now', payment('p-again'))).toBe('duplicate');
    expect((await db.kysely.selectFrom('payments').select('id').execute()).map((r) => r.id)).toEqual([
      'p-retry',
    ]);
  });
});
