import { describe, expect, it } from 'vitest';
import { ApiError, cookieJar, createApiClient, readCookie } from './api-client.js';
import { api as contract } from './api-contract.js';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** A scripted backend: each handler answers one call in order, recording what the client sent. */
function scripted(responses: Array<(c: Call) => Response>) {
  const calls: Call[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    const call = {
      url,
      method: init.method ?? 'GET',
      headers: init.headers as Record<string, string>,
      body: init.body as string | undefined,
    };
    calls.push(call);
    const next = responses.shift();
    if (!next) throw new Error(`unexpected call ${url}`);
    return next(call);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('api client built from the route contract', () => {
  it('sends the CSRF cookie value on writes but not on reads', async () => {
    const { fetch, calls } = scripted([() => json(200, { a: 1 }), () => json(201, { ok: true })]);
    let csrf = 'tok-1';
    const api = createApiClient({ fetch, csrfToken: () => csrf });
    expect(await api.me()).toEqual({ a: 1 });
    csrf = 'tok-2';
    expect(await api.logout()).toEqual({ ok: true });
    expect(calls[0]!.headers['x-csrf-token']).toBeUndefined();
    expect(calls[1]!.headers['x-csrf-token']).toBe('tok-2');
    expect(calls[1]!.body).toBeUndefined();
    expect(calls[1]!.url).toBe('/api/v1/auth/logout');
  });

  it('refreshes once on 401 and retries the original request', async () => {
    const { fetch, calls } = scripted([
      () => json(401, { error: { code: 'unauthenticated', message: 'expired' } }),
      () => json(200, {}),
      () => json(200, { email: 'a@example.com' }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => 'c' });
    expect(await api.me()).toEqual({ email: 'a@example.com' });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/v1/me',
      'POST /api/v1/auth/refresh',
      'GET /api/v1/me',
    ]);
  });

  it('reports a lost session when the refresh fails, without looping', async () => {
    let lost = 0;
    const { fetch, calls } = scripted([
      () => json(401, { error: { code: 'unauthenticated', message: 'expired' } }),
      () => json(401, { error: { code: 'unauthenticated', message: 'no refresh token' } }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => undefined, onSessionLost: () => lost++ });
    await expect(api.me()).rejects.toMatchObject({
      status: 401,
      code: 'unauthenticated',
      message: 'expired',
    });
    expect(calls).toHaveLength(2);
    expect(lost).toBe(1);
  });

  it('does not try to refresh a failed login', async () => {
    const { fetch, calls } = scripted([
      () => json(401, { error: { code: 'invalid_credentials', message: 'Wrong email or password' } }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => 'c' });
    await expect(
      api.login({ body: { email: 'a@example.com', password: 'long enough secret' } }),
    ).rejects.toMatchObject({ code: 'invalid_credentials', message: 'Wrong email or password' });
    expect(calls).toHaveLength(1);
  });

  it('keeps error details (quota reset time) and copes with non-JSON errors', async () => {
    const { fetch } = scripted([
      () =>
        json(429, {
          error: {
            code: 'quota_exceeded',
            message: 'Daily limit reached',
            details: { resetsAt: '2026-01-01T00:00:00Z', upgradeUrl: '/pricing' },
          },
        }),
      () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => 'c' });
    const e1 = await api
      .similar({ body: { query: { code: 'AAA', start: '2015-01-01', end: '2015-02-01' } } })
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ApiError);
    expect((e1 as ApiError).details).toEqual({ resetsAt: '2026-01-01T00:00:00Z', upgradeUrl: '/pricing' });
    await expect(api.plans()).rejects.toMatchObject({ status: 502, code: 'server_unavailable' });
  });

  it('turns a network failure into an ApiError and encodes query strings', async () => {
    const { fetch, calls } = scripted([
      () => {
        throw new TypeError('fetch failed');
      },
      () => json(200, { entities: [] }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => 'c' });
    await expect(api.plans()).rejects.toMatchObject({ status: 0, code: 'network_error' });
    await api.entities({ query: { q: 'A&B', limit: 8 } });
    expect(calls[1]!.url).toBe('/api/v1/entities?q=A%26B&limit=8');
  });
});

describe('readCookie', () => {
  it('finds a cookie among others and decodes it', () => {
    expect(readCookie('a=1; csrf_token=abc%3D%3D; b=2', 'csrf_token')).toBe('abc==');
    expect(readCookie('a=1', 'csrf_token')).toBeUndefined();
    expect(readCookie('', 'csrf_token')).toBeUndefined();
  });
});

describe('typed calls', () => {
  it('fills and encodes path parameters, sends the body as JSON, and returns nothing for a 204', async () => {
    const { fetch, calls } = scripted([
      () => json(200, { rows: [] }),
      () => new Response(null, { status: 204 }),
      () => json(201, { id: 'p1' }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => 'c', baseUrl: 'http://127.0.0.1:9/api/v1' });
    await api.prices({ params: { code: 'A/B' }, query: { timeframe: 'W' } });
    expect(
      await api.deletePattern({ params: { id: '00000000-0000-4000-8000-000000000000' } }),
    ).toBeUndefined();
    await api.createPattern({
      body: {
        name: 'n',
        threshold: 1,
        request: { query: { code: 'AAA', start: '2015-01-01', end: '2015-02-01' } },
      },
    });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET http://127.0.0.1:9/api/v1/entities/A%2FB/prices?timeframe=W',
      'DELETE http://127.0.0.1:9/api/v1/patterns/00000000-0000-4000-8000-000000000000',
      'POST http://127.0.0.1:9/api/v1/patterns',
    ]);
    expect(calls[2]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(calls[2]!.body!)).toMatchObject({ name: 'n', threshold: 1 });
  });

  it('has one method per contract route, and a raw Response for downloads', async () => {
    const { fetch } = scripted([
      () => new Response('code,date\n', { status: 200, headers: { 'content-type': 'text/csv' } }),
    ]);
    const api = createApiClient({ fetch });
    for (const name of Object.keys(contract))
      expect(typeof (api as unknown as Record<string, unknown>)[name]).toBe('function');
    const res = await api.$response('exportSimilarCsv', {
      body: { query: { code: 'AAA', start: '2015-01-01', end: '2015-02-01' } },
    });
    expect(await res.text()).toBe('code,date\n');
  });

  it('keeps cookies for callers outside a browser (cookieJar) and sends the CSRF header from them', async () => {
    const seen: (string | null)[] = [];
    const inner = (async (_url: string, init: RequestInit) => {
      const h = new Headers(init.headers);
      seen.push(h.get('cookie'), h.get('x-csrf-token'));
      const res = json(200, { ok: true });
      res.headers.append('set-cookie', 'access_token=a1; Path=/; HttpOnly');
      res.headers.append('set-cookie', 'csrf_token=c1; Path=/');
      return res;
    }) as typeof globalThis.fetch;
    const jar = cookieJar(inner);
    const api = createApiClient({ fetch: jar.fetch, csrfToken: jar.csrfToken });
    await api.me();
    await api.logout();
    expect(seen).toEqual([null, null, 'access_token=a1; csrf_token=c1', 'c1']);
  });
});

describe('Idempotency-Key on creates that take one', () => {
  const pattern = {
    name: 'p',
    request: { code: 'AAA', start: '2020-01-01', end: '2020-03-01' },
    threshold: 1,
  };
  const created = () => json(201, { id: 'pat-1' });
  const keyOf = (c: Call) => c.headers['idempotency-key'];

  it('sends a fresh 128-bit key with each call of an idempotent route, and none elsewhere', async () => {
    const { fetch, calls } = scripted([created, created, () => json(200, { matches: [] })]);
    const api = createApiClient({ fetch, csrfToken: () => 'c' });
    await api.createPattern({ body: pattern as never });
    await api.createPattern({ body: pattern as never });
    await api.similar({ body: { code: 'AAA', start: '2020-01-01', end: '2020-03-01' } as never });
    expect(keyOf(calls[0]!)).toMatch(/^[0-9a-f]{32}$/);
    expect(keyOf(calls[1]!)).toMatch(/^[0-9a-f]{32}$/);
    expect(keyOf(calls[1]!)).not.toBe(keyOf(calls[0]!));
    expect(keyOf(calls[2]!)).toBeUndefined();
  });

  it('sends it once more with the same key when the answer was lost (502, 503 or the network)', async () => {
    for (const lost of [
      () => json(502, { error: { code: 'server_unavailable', message: 'bad gateway' } }),
      () => new Response('busy', { status: 503 }),
      () => {
        throw new TypeError('fetch failed');
      },
    ]) {
      const { fetch, calls } = scripted([lost, created]);
      const api = createApiClient({ fetch, csrfToken: () => 'c' });
      expect(await api.createPattern({ body: pattern as never })).toEqual({ id: 'pat-1' });
      expect(calls).toHaveLength(2);
      expect(keyOf(calls[1]!)).toBe(keyOf(calls[0]!));
      expect(calls[1]!.body).toBe(calls[0]!.body);
    }
  });

  it('retries only once, never a route without the key, and keeps a key the caller chose', async () => {
    const bad = () => json(502, { error: { code: 'server_unavailable', message: 'bad gateway' } });
    const twice = scripted([bad, bad]);
    const a = createApiClient({ fetch: twice.fetch, csrfToken: () => 'c' });
    await expect(a.createPattern({ body: pattern as never })).rejects.toMatchObject({ status: 502 });
    expect(twice.calls).toHaveLength(2);

    const once = scripted([bad]);
    const b = createApiClient({ fetch: once.fetch, csrfToken: () => 'c' });
    await expect(
      b.similar({ body: { code: 'AAA', start: '2020-01-01', end: '2020-03-01' } as never }),
    ).rejects.toMatchObject({ status: 502 });
    expect(once.calls).toHaveLength(1);

    const mine = scripted([created]);
    const c = createApiClient({ fetch: mine.fetch, csrfToken: () => 'c' });
    await c.createPattern({ body: pattern as never, headers: { 'idempotency-key': 'my-key-1' } });
    expect(keyOf(mine.calls[0]!)).toBe('my-key-1');
  });
});
