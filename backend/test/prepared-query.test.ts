/**
 * db/prepared-query.ts on both engines: a query compiled once answers every call with that call's own
 * arguments, the same rows the query builder gives when it builds the query afresh, also inside a
 * transaction; the query's own constants are kept; a builder whose argument shapes the SQL or is folded
 * into a value is refused.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { prepared } from '../src/db/prepared-query.js';
import type { Executor } from '../src/db/schema.js';
import { ENGINES, testDatabases } from './support/test-db.js';

const usersOf = prepared(2, (db, pattern: string, createdBefore: string) =>
  db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('email', 'like', pattern)
    .where('created_at', '<', createdBefore)
    .where('password_hash', '=', 'x')
    .orderBy('id'),
);

/** The slow twin: the same query built afresh. */
const usersOfBuilt = (db: Executor, pattern: string, createdBefore: string) =>
  db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('email', 'like', pattern)
    .where('created_at', '<', createdBefore)
    .where('password_hash', '=', 'x')
    .orderBy('id')
    .execute();

describe.each(ENGINES)('prepared queries on %s', (engine) => {
  const dbs = testDatabases();
  let db: AppDatabase;
  beforeEach(async () => {
    db = await dbs.open(engine);
    await migrateToLatest(db);
    let n = 0;
    for (const name of ['ann', 'anna', 'bob', 'bea', 'carl'])
      for (const day of ['01', '02', '03'])
        await db.kysely
          .insertInto('users')
          .values({
            id: `${name}-${day}`,
            email: `${name}${day}@example.com`,
            password_hash: n++ % 4 === 3 ? 'y' : 'x',
            created_at: `2026-01-${day}`,
          })
          .execute();
  });
  afterAll(() => dbs.closeAll());

  it('answers each call with its own arguments, as the freshly built query does', async () => {
    const cases: [string, string][] = [
      ['ann', '2026-01-03'],
      ['b', '2026-01-04'],
      ['carl', '2026-01-02'],
      ['zed', '2026-01-09'],
      ['', '2026-01-02'],
      ['a', '2026-01-01'],
    ];
    for (const [prefix, before] of cases) {
      const rows = (await usersOf(db.kysely, `${prefix}%`, before)).rows;
      expect(rows).toEqual(await usersOfBuilt(db.kysely, `${prefix}%`, before));
    }
    expect((await usersOf(db.kysely, 'ann%', '2026-01-03')).rows.map((r) => r.id)).toEqual([
      'ann-01',
      'ann-02',
      // anna-01 is the fourth row made, with password_hash 'y': the query's own constant still applies.
      'anna-02',
    ]);
  });

  it('runs inside a transaction on its connection and sees its uncommitted rows', async () => {
    await db.kysely
      .transaction()
      .execute(async (trx) => {
        await trx
          .insertInto('users')
          .values({ id: 'ann-00', email: 'ann00@example.com', password_hash: 'x', created_at: '2025-12-31' })
          .execute();
        const rows = (await usersOf(trx, 'ann0%', '2026-01-01')).rows;
        expect(rows).toEqual([{ id: 'ann-00', email: 'ann00@example.com' }]);
        throw new Error('roll back');
      })
      .catch((err: Error) => expect(err.message).toBe('roll back'));
    expect((await usersOf(db.kysely, 'ann0%', '2026-01-01')).rows).toEqual([]);
  });

  it('refuses a builder whose argument does not become a bound parameter', async () => {
    const shaped = prepared(2, (d, id: string, withEmail: boolean) =>
      d
        .selectFrom('users')
        .select(withEmail ? ['id', 'email'] : ['id'])
        .where('id', '=', id),
    );
    await expect(async () => shaped(db.kysely, 'ann-01', false)).rejects.toThrow(
      /argument 1 is not a bound parameter/,
    );
    // An argument folded into a value (here a LIKE pattern) would bake the first call's text in.
    const folded = prepared(1, (d, prefix: string) =>
      d.selectFrom('users').select('id').where('email', 'like', `${prefix}%`),
    );
    await expect(async () => folded(db.kysely, 'ann')).rejects.toThrow(/argument 0 is not a bound parameter/);
  });
});
