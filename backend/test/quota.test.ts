/**
 * GET /quota (issue 18): the account's daily search quota (used, limit, reset time), readable by a browser
 * session and by any live API token, with the calling token's own share; the token list carries each
 * token's searches of today. Runs on SQLite (backend) and PostgreSQL (backend-pg).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type Client, type TestApp } from './support/harness.js';

const query = { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, topK: 5, horizon: 10 };
const nextMidnight = () => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
};

async function upgrade(c: Client): Promise<void> {
  const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
}

describe('GET /quota and per-token search counts', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url, FREE_SEARCHES_PER_DAY: '3' });
  });
  afterAll(async () => {
    await app.close();
    await ml.close();
  });

  it('a free session reads used / limit / remaining / reset time, and it follows its searches', async () => {
    const c = await registered(app);
    const before = await c.get('/api/v1/quota');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      plan: 'free',
      searches: { used: 0, limit: 3, remaining: 3, resetsAt: nextMidnight() },
      ratePerMinute: expect.any(Number),
      token: null,
    });
    expect((await c.post('/api/v1/similar', query)).status).toBe(200);
    expect((await c.post('/api/v1/similar', query)).status).toBe(200);
    expect((await c.get('/api/v1/quota')).body.searches).toMatchObject({ used: 2, limit: 3, remaining: 1 });
    // A refused search (quota) does not move it past the limit.
    expect((await c.post('/api/v1/similar', query)).status).toBe(200);
    expect((await c.post('/api/v1/similar', query)).status).toBe(429);
    expect((await c.get('/api/v1/quota')).body.searches).toMatchObject({ used: 3, remaining: 0 });
    expect((await app.client().get('/api/v1/quota')).status).toBe(401);
  });

  it("any token reads the account's quota and its own count; the token list shows each token's count", async () => {
    const c = await registered(app);
    await upgrade(c);
    const a = (await c.post('/api/v1/tokens', { name: 'nightly script', scopes: ['search'] })).body;
    // A token without the search scope may still read its quota (and nothing else of the account).
    const b = (await c.post('/api/v1/tokens', { name: 'jobs only', scopes: ['jobs'] })).body;
    const botA = app.client();
    botA.bearer = a.token;
    const botB = app.client();
    botB.bearer = b.token;

    for (let i = 0; i < 3; i++) expect((await botA.post('/api/v1/similar', query)).status).toBe(200);
    expect((await c.post('/api/v1/similar', query)).status).toBe(200);
    // A search the token may not run is not counted for it.
    expect((await botB.post('/api/v1/similar', query)).status).toBe(403);

    const qa = await botA.get('/api/v1/quota');
    expect(qa.status).toBe(200);
    expect(qa.body).toEqual({
      plan: 'pro',
      searches: { used: 4, limit: null, remaining: null, resetsAt: nextMidnight() },
      ratePerMinute: expect.any(Number),
      token: { id: a.id, name: 'nightly script', searchesToday: 3 },
    });
    const qb = await botB.get('/api/v1/quota');
    expect(qb.status).toBe(200);
    expect(qb.body.token).toEqual({ id: b.id, name: 'jobs only', searchesToday: 0 });
    expect(qb.body.searches.used).toBe(4);
    // The session's view: no token; the list has each token's count.
    expect((await c.get('/api/v1/quota')).body.token).toBeNull();
    const list = (await c.get('/api/v1/tokens')).body.tokens as { id: string; searchesToday: number }[];
    expect(Object.fromEntries(list.map((t) => [t.id, t.searchesToday]))).toEqual({ [a.id]: 3, [b.id]: 0 });
    // Reading the quota is all a token may do here: the token list stays session-only.
    expect((await botB.get('/api/v1/tokens')).status).toBe(403);
    // A revoked token reads nothing.
    expect((await c.del(`/api/v1/tokens/${a.id}`)).status).toBe(204);
    expect((await botA.get('/api/v1/quota')).status).toBe(401);
  });

  it("another user's searches and tokens are not counted", async () => {
    const c = await registered(app);
    await upgrade(c);
    const t = (await c.post('/api/v1/tokens', { name: 'mine' })).body;
    const bot = app.client();
    bot.bearer = t.token;
    const q = await bot.get('/api/v1/quota');
    expect(q.body.searches.used).toBe(0);
    expect(q.body.token.searchesToday).toBe(0);
  });
});
