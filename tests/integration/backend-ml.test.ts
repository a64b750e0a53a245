/**
 * backend ↔ real ml-service on real prices (the 30-ticker fixture): the "done" story of issue 4 over
 * HTTP — sign up, search, hit the free quota, upgrade through the sandbox, search more — plus proxy
 * fidelity (backend's answer equals ml-service's, apart from timing) and request-id propagation.
 */
import { cookieJar, createApiClient, similarResponseSchema } from '@resemble/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

/** A browser-like caller: the typed client from the route contract over a cookie jar. */
function browser(base: string) {
  const jar = cookieJar();
  return createApiClient({ fetch: jar.fetch, csrfToken: jar.csrfToken, baseUrl: `${base}/api/v1` });
}

describe('backend with the real ml-service', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const query = { query: { code: 'AAPL', start: '2016-01-04', end: '2016-03-01' }, topK: 5, horizon: 20 };

  it('reports ml-service up with its data version', async () => {
    const h = (await (await fetch(`${stack.backendUrl}/api/v1/health`)).json()) as { dataVersion: string };
    expect(h).toMatchObject({ status: 'ok', ml: 'up' });
    const direct = (await (
      await fetch(`${stack.mlUrl}/health`, { headers: { authorization: `Bearer ${stack.mlToken}` } })
    ).json()) as { dataVersion: string };
    expect(h.dataVersion).toBe(direct.dataVersion);
  });

  it('proxies entities, prices and similar unchanged in meaning, with the request id', async () => {
    const b = browser(stack.backendUrl);
    expect(
      (await b.register({ body: { email: 'int@example.com', password: 'integration long secret' } })).email,
    ).toBe('int@example.com');
    const ents = await b.entities({ query: { q: 'AA', limit: 5 } });
    expect(ents.entities.map((e) => e.code)).toContain('AAPL');
    const prices = await b.prices({
      params: { code: 'AAPL' },
      query: { from: '2016-01-04', to: '2016-01-08' },
    });
    expect(prices.rows).toHaveLength(5);
    // An unknown stock is its own code end to end (the UI says to check the code), in charts and searches.
    await expect(b.prices({ params: { code: 'NOPE' } })).rejects.toMatchObject({
      status: 404,
      code: 'unknown_code',
    });
    await expect(
      b.similar({ body: { ...query, query: { ...query.query, code: 'NOPE' } } }),
    ).rejects.toMatchObject({ status: 404, code: 'unknown_code' });

    const viaBackend = await b.$response('similar', {
      body: query,
      headers: { 'x-request-id': 'int-trace-1' },
    });
    expect(viaBackend.status).toBe(200);
    expect(viaBackend.headers.get('x-request-id')).toBe('int-trace-1');
    const parsed = similarResponseSchema.parse(await viaBackend.json());
    expect(parsed.matches).toHaveLength(5);
    const direct = (await (
      await fetch(`${stack.mlUrl}/v1/similar`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.mlToken}` },
        body: JSON.stringify(query),
      })
    ).json()) as { tookMs: number };
    const strip = (r: { tookMs?: number }) => ({ ...r, tookMs: 0 });
    expect(strip(parsed)).toEqual(strip(direct));
  });

  it('sign up, search, hit the free quota, upgrade through the sandbox, search more', async () => {
    const b = browser(stack.backendUrl);
    await b.register({ body: { email: 'story@example.com', password: 'integration long secret' } });
    const codes = ['MSFT', 'KO', 'JPM', 'XOM', 'IBM'];
    for (const code of codes) {
      const r = await b.similar({ body: { ...query, query: { ...query.query, code } } });
      expect(r.matches).toHaveLength(5);
    }
    await expect(b.similar({ body: query })).rejects.toMatchObject({
      status: 429,
      code: 'quota_exceeded',
      details: { upgradeUrl: '/pricing' },
    });
    await expect(b.similar({ body: { ...query, metric: 'dtw' } })).rejects.toMatchObject({ status: 403 });

    const plans = await b.plans();
    expect(plans.testMode).toBe(true);
    const co = await b.checkout({ body: { plan: 'pro', provider: 'sandbox' } });
    const session = new URL(co.redirectUrl, 'http://x').searchParams.get('session')!;
    const paid = await b.sandboxComplete({ body: { session, outcome: 'success' } });
    expect(paid.plan).toBe('pro');

    const more = await b.similar({ body: { ...query, topK: 20, metric: 'dtw', band: 0.1 } });
    expect(more.metric).toBe('dtw');
    expect(more.matches).toHaveLength(20);
    const me = await b.me();
    expect(me).toMatchObject({ plan: 'pro', usage: { quota: null } });
    expect(me.usage.searchesToday).toBe(6);
  });
});
