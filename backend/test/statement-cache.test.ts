/**
 * The SQLite statement cache under Kysely (db/database.ts): each distinct SQL text is compiled once,
 * answers stay right for new parameters, inside transactions and after a schema change, and the cache
 * keeps at most its bound.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from '../src/db/database.js';

interface Db {
  t: { id: number; name: string };
}

function counted() {
  const raw = new BetterSqlite3(':memory:');
  raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  const compiled: string[] = [];
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((text: string) => {
    compiled.push(text);
    return prepare(text);
  }) as typeof raw.prepare;
  return { raw, compiled };
}

describe('the SQLite statement cache', () => {
  it('compiles each query text once and answers every call with its own parameters', async () => {
    const { raw, compiled } = counted();
    const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
    for (let i = 1; i <= 50; i++)
      await db
        .insertInto('t')
        .values({ id: i, name: `n${i}` })
        .execute();
    for (let i = 1; i <= 50; i++)
      expect(await db.selectFrom('t').select('name').where('id', '=', i).executeTakeFirst()).toEqual({
        name: `n${i}`,
      });
    // One insert text, one select text.
    expect(compiled).toHaveLength(2);
    await db.transaction().execute(async (tx) => {
      await tx.updateTable('t').set({ name: 'x' }).where('id', '<=', 10).execute();
      await tx.updateTable('t').set({ name: 'y' }).where('id', '<=', 5).execute();
    });
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.updateTable('t').set({ name: 'z' }).where('id', '<=', 10).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const names = await db.selectFrom('t').select('name').where('id', '<=', 10).orderBy('id').execute();
    expect(names.map((r) => r.name)).toEqual([...'yyyyy', ...'xxxxx']);
    await db.destroy();
    expect(raw.open).toBe(false);
  });

  it('sees a column added after its statement was kept', async () => {
    const { raw } = counted();
    const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
    await db.insertInto('t').values({ id: 1, name: 'a' }).execute();
    const all = () => sql<Record<string, unknown>>`SELECT * FROM t`.execute(db);
    expect((await all()).rows).toEqual([{ id: 1, name: 'a' }]);
    await sql`ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'e'`.execute(db);
    expect((await all()).rows).toEqual([{ id: 1, name: 'a', extra: 'e' }]);
    await db.destroy();
  });

  it('keeps at most its bound, dropping the least recently used text', () => {
    const { raw, compiled } = counted();
    const cache = withStatementCache(raw, 2);
    const q = (n: number) => `SELECT ${n} AS v`;
    cache.prepare(q(1));
    cache.prepare(q(2));
    cache.prepare(q(1)); // 1 is now the most recent
    cache.prepare(q(3)); // drops 2
    cache.prepare(q(1));
    expect(compiled).toEqual([q(1), q(2), q(3)]);
    cache.prepare(q(2));
    expect(compiled).toEqual([q(1), q(2), q(3), q(2)]);
    expect((cache.prepare(q(3)).all([]) as unknown[])[0]).toEqual({ v: 3 });
    raw.close();
  });
});
