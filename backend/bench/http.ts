/** Tiny cookie-aware JSON calls for the bench's setup steps (register, upgrade, list entities). */
export interface Session {
  cookie: string;
  csrf: string;
}

export async function call(base: string, path: string, body: unknown, s?: Session) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (s) Object.assign(headers, { cookie: s.cookie, 'x-csrf-token': s.csrf });
  const res = await fetch(base + path, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { res, body: (await res.json()) as any };
}

export function sessionFrom(res: Response, prev?: Session): Session {
  const jar = new Map<string, string>((prev?.cookie ?? '').split('; ').filter(Boolean).map((p) => p.split('=') as [string, string]));
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), csrf: jar.get('csrf_token') ?? '' };
}

/** Registers a user and upgrades it to Pro through the sandbox; returns its session. */
export async function proSession(base: string, email: string): Promise<Session> {
  const reg = await call(base, '/api/v1/auth/register', { email, password: 'load test long secret 42' });
  if (reg.res.status !== 201) throw new Error(`register: ${reg.res.status} ${JSON.stringify(reg.body)}`);
  const s = sessionFrom(reg.res);
  const co = await call(base, '/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' }, s);
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  const paid = await call(base, '/api/v1/billing/sandbox/complete', { session, outcome: 'success' }, s);
  if (paid.body.plan !== 'pro') throw new Error(`upgrade: ${JSON.stringify(paid.body)}`);
  return s;
}
