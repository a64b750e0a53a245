/**
 * The recent-searches repository on both engines: the list is the KEEP_RECENT newest, a repeat moves
 * to the top, same-key searches at once make one row, and the table stays bounded (it is trimmed on
 * every KEEP_RECENT-th search, not on each).
 */
import type { SimilarRequest } from '@resemble/contracts';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { KEEP_RECENT, listRecentSearches, recordRecentSearch } from '../src/search/recent-searches.repo.js';
import { ENGINES, testDatabases } from './support/test-db.js';

const req = (i: number) =>
  ({
    query: {
      code: 'AAA',
      start: '2015-01-01',
      end: `2015-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + Math.floor(i / 12)).padStart(2, '0')}`,
    },
    topK: 5,
    horizon: 10,
  }) as SimilarRequest;

const endOf = (r: SimilarRequest) => ('end' in r.query ? r.query.end : '');

describe.each(ENGINES)('recent searches on %s', (engine) => {
  const dbs = testDatabases();
  let db: AppDatabase;
  beforeEach(async () => {
    db = await dbs.open(engine);
    await migrateToLatest(db);
    for (const id of ['u1', 'u2'])
      await db.kysely
        .insertInto('users')
        .values({ id, email: `${id}@example.com`, password_hash: 'x', created_at: '2026-01-01' })
        .execute();
  });
  afterAll(() => dbs.closeAll());

  const rows = async (userId: string) =>
    Number(
      (
        await db.kysely
          .selectFrom('recent_searches')
          .select((e) => e.fn.countAll().as('n'))
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('lists the newest KEEP_RECENT, moves a repeat to the top and keeps the table bounded', async () => {
    const ends: string[] = [];
    for (let i = 0; i < 47; i++) {
      await recordRecentSearch(
        db.kysely,
        'u1',
        req(i),
        `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`,
      );
      ends.push(endOf(req(i)));
      // Never more than twice the list, whatever the moment.
      expect(await rows('u1')).toBeLessThan(2 * KEEP_RECENT);
    }
    await recordRecentSearch(db.kysely, 'u1', req(40), '2026-01-01T00:01:00Z');
    const list = await listRecentSearches(db.kysely, 'u1');
    expect(list.map((s) => endOf(s.request))).toEqual([
      ends[40],
      ...ends
        .slice(37)
        .filter((_, i) => i + 37 !== 40)
        .reverse(),
    ]);
    expect(list[0]!.createdAt).toBe('2026-01-01T00:01:00Z');
    expect(await listRecentSearches(db.kysely, 'u2')).toEqual([]);
  });

  it('the same search sent eight times at once makes one row', async () => {
    await Promise.all(
      Array.from({ length: 8 }, () => recordRecentSearch(db.kysely, 'u2', req(3), '2026-01-01T00:00:00Z')),
    );
    expect(await rows('u2')).toBe(1);
    expect((await listRecentSearches(db.kysely, 'u2')).map((s) => s.request)).toEqual([req(3)]);
  });

  it('searches of several users at once (one statement on PostgreSQL) list as if made one by one', async () => {
    // In call order; u1's req(1) again last, so it moves to the top.
    const calls: [string, number][] = [
      ['u1', 0],
      ['u2', 5],
      ['u1', 1],
      ['u1', 2],
      ['u2', 6],
      ['u1', 3],
      ['u1', 1],
    ];
    await Promise.all(
      calls.map(([u, i]) => recordRecentSearch(db.kysely, u, req(i), '2026-01-01T00:00:00Z')),
    );
    const ends = async (u: string) => (await listRecentSearches(db.kysely, u)).map((s) => endOf(s.request));
    expect(await ends('u1')).toEqual([1, 3, 2, 0].map((i) => endOf(req(i))));
    expect(await ends('u2')).toEqual([6, 5].map((i) => endOf(req(i))));
    // Each of a user's searches took its own seq, as one at a time.
    const seqs = await db.kysely
      .selectFrom('recent_searches')
      .select('seq')
      .where('user_id', '=', 'u1')
      .execute();
    expect(new Set(seqs.map((r) => Number(r.seq))).size).toBe(4);
  });

  it('one bad row among searches at once fails only its own search', async () => {
    const results = await Promise.allSettled(
      ['u1', 'no-such-user', 'u2'].map((u, i) =>
        recordRecentSearch(db.kysely, u, req(i), '2026-01-01T00:00:00Z'),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await rows('u1')).toBe(1);
    expect(await rows('u2')).toBe(1);
  });
});
