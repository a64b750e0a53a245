/** The bench's setup calls go through the typed client built from the route contract, over a cookie jar. */
import { cookieJar, createApiClient, type ApiClient } from '@resemble/contracts';

export interface Session {
  api: ApiClient;
  /** The session's Cookie header and CSRF token, for autocannon's requests. */
  cookie: string;
  csrf: string;
}

/** Registers a user and upgrades it to Pro through the sandbox; returns its session. */
export async function proSession(base: string, email: string): Promise<Session> {
  const jar = cookieJar();
  const api = createApiClient({ fetch: jar.fetch, csrfToken: jar.csrfToken, baseUrl: `${base}/api/v1` });
  await api.register({ body: { email, password: 'load test long secret 42' } });
  const co = await api.checkout({ body: { plan: 'pro', provider: 'sandbox' } });
  const session = new URL(co.redirectUrl, 'http://x').searchParams.get('session') ?? '';
  const paid = await api.sandboxComplete({ body: { session, outcome: 'success' } });
  if (paid.plan !== 'pro') throw new Error(`upgrade: ${JSON.stringify(paid)}`);
  return {
    api,
    cookie: [...jar.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    csrf: jar.csrfToken() ?? '',
  };
}

/** A Pro user's session through `url` with the Cookie header and CSRF token autocannon's requests carry. */
export async function benchHeaders(
  url: string,
  email: string,
): Promise<{ s: Session; headers: Record<string, string> }> {
  const s = await proSession(url, email);
  return { s, headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf } };
}
