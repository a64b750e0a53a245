/**
 * backend ↔ real ml-service on real prices (the 30-ticker fixture): the "done" story of issue 4 over
 * HTTP — sign up, search, hit the free quota, upgrade through the sandbox, search more — plus proxy
 * fidelity (backend's answer equals ml-service's, apart from timing) and request-id propagation.
 */
import { similarResponseSchema } from '@resemble/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly base: string) {}
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { ...headers };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (method !== 'GET' && this.cookies.has('csrf_token')) h['x-csrf-token'] = this.cookies.get('csrf_token')!;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  }
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
    const direct = (await (await fetch(`${stack.mlUrl}/health`, { headers: { authorization: `Bearer ${stack.mlToken}` } })).json()) as { dataVersion: string };
    expect(h.dataVersion).toBe(direct.dataVersion);
  });

  it('proxies entities, prices and similar unchanged in meaning, with the request id', async () => {
    const b = new Browser(stack.backendUrl);
    expect((await b.call('POST', '/api/v1/auth/register', { email: 'int@example.com', password: 'integration long secret' })).status).toBe(201);
    const ents = await b.call('GET', '/api/v1/entities?q=AA&limit=5');
    expect(ents.body.entities.map((e: { code: string }) => e.code)).toContain('AAPL');
    const prices = await b.call('GET', '/api/v1/entities/AAPL/prices?from=2016-01-04&to=2016-01-08');
    expect(prices.body.rows).toHaveLength(5);
    expect((await b.call('GET', '/api/v1/entities/NOPE/prices')).status).toBe(404);

    const viaBackend = await b.call('POST', '/api/v1/similar', query, { 'x-request-id': 'int-trace-1' });
    expect(viaBackend.status).toBe(200);
    expect(viaBackend.headers.get('x-request-id')).toBe('int-trace-1');
    const parsed = similarResponseSchema.parse(viaBackend.body);
    expect(parsed.matches).toHaveLength(5);
    const direct = (await (
      await fetch(`${stack.mlUrl}/v1/similar`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.mlToken}` }, body: JSON.stringify(query) })
    ).json()) as { tookMs: number };
    const strip = (r: { tookMs?: number }) => ({ ...r, tookMs: 0 });
    expect(strip(viaBackend.body)).toEqual(strip(direct));
  });

  it('sign up, search, hit the free quota, upgrade through the sandbox, search more', async () => {
    const b = new Browser(stack.backendUrl);
    expect((await b.call('POST', '/api/v1/auth/register', { email: 'story@example.com', password: 'integration long secret' })).status).toBe(201);
    const codes = ['MSFT', 'KO', 'JPM', 'XOM', 'IBM'];
    for (const code of codes) {
      const r = await b.call('POST', '/api/v1/similar', { ...query, query: { ...query.query, code } });
      expect(r.status).toBe(200);
    }
    const over = await b.call('POST', '/api/v1/similar', query);
    expect(over.status).toBe(429);
    expect(over.body.error.details.upgradeUrl).toBe('/pricing');
    const dtwFree = await b.call('POST', '/api/v1/similar', { ...query, metric: 'dtw' });
    expect(dtwFree.status).toBe(403);

    const plans = await b.call('GET', '/api/v1/plans');
    expect(plans.body.testMode).toBe(true);
    const co = await b.call('POST', '/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
    const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
    const paid = await b.call('POST', '/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
    expect(paid.body.plan).toBe('pro');

    const more = await b.call('POST', '/api/v1/similar', { ...query, topK: 20, metric: 'dtw', band: 0.1 });
    expect(more.status).toBe(200);
    expect(more.body.metric).toBe('dtw');
    expect(more.body.matches).toHaveLength(20);
    const me = await b.call('GET', '/api/v1/me');
    expect(me.body).toMatchObject({ plan: 'pro', usage: { quota: null } });
    expect(me.body.usage.searchesToday).toBe(6);
  });
});
