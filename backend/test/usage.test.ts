import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { UsageService } from '../src/plans/usage.service.js';
import { AppError } from '../src/platform/errors.js';
import { ENGINES, testDatabases } from './support/test-db.js';

describe.each(ENGINES)('UsageService (daily quota) on %s', (engine) => {
  const dbs = testDatabases();
  let db: AppDatabase;
  let now = Date.UTC(2026, 0, 1, 23, 59, 0);
  beforeEach(async () => {
    now = Date.UTC(2026, 0, 1, 23, 59, 0);
    db = await dbs.open(engine);
    await migrateToLatest(db);
    await db.kysely
      .insertInto('users')
      .values({ id: 'u1', email: 'u1@example.com', password_hash: 'x', created_at: '2026-01-01' })
      .execute();
  });
  afterAll(() => dbs.closeAll());

  it('takes exactly the quota; a refused search leaves the count where it was', async () => {
    const usage = new UsageService(db.kysely, () => now);
    for (let i = 0; i < 3; i++) await usage.consume('u1', 3);
    let err: unknown;
    for (let i = 0; i < 4; i++) {
      try {
        await usage.consume('u1', 3);
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      status: 429,
      code: 'quota_exceeded',
      details: { quota: 3, used: 3, resetsAt: '2026-01-02T00:00:00.000Z' },
    });
    expect(await usage.searchesToday('u1')).toBe(3);
  });

  it('holds under 20 concurrent searches against a quota of 5', async () => {
    const usage = new UsageService(db.kysely, () => now);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => usage.consume('u1', 5)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(
      results.filter((r) => r.status === 'rejected' && (r.reason as AppError).status === 429),
    ).toHaveLength(15);
    expect(await usage.searchesToday('u1')).toBe(5);
  });

  it('counts unlimited searches, runs a quota function before counting, refunds, and starts again each UTC day', async () => {
    const usage = new UsageService(db.kysely, () => now);
    for (let i = 0; i < 7; i++) await usage.consume('u1', null);
    expect(await usage.searchesToday('u1')).toBe(7);
    // A plan check that throws takes nothing.
    await expect(
      usage.consume('u1', () => {
        throw new AppError(403, 'plan_limit', 'no');
      }),
    ).rejects.toThrow('no');
    expect(await usage.searchesToday('u1')).toBe(7);
    // A downgraded user already past the free quota is refused with the real count.
    await expect(usage.consume('u1', () => 5)).rejects.toThrow(
      expect.objectContaining({ details: expect.objectContaining({ used: 7 }) }),
    );
    const day = await usage.consume('u1', null);
    await usage.refund('u1', day);
    expect(await usage.searchesToday('u1')).toBe(7);
    now += 60_000;
    expect(await usage.searchesToday('u1')).toBe(0);
    await usage.consume('u1', 1);
    await expect(usage.consume('u1', 1)).rejects.toThrow(AppError);
    expect(await usage.searchesToday('u1')).toBe(1);
    // A refund never goes below zero.
    await usage.refund('u1', '2026-01-01');
    await usage.refund('u1', '2026-01-01');
    expect(await usage.searchesToday('u1')).toBe(1);
    // A quota of 0 refuses the first search of a day too, and writes nothing.
    now += 86_400_000;
    await expect(usage.consume('u1', 0)).rejects.toThrow(
      expect.objectContaining({ details: expect.objectContaining({ quota: 0, used: 0 }) }),
    );
    expect(await usage.searchesToday('u1')).toBe(0);
  });
});
