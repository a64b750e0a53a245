/**
 * Migrations on both engines: a fresh database gets every table, an old SQLite file (PRAGMA
 * user_version 1) upgrades in place with its rows, and on PostgreSQL a migrator that starts while
 * another holds the lock waits for it instead of racing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { MIGRATION_TABLE, migrateToLatest } from '../src/db/migrate.js';
import { MIGRATIONS } from '../src/db/migrations/index.js';
import { TABLES } from '../src/db/schema.js';
import { ENGINES, testDatabases } from './support/test-db.js';

const ALL = Object.keys(MIGRATIONS);
const dbs = testDatabases();
afterAll(() => dbs.closeAll());

describe.each(ENGINES)('migrations on %s', (engine) => {
  it('create every table on an empty database, then have nothing left to do', async () => {
    const db = await dbs.open(engine);
    expect(await migrateToLatest(db)).toEqual(ALL);
    const tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
    for (const { name } of TABLES) expect(tables).toContain(name);
    expect(await migrateToLatest(db)).toEqual([]);
    const rows = await sql<{ name: string }>`SELECT name FROM ${sql.table(MIGRATION_TABLE)}`.execute(
      db.kysely,
    );
    expect(rows.rows.map((r) => r.name).sort()).toEqual(ALL);
  });

  it('give both engines the same constraints: a duplicate e-mail and an unknown role are refused', async () => {
    const db = await dbs.open(engine);
    await migrateToLatest(db);
    const user = { id: 'u1', email: 'a@example.com', password_hash: 'h', created_at: '2026-01-01T00:00:00Z' };
    await db.kysely.insertInto('users').values(user).execute();
    await expect(
      db.kysely
        .insertInto('users')
        .values({ ...user, id: 'u2' })
        .execute(),
    ).rejects.toThrow(/unique/i);
    await expect(
      db.kysely
        .insertInto('users')
        .values({ ...user, id: 'u3', email: 'b@example.com', role: 'root' as 'admin' })
        .execute(),
    ).rejects.toThrow(/check/i);
    // Epoch milliseconds past 2^31 (PostgreSQL's INTEGER) come back as the same number.
    const at = Date.UTC(2030, 0, 1);
    await db.kysely
      .insertInto('refresh_tokens')
      .values({ token_hash: 't', user_id: 'u1', family_id: 'f', expires_at: at, created_at: at })
      .execute();
    const back = await db.kysely.selectFrom('refresh_tokens').selectAll().executeTakeFirstOrThrow();
    expect(back.expires_at).toBe(at);
  });
});

describe('an old SQLite file', () => {
  const v1 = readFileSync(fileURLToPath(new URL('./fixtures/schema-v1.sql', import.meta.url)), 'utf8');

  it('upgrades in place: its rows stay, 0001 counts as applied, later migrations run', async () => {
    const target = await dbs.target('sqlite');
    if (target.engine !== 'sqlite') throw new Error('sqlite expected');
    const old = new Database(target.file);
    old.exec(v1);
    old.pragma('user_version = 1');
    old
      .prepare(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'old@example.com', 'h', '2025-01-01')",
      )
      .run();
    old.prepare("INSERT INTO usage (user_id, day, searches) VALUES ('u1', '2025-01-01', 4)").run();
    old.close();

    const db = openDatabase(target);
    try {
      expect(await migrateToLatest(db)).toEqual(ALL.slice(1));
      expect(await db.kysely.selectFrom('users').selectAll().execute()).toMatchObject([
        { id: 'u1', email: 'old@example.com' },
      ]);
      expect(await db.kysely.selectFrom('usage').select('searches').executeTakeFirst()).toEqual({
        searches: 4,
      });
      expect(db.sqlite!.pragma('user_version', { simple: true })).toBe(ALL.length);
      const indexes = db.sqlite!.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all();
      expect(indexes).toContainEqual({ name: 'payments_user' });
    } finally {
      await db.close();
    }
  });

  it('from a newer backend is refused, untouched', async () => {
    const target = await dbs.target('sqlite');
    if (target.engine !== 'sqlite') throw new Error('sqlite expected');
    const old = new Database(target.file);
    old.exec(v1);
    old.pragma('user_version = 7');
    old.close();
    const db = openDatabase(target);
    try {
      await expect(migrateToLatest(db)).rejects.toThrow(/version 7 is newer/);
      expect(db.sqlite!.pragma('user_version', { simple: true })).toBe(7);
    } finally {
      await db.close();
    }
  });
});

describe('two migrators on one PostgreSQL', () => {
  it('take turns: the second waits for the lock, then finds nothing to do', async () => {
    const target = await dbs.target('postgres');
    if (target.engine !== 'postgres') throw new Error('postgres expected');
    const a = openDatabase(target);
    const b = openDatabase(target);
    try {
      const results = await Promise.all([migrateToLatest(a), migrateToLatest(b)]);
      expect(results.map((r) => r.length).sort()).toEqual([0, ALL.length]);
      expect(results.flat().sort()).toEqual(ALL);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('waits while another session holds the migration lock, and migrates once it is released', async () => {
    const target = await dbs.target('postgres');
    if (target.engine !== 'postgres') throw new Error('postgres expected');
    // Another replica in the middle of migrating: it holds the lock Kysely's PostgreSQL adapter takes.
    const other = new pg.Client({ connectionString: target.url });
    await other.connect();
    const db = openDatabase(target);
    try {
      await other.query('SELECT pg_advisory_lock(3853314791062309107)');
      let done = false;
      const run = migrateToLatest(db).then((r) => ((done = true), r));
      await new Promise((r) => setTimeout(r, 500));
      expect(done).toBe(false);
      const waiting = await other.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      expect(waiting.rows[0].n).toBe(1);
      const tables = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'users'`.execute(
        db.kysely,
      );
      expect(tables.rows[0].n).toBe(0);
      await other.query('SELECT pg_advisory_unlock(3853314791062309107)');
      expect(await run).toEqual(ALL);
    } finally {
      await other.end();
      await db.close();
    }
  });
});

describe('the PostgreSQL pool size (DATABASE_POOL_MAX)', () => {
  it('caps the connections one backend opens, however many queries wait', async () => {
    const target = await dbs.target('postgres');
    if (target.engine !== 'postgres') throw new Error('postgres expected');
    const config = loadConfig({ APP_DB: ':memory:', DATABASE_URL: target.url, DATABASE_POOL_MAX: '3' });
    expect(config.storage.database).toEqual({ engine: 'postgres', url: target.url, poolMax: 3 });
    const db = openDatabase(config.storage.database);
    try {
      // Eight queries that each hold a connection for a while: they can only share three.
      const pids = await Promise.all(
        Array.from({ length: 8 }, () =>
          sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, pg_sleep(0.1)`.execute(db.kysely),
        ),
      );
      expect(new Set(pids.map((r) => r.rows[0]!.pid)).size).toBe(3);
    } finally {
      await db.close();
    }
  });

  it('defaults to 10 and refuses a size that is not a positive integer', () => {
    const url = 'postgres://u@127.0.0.1:5432/d';
    expect(loadConfig({ APP_DB: ':memory:', DATABASE_URL: url }).storage.database).toEqual({
      engine: 'postgres',
      url,
      poolMax: 10,
    });
    for (const bad of ['0', '-1', '2.5', 'many'])
      expect(() => loadConfig({ APP_DB: ':memory:', DATABASE_URL: url, DATABASE_POOL_MAX: bad })).toThrow(
        /DATABASE_POOL_MAX/,
      );
  });
});

describe('npm run db:migrate', () => {
  const cli = fileURLToPath(new URL('../src/cli/db-migrate.ts', import.meta.url));
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli], {
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), ...env },
    });

  it.each(ENGINES)('migrates %s and says what it applied, then that it is current', async (engine) => {
    const target = await dbs.target(engine);
    const env: Record<string, string> =
      target.engine === 'sqlite'
        ? { APP_DB: target.file }
        : { DATABASE_URL: target.url, APP_DB: '/nonexistent/app.sqlite' };
    const first = run(env);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`applied ${ALL.join(', ')}`);
    const second = run(env);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('already current');
  });

  it('fails with a message and exit 1 when the database cannot be reached', () => {
    const r = run({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/db:migrate: postgres 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
