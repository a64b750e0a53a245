/**
 * `npm run db:copy`: an operator's SQLite file moves to PostgreSQL row for row, checked per table by
 * count and content hash; a target that already holds rows is refused and left as it was.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type AppDatabase, type DbTarget } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { tableDigest } from '../src/db/copy.js';
import { TABLES } from '../src/db/schema.js';
import { testDatabases } from './support/test-db.js';

const cli = fileURLToPath(new URL('../src/cli/db-copy.ts', import.meta.url));
const copy = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });

/** A row in every table, with the values most likely to differ between engines. */
async function seed(db: AppDatabase): Promise<void> {
  const k = db.kysely;
  const at = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
  await k
    .insertInto('users')
    .values([
      {
        id: 'u1',
        email: 'a@example.com',
        password_hash: 'scrypt$…',
        email_verified: 1,
        role: 'admin',
        created_at: '2026-01-01T00:00:00.000Z',
      },
      {
        id: 'u2',
        email: '類似@example.jp',
        password_hash: 'it\'s "quoted"\n',
        email_verified: 0,
        role: 'user',
        created_at: '2026-01-02T00:00:00.000Z',
        receipt_name: '株式会社 類似',
      },
    ])
    .execute();
  await k
    .insertInto('refresh_tokens')
    .values({
      token_hash: 'r1',
      user_id: 'u1',
      family_id: 'f',
      expires_at: at,
      used_at: null,
      created_at: at - 1,
    })
    .execute();
  await k.insertInto('revoked_sessions').values({ session_id: 's1', expires_at: at }).execute();
  await k
    .insertInto('one_time_tokens')
    .values({ token_hash: 'o1', user_id: 'u2', kind: 'verify', expires_at: at, used_at: at })
    .execute();
  await k
    .insertInto('api_tokens')
    .values({
      id: 't1',
      user_id: 'u1',
      name: 'ci',
      token_hash: 'th',
      scopes: 'search,jobs',
      created_at: '2026-02-01',
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  await k
    .insertInto('usage')
    .values([
      { user_id: 'u1', day: '2026-02-01', searches: 5 },
      { user_id: 'u2', day: '2026-02-01', searches: 0 },
    ])
    .execute();
  await k.insertInto('token_usage').values({ token_id: 't1', day: '2026-02-01', searches: 3 }).execute();
  await k
    .insertInto('subscriptions')
    .values({
      id: 'sub1',
      user_id: 'u1',
      plan: 'pro',
      provider: 'stripe',
      status: 'active',
      provider_customer_id: 'cus_1',
      provider_subscription_id: 'sub_1',
      current_period_start: '2026-02-01',
      current_period_end: '2026-03-01',
      cancel_at_period_end: 1,
      provider_updated_at: at,
      created_at: '2026-02-01',
      updated_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('checkout_sessions')
    .values({
      id: 'cs1',
      user_id: 'u1',
      provider: 'stripe',
      plan: 'pro',
      status: 'completed',
      provider_ref: null,
      created_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('payments')
    .values({
      id: 'p1',
      user_id: null,
      provider: 'stripe',
      amount_jpy: 1480,
      status: 'succeeded',
      period: '2026-02',
      idempotency_key: 'stripe:in_1:paid',
      provider_ref: 'in_1',
      failure_reason: null,
      created_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('webhook_events')
    .values({ provider: 'stripe', event_id: 'evt_1', type: 'invoice.paid', received_at: '2026-02-01' })
    .execute();
  await k
    .insertInto('jobs')
    .values({
      id: 'j1',
      user_id: 'u2',
      kind: 'backtest',
      params: '{"a":[1,2]}',
      status: 'running',
      progress: 0.1 + 0.2,
      result: null,
      error: null,
      created_at: '2026-02-01',
      updated_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('patterns')
    .values({
      id: 'pt1',
      user_id: 'u2',
      name: 'W底',
      request: '{}',
      threshold: 1 / 3,
      last_scanned_version: null,
      created_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('notifications')
    .values({
      id: 'n1',
      user_id: 'u2',
      kind: 'alert',
      payload: '{"x":"\\u0000"}',
      created_at: '2026-02-01',
      read_at: null,
    })
    .execute();
  await k
    .insertInto('recent_searches')
    .values({
      user_id: 'u2',
      key: '{"code":"7203"}',
      request: '{"code":"7203"}',
      seq: 1,
      created_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('mail_outbox')
    .values({
      id: 'm1',
      to_address: 'a@example.com',
      subject: 'Résumé 日本',
      body: 'line\nnext',
      link: null,
      seq: 1,
      created_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('receipts')
    .values({
      payment_id: 'p1',
      user_id: null,
      number: 'R-20260201-P1',
      plan: 'pro',
      amount_jpy: 1480,
      tax_rate_percent: 10,
      tax_jpy: 134,
      issuer_name: '株式会社レゼンブル',
      registration_number: 'T1234567890123',
      issued_at: '2026-02-01',
    })
    .execute();
  await k
    .insertInto('idempotency_keys')
    .values({
      user_id: 'u1',
      key: 'retry-1',
      operation: 'createPattern',
      request_hash: 'ab'.repeat(32),
      status: 201,
      response: '{"id":"pat1"}',
      // Past 2^31 ms: the bigint column must come back as the same number on both engines.
      created_at: Date.parse('2026-02-01T00:00:00Z'),
    })
    .execute();
}

describe('db:copy from SQLite to PostgreSQL', () => {
  const dbs = testDatabases();
  let source: DbTarget & { engine: 'sqlite' };
  let src: AppDatabase;
  beforeAll(async () => {
    source = (await dbs.target('sqlite')) as typeof source;
    src = openDatabase(source);
    await migrateToLatest(src);
    await seed(src);
    await src.close();
  });
  afterAll(() => dbs.closeAll());

  it('copies every table and verifies it: same counts, same content hash, same values', async () => {
    const to = (await dbs.target('postgres')) as DbTarget & { engine: 'postgres' };
    const r = copy('--from', source.file, '--to', to.url);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/copied and verified 20 rows in 18 tables/);
    const a = openDatabase(source);
    const b = openDatabase(to);
    try {
      for (const { name } of TABLES) {
        const [x, y] = [await tableDigest(a.kysely, name), await tableDigest(b.kysely, name)];
        expect(y, name).toEqual(x);
        expect(y.rows, name).toBeGreaterThan(0);
        expect(r.stdout).toContain(x.sha256);
      }
      const job = await b.kysely.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
      expect(job.progress).toBe(0.1 + 0.2);
      const rt = await b.kysely.selectFrom('refresh_tokens').selectAll().executeTakeFirstOrThrow();
      expect(rt.expires_at).toBe(Date.UTC(2031, 4, 6, 7, 8, 9, 123));
      // The copy is a working database: its constraints hold.
      await expect(
        b.kysely
          .insertInto('webhook_events')
          .values({ provider: 'stripe', event_id: 'evt_1', type: 'x', received_at: 'x' })
          .execute(),
      ).rejects.toThrow(/duplicate key/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a target that holds any row, says which, exits 1 and leaves it as it was', async () => {
    const to = (await dbs.target('postgres')) as DbTarget & { engine: 'postgres' };
    const target = openDatabase(to);
    try {
      await migrateToLatest(target);
      await target.kysely
        .insertInto('users')
        .values({ id: 'x', email: 'x@example.com', password_hash: 'h', created_at: 'now' })
        .execute();
      const r = copy('--from', source.file, '--to', to.url);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/db:copy: refused: the target database is not empty: users \(1 rows\)/);
      const users = await target.kysely.selectFrom('users').select('id').execute();
      expect(users).toEqual([{ id: 'x' }]);
      expect((await tableDigest(target.kysely, 'jobs')).rows).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('explains its usage (exit 2) without --to, and a --from that does not exist', () => {
    const noTo = copy('--from', source.file);
    expect(noTo.status).toBe(2);
    expect(noTo.stderr).toMatch(/usage: db:copy --from/);
    const missing = copy('--from', '/nonexistent/app.sqlite', '--to', 'postgres://127.0.0.1:1/x');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
