import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../src/db/schema.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { currentPlan, planOf } from '../src/plans/entitlements.js';
import { buildPlans } from '../src/plans/plans.js';
import { loadConfig } from '../src/config.js';
import { ENGINES, testDatabases } from './support/test-db.js';

describe.each(ENGINES)('currentPlan (the search path) agrees with planOf on %s', (engine) => {
  const dbs = testDatabases();
  let db: Kysely<Database>;
  beforeAll(async () => {
    const database = await dbs.open(engine);
    await migrateToLatest(database);
    db = database.kysely;
  });
  afterAll(() => dbs.closeAll());

  it('for every status, a period ended or not, and no subscription at all', async () => {
    const plans = buildPlans(loadConfig({ APP_DB: ':memory:' }));
    const now = Date.UTC(2026, 5, 1);
    const ends = [
      '2026-05-31T23:59:59.000Z',
      '2026-06-01T00:00:00.000Z',
      '2026-06-01T00:00:00.001Z',
      '2026-07-01T00:00:00.000Z',
    ];
    let n = 0;
    const insertUser = (id: string, email: string) =>
      db.insertInto('users').values({ id, email, password_hash: 'x', created_at: '2026-01-01' }).execute();
    const insertSub = (
      id: string,
      userId: string,
      status: 'active' | 'past_due' | 'canceled' | 'incomplete',
      end: string,
    ) =>
      db
        .insertInto('subscriptions')
        .values({
          id,
          user_id: userId,
          plan: 'pro',
          provider: 'sandbox',
          status,
          current_period_start: '2026-05-01T00:00:00.000Z',
          current_period_end: end,
          created_at: 'x',
          updated_at: 'x',
        })
        .execute();
    await insertUser('nobody', 'nobody@example.com');
    expect(await currentPlan(db, plans, 'nobody', now)).toBe((await planOf(db, plans, 'nobody', now)).plan);
    for (const status of ['active', 'past_due', 'canceled', 'incomplete'] as const) {
      for (const end of ends) {
        const id = `u${n++}`;
        await insertUser(id, `${id}@example.com`);
        await insertSub(`s-${id}`, id, status, end);
        expect(await currentPlan(db, plans, id, now)).toBe((await planOf(db, plans, id, now)).plan);
      }
    }
    expect((await currentPlan(db, plans, 'u3', now)).id).toBe('pro');
    expect((await currentPlan(db, plans, 'u1', now)).id).toBe('free');

    // Asked all at once (on PostgreSQL one statement for the lot, db/turn-batch.ts), repeats and a user
    // without any row included: each gets the plan it gets alone.
    const ids = ['nobody', ...Array.from({ length: n }, (_, i) => `u${i}`), 'u3', 'ghost', 'u1'];
    const together = await Promise.all(ids.map((id) => currentPlan(db, plans, id, now)));
    for (const [i, id] of ids.entries())
      expect(together[i], id).toBe((await planOf(db, plans, id, now)).plan);
    expect(together.filter((p) => p.id === 'pro').length).toBeGreaterThan(2);
  });
});
