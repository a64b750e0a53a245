import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, readCookie } from '../app/utils/api-client';

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

describe('api client', () => {
  it('sends the CSRF cookie value on writes but not on reads', async () => {
    const { fetch, calls } = scripted([() => json(200, { a: 1 }), () => json(201, { ok: true })]);
    let csrf = 'tok-1';
    const api = createApiClient({ fetch, csrfToken: () => csrf });
    expect(await api.get('/me')).toEqual({ a: 1 });
    csrf = 'tok-2';
    expect(await api.post('/patterns', { name: 'x' })).toEqual({ ok: true });
    expect(calls[0]!.headers['x-csrf-token']).toBeUndefined();
    expect(calls[1]!.headers['x-csrf-token']).toBe('tok-2');
    expect(calls[1]!.body).toBe('{"name":"x"}');
    expect(calls[1]!.url).toBe('/api/v1/patterns');
  });

  it('refreshes once on 401 and retries the original request', async () => {
    const { fetch, calls } = scripted([
      () => json(401, { error: { code: 'unauthenticated', message: 'expired' } }),
      () => json(200, {}),
      () => json(200, { email: 'a@example.com' }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => 'c' });
    expect(await api.get('/me')).toEqual({ email: 'a@example.com' });
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
    await expect(api.get('/me')).rejects.toMatchObject({
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
    await expect(api.post('/auth/login', {})).rejects.toMatchObject({
      code: 'invalid_credentials',
      message: 'Wrong email or password',
    });
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
    const e1 = await api.post('/similar', {}).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ApiError);
    expect((e1 as ApiError).details).toEqual({ resetsAt: '2026-01-01T00:00:00Z', upgradeUrl: '/pricing' });
    await expect(api.get('/plans')).rejects.toMatchObject({ status: 502, code: 'server_unavailable' });
  });

  it('turns a network failure into an ApiError and encodes query strings', async () => {
    const { fetch, calls } = scripted([
      () => {
        throw new TypeError('fetch failed');
      },
      () => json(200, { entities: [] }),
    ]);
    const api = createApiClient({ fetch, csrfToken: () => 'c' });
    await expect(api.get('/plans')).rejects.toMatchObject({ status: 0, code: 'network_error' });
    await api.get('/entities', { q: 'A&B', limit: 8, empty: '' });
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
