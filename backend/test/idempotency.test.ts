/**
 * Idempotency-Key on pattern saves (issue 15, platform/idempotency.ts), through the real app on the
 * engine of the vitest project (backend: SQLite, backend-pg: PostgreSQL).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, openApiPath } from '@resemble/contracts';
import { buildOpenApi } from '../src/openapi/openapi.js';
import { idempotent, KEY_RETENTION_MS } from '../src/platform/idempotency.js';
import { rawSql, registered, relogin, startApp, type Client, type TestApp } from './support/harness.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';

const request = { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, topK: 5, horizon: 10 };
const pattern = (name: string) => ({ name, request, threshold: 100 });

async function upgrade(c: Client): Promise<void> {
  const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
}

describe('Idempotency-Key on POST /patterns', () => {
  let app: TestApp;
  // A save asks ml-service whether the nightly scan could run the pattern.
  let ml: MlStandIn;
  let clock = Date.now();
  const db = () => rawSql(app.services);
  const patternsOf = async (c: Client) => (await c.get('/api/v1/patterns')).body.patterns as { id: string }[];
  const save = (c: Client, key: string | undefined, body: unknown) =>
    c.post('/api/v1/patterns', body, key === undefined ? {} : { 'idempotency-key': key });

  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url }, { now: () => clock });
  });
  afterAll(async () => {
    await app.close();
    await ml.close();
  });

  it('a retry with the same key and body gets the first answer and creates nothing', async () => {
    const c = await registered(app);
    await upgrade(c);
    const key = randomUUID();
    const first = await save(c, key, pattern('a'));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await save(c, key, pattern('a'));
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await patternsOf(c)).map((p) => p.id)).toEqual([first.body.id]);
    // Without a key every request creates.
    expect((await save(c, undefined, pattern('b'))).status).toBe(201);
    expect((await save(c, undefined, pattern('b'))).status).toBe(201);
    expect(await patternsOf(c)).toHaveLength(3);
  });

  it('the same key with another body is 422 idempotency_key_reused and writes nothing', async () => {
    const c = await registered(app);
    await upgrade(c);
    const key = randomUUID();
    expect((await save(c, key, pattern('a'))).status).toBe(201);
    const other = await save(c, key, pattern('not a'));
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await patternsOf(c)).toHaveLength(1);
  });

  it('keys are per account: another user with the same key gets a pattern of their own', async () => {
    const a = await registered(app);
    const b = await registered(app);
    await upgrade(a);
    await upgrade(b);
    const key = 'shared-key-1';
    const ra = await save(a, key, pattern('p'));
    const rb = await save(b, key, pattern('p'));
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(rb.body.id).not.toBe(ra.body.id);
    expect(rb.headers.get('idempotent-replayed')).toBeNull();
    expect((await patternsOf(b)).map((p) => p.id)).toEqual([rb.body.id]);
  });

  it('concurrent requests with one key create one pattern and all get its answer', async () => {
    const c = await registered(app);
    await upgrade(c);
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => save(c, key, pattern('race'))));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(201));
    const ids = new Set(answers.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect((await patternsOf(c)).map((p) => p.id)).toEqual([...ids]);
    const keys = await db().all('SELECT key FROM idempotency_keys WHERE key = ?', key);
    expect(keys).toHaveLength(1);
  });

  it('a refused request is not stored: its key works once the cause is gone', async () => {
    const c = await registered(app);
    const key = randomUUID();
    const refused = await save(c, key, pattern('free'));
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('plan_required');
    await upgrade(c);
    const ok = await save(c, key, pattern('free'));
    expect(ok.status).toBe(201);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keys are kept 24 hours, then a key creates afresh', async () => {
    const c = await registered(app);
    await upgrade(c);
    const key = randomUUID();
    const first = await save(c, key, pattern('old'));
    clock += KEY_RETENTION_MS - 60_000;
    // The session did not live that long.
    await relogin(c);
    expect((await save(c, key, pattern('old'))).body.id).toBe(first.body.id);
    clock += 120_000;
    await relogin(c);
    const later = await save(c, key, pattern('old'));
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(await patternsOf(c)).toHaveLength(2);
  });

  it('a malformed key is 400 invalid_request', async () => {
    const c = await registered(app);
    await upgrade(c);
    for (const bad of ['x'.repeat(256), 'has space', 'ümlaut']) {
      const r = await save(c, bad, pattern('bad'));
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
    expect(await patternsOf(c)).toHaveLength(0);
  });

  it('what the request writes and its key commit together or not at all', async () => {
    const c = await registered(app);
    const userId = (await db().get('SELECT id FROM users WHERE email = ?', c.email)).id as string;
    const kysely = app.services.database.kysely;
    const notify = (tx: typeof kysely, id: string) =>
      tx
        .insertInto('notifications')
        .values({ id, user_id: userId, kind: 'test', payload: '{}', created_at: 'x', read_at: null })
        .execute();
    const failedId = randomUUID();
    await expect(
      idempotent(kysely, { userId, key: 'k-fail', operation: 'op', request: {}, now: clock }, async (tx) => {
        await notify(tx as typeof kysely, failedId);
        throw new Error('cut mid-request');
      }),
    ).rejects.toThrow('cut mid-request');
    expect(await db().all('SELECT id FROM notifications WHERE id = ?', failedId)).toHaveLength(0);
    expect(await db().all('SELECT key FROM idempotency_keys WHERE key = ?', 'k-fail')).toHaveLength(0);
    const okId = randomUUID();
    const done = await idempotent(
      kysely,
      { userId, key: 'k-ok', operation: 'op', request: {}, now: clock },
      async (tx) => {
        await notify(tx as typeof kysely, okId);
        return { status: 201, body: { id: okId } };
      },
    );
    expect(done).toEqual({ status: 201, body: { id: okId }, replayed: false });
    expect(await db().all('SELECT id FROM notifications WHERE id = ?', okId)).toHaveLength(1);
    expect(await db().all('SELECT key FROM idempotency_keys WHERE key = ?', 'k-ok')).toHaveLength(1);
  });

  it('OpenAPI lists the header and the 422 on createPattern', () => {
    const doc = buildOpenApi() as {
      paths: Record<string, Record<string, { parameters: unknown[]; responses: Record<string, unknown> }>>;
    };
    const op = doc.paths[openApiPath(api.createPattern.path)].post;
    expect(op.parameters).toContainEqual(
      expect.objectContaining({ name: 'idempotency-key', in: 'header', required: false }),
    );
    expect(JSON.stringify(op.responses['422'])).toContain('idempotency_key_reused');
  });
});
