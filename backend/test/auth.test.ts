import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { PASSWORD, registered, startApp, type TestApp, rawSql } from './support/harness.js';

const linkToken = (app: TestApp, kind: 'reset-password' | 'verify-email', to: string) => {
  const mail = app.services.mailer.sent.filter((m) => m.to === to && m.link?.includes(kind)).at(-1);
  return mail ? new URL(mail.link!).searchParams.get('token')! : undefined;
};

describe('accounts and sessions', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url, LOGIN_MAX_PER_ACCOUNT: '4', LOGIN_MAX_PER_IP: '1000' });
  });
  afterAll(async () => {
    await app.close();
    await ml.close();
  });

  it('registers, sets httpOnly SameSite Secure session cookies and a readable csrf cookie', async () => {
    const c = app.client();
    const res = await fetch(`${app.url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'New@Example.com', password: PASSWORD }),
    });
    expect(res.status).toBe(201);
    const me = await res.json();
    expect(me).toMatchObject({
      email: 'new@example.com',
      plan: 'free',
      emailVerified: false,
      testMode: true,
      usage: { searchesToday: 0, quota: 5 },
    });
    const cookies = res.headers.getSetCookie();
    const access = cookies.find((x) => x.startsWith('access_token='))!;
    const refresh = cookies.find((x) => x.startsWith('refresh_token='))!;
    const csrf = cookies.find((x) => x.startsWith('csrf_token='))!;
    expect(access).toMatch(/HttpOnly/i);
    expect(access).toMatch(/SameSite=Lax/i);
    expect(access).toMatch(/Secure/i);
    expect(refresh).toMatch(/Path=\/api\/v1\/auth/);
    expect(csrf).not.toMatch(/HttpOnly/i);
    void c;
  });

  it('refuses short and common passwords with a reason', async () => {
    const c = app.client();
    const short = await c.post('/api/v1/auth/register', { email: 'a@example.com', password: 'abc123' });
    expect(short.status).toBe(400);
    const common = await c.post('/api/v1/auth/register', { email: 'a@example.com', password: 'Password123' });
    expect(common.status).toBe(400);
    expect(common.body.error.code).toBe('weak_password');
  });

  it('does not reveal whether an email is registered (login, forgot)', async () => {
    const c = await registered(app, 'known@example.com');
    const other = app.client();
    const wrong = await other.post('/api/v1/auth/login', {
      email: 'known@example.com',
      password: 'not the password at all',
    });
    const unknown = await other.post('/api/v1/auth/login', {
      email: 'nobody@example.com',
      password: 'not the password at all',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    const f1 = await other.post('/api/v1/auth/forgot', { email: 'known@example.com' });
    const f2 = await other.post('/api/v1/auth/forgot', { email: 'nobody@example.com' });
    expect(f1.status).toBe(202);
    expect(f2.status).toBe(202);
    expect(f1.body).toEqual(f2.body);
    const again = await other.post('/api/v1/auth/register', {
      email: 'known@example.com',
      password: 'a different long secret',
    });
    const fresh = await other.post('/api/v1/auth/register', { email: 'fresh@example.com', password: 'x' });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('registration_failed');
    expect(fresh.status).toBe(400);
    void c;
  });

  it('logs in, serves /me, and logs out revoking the access token at once', async () => {
    await registered(app, 'logout@example.com');
    const c = app.client();
    expect(
      (await c.post('/api/v1/auth/login', { email: 'logout@example.com', password: PASSWORD })).status,
    ).toBe(200);
    const stolenAccess = c.cookies.get('access_token')!;
    expect((await c.get('/api/v1/me')).body.email).toBe('logout@example.com');
    expect((await c.post('/api/v1/auth/logout')).status).toBe(200);
    expect((await c.get('/api/v1/me')).status).toBe(401);
    const replay = app.client();
    replay.cookies.set('access_token', stolenAccess);
    const r = await replay.get('/api/v1/me');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthenticated');
  });

  it('rotates refresh tokens and revokes the whole family when an old one comes back', async () => {
    const c = await registered(app, 'rotate@example.com');
    const first = c.cookies.get('refresh_token')!;
    const r1 = await c.post('/api/v1/auth/refresh');
    expect(r1.status).toBe(200);
    const second = c.cookies.get('refresh_token')!;
    expect(second).not.toBe(first);
    const attacker = app.client();
    // A thief copies every cookie of the session, the readable CSRF token included.
    attacker.cookies.set('refresh_token', first);
    attacker.cookies.set('csrf_token', c.cookies.get('csrf_token')!);
    const reuse = await attacker.post('/api/v1/auth/refresh');
    expect(reuse.status).toBe(401);
    // The legitimate holder's newer token and live access token die with the family.
    expect((await c.get('/api/v1/me')).status).toBe(401);
    expect((await c.post('/api/v1/auth/refresh')).status).toBe(401);
  });

  it('rejects a refresh without a token', async () => {
    const r = await app.client().post('/api/v1/auth/refresh');
    expect(r.status).toBe(401);
  });

  it('requires the CSRF header on cookie-authenticated writes', async () => {
    const c = await registered(app);
    c.csrf = false;
    const r = await c.post('/api/v1/auth/logout');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('csrf_failed');
    const wrong = await c.post('/api/v1/auth/logout', undefined, { 'x-csrf-token': 'forged' });
    expect(wrong.status).toBe(403);
    c.csrf = true;
    expect((await c.post('/api/v1/auth/logout')).status).toBe(200);
  });

  it("binds the CSRF token to the session: a planted cookie or another session's token is refused", async () => {
    const victim = await registered(app);
    const other = await registered(app);
    const own = victim.cookies.get('csrf_token')!;
    // A cookie planted by an attacker (a sibling subdomain can set one) with the header to match it.
    victim.cookies.set('csrf_token', 'planted-by-attacker');
    const planted = await victim.post('/api/v1/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'attacker chosen passphrase',
    });
    expect(planted.status).toBe(403);
    expect(planted.body.error.code).toBe('csrf_failed');
    // The attacker's own, valid, session token does not carry over to the victim's session either.
    victim.cookies.set('csrf_token', other.cookies.get('csrf_token')!);
    expect((await victim.post('/api/v1/auth/logout')).status).toBe(403);
    // With only the refresh cookie (access expired), the token is checked against that session too.
    const refreshOnly = app.client();
    refreshOnly.cookies.set('refresh_token', other.cookies.get('refresh_token')!);
    refreshOnly.cookies.set('csrf_token', 'planted-by-attacker');
    expect((await refreshOnly.post('/api/v1/auth/refresh')).status).toBe(403);
    refreshOnly.cookies.set('csrf_token', other.cookies.get('csrf_token')!);
    expect((await refreshOnly.post('/api/v1/auth/refresh')).status).toBe(200);
    // The session's own token still works, and stays the session's across a refresh.
    victim.cookies.set('csrf_token', own);
    expect((await victim.post('/api/v1/auth/refresh')).status).toBe(200);
    expect(victim.cookies.get('csrf_token')).toBe(own);
    expect((await victim.post('/api/v1/auth/logout')).status).toBe(200);
  });

  it('lets a browser with stale session cookies but no CSRF header log in again', async () => {
    const c = await registered(app, 'stale@example.com');
    c.cookies.delete('csrf_token');
    c.csrf = false;
    expect((await c.post('/api/v1/auth/logout')).status).toBe(403);
    const r = await c.post('/api/v1/auth/login', { email: 'stale@example.com', password: PASSWORD });
    expect(r.status).toBe(200);
  });

  it('changes the password and signs out other sessions', async () => {
    const a = await registered(app, 'change@example.com');
    const b = app.client();
    await b.post('/api/v1/auth/login', { email: 'change@example.com', password: PASSWORD });
    const bad = await a.post('/api/v1/auth/password', {
      currentPassword: 'wrong wrong wrong',
      newPassword: 'another long secret 1',
    });
    expect(bad.status).toBe(400);
    const ok = await a.post('/api/v1/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'another long secret 1',
    });
    expect(ok.status).toBe(200);
    expect((await a.get('/api/v1/me')).status).toBe(200);
    expect((await b.get('/api/v1/me')).status).toBe(401);
    expect(
      (await app.client().post('/api/v1/auth/login', { email: 'change@example.com', password: PASSWORD }))
        .status,
    ).toBe(401);
    expect(
      (
        await app
          .client()
          .post('/api/v1/auth/login', { email: 'change@example.com', password: 'another long secret 1' })
      ).status,
    ).toBe(200);
  });

  it('resets a forgotten password with a single-use link', async () => {
    const a = await registered(app, 'forgot@example.com');
    await app.client().post('/api/v1/auth/forgot', { email: 'forgot@example.com' });
    const token = linkToken(app, 'reset-password', 'forgot@example.com')!;
    expect(token).toBeTruthy();
    const r = await app.client().post('/api/v1/auth/reset', { token, newPassword: 'brand new long secret' });
    expect(r.status).toBe(200);
    expect((await a.get('/api/v1/me')).status).toBe(401);
    const reuse = await app
      .client()
      .post('/api/v1/auth/reset', { token, newPassword: 'yet another long secret' });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error.code).toBe('invalid_token');
    expect(
      (
        await app
          .client()
          .post('/api/v1/auth/login', { email: 'forgot@example.com', password: 'brand new long secret' })
      ).status,
    ).toBe(200);
  });

  it('expires reset links', async () => {
    let now = Date.now();
    const timed = await startApp({ ML_URL: ml.url }, { now: () => now });
    try {
      await registered(timed, 'expire@example.com');
      await timed.client().post('/api/v1/auth/forgot', { email: 'expire@example.com' });
      const token = linkToken(timed, 'reset-password', 'expire@example.com')!;
      now += 61 * 60 * 1000;
      const r = await timed
        .client()
        .post('/api/v1/auth/reset', { token, newPassword: 'brand new long secret' });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_token');
    } finally {
      await timed.close();
    }
  });

  it('expires access tokens after 15 minutes and refresh brings them back', async () => {
    let now = Date.now();
    const timed = await startApp({ ML_URL: ml.url }, { now: () => now });
    try {
      const c = await registered(timed);
      now += 16 * 60 * 1000;
      expect((await c.get('/api/v1/me')).status).toBe(401);
      expect((await c.post('/api/v1/auth/refresh')).status).toBe(200);
      expect((await c.get('/api/v1/me')).status).toBe(200);
    } finally {
      await timed.close();
    }
  });

  it('verifies the email address and can resend the link', async () => {
    const c = await registered(app, 'verify@example.com');
    expect((await c.post('/api/v1/auth/verify/resend')).status).toBe(202);
    const token = linkToken(app, 'verify-email', 'verify@example.com')!;
    expect((await app.client().post('/api/v1/auth/verify', { token })).status).toBe(200);
    expect((await c.get('/api/v1/me')).body.emailVerified).toBe(true);
    expect((await app.client().post('/api/v1/auth/verify', { token })).status).toBe(400);
  });

  it('throttles login per account', async () => {
    await registered(app, 'throttle@example.com');
    const c = app.client();
    for (let i = 0; i < 4; i++)
      expect(
        (
          await c.post('/api/v1/auth/login', {
            email: 'throttle@example.com',
            password: 'wrong password guess',
          })
        ).status,
      ).toBe(401);
    const r = await c.post('/api/v1/auth/login', { email: 'throttle@example.com', password: PASSWORD });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('too_many_attempts');
  });

  it('never signs in an existing account through register, even with the right password while login is locked', async () => {
    await registered(app, 'locked@example.com');
    const c = app.client();
    for (let i = 0; i < 4; i++) {
      expect(
        (
          await c.post('/api/v1/auth/login', {
            email: 'locked@example.com',
            password: 'wrong password guess',
          })
        ).status,
      ).toBe(401);
    }
    expect(
      (await c.post('/api/v1/auth/login', { email: 'locked@example.com', password: PASSWORD })).status,
    ).toBe(429);
    const again = await c.post('/api/v1/auth/register', { email: 'locked@example.com', password: PASSWORD });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('registration_failed');
    expect(c.cookies.has('access_token')).toBe(false);
    expect(c.cookies.has('refresh_token')).toBe(false);
    expect(
      app.services.mailer.sent.filter(
        (m) => m.to === 'locked@example.com' && /sign-up attempt/.test(m.subject),
      ),
    ).toHaveLength(1);
  });

  it('counts wrong passwords of every route that checks one against the same per-account limit', async () => {
    const owner = await registered(app, 'shared-throttle@example.com');
    // Two wrong guesses through each signed-in route that asks for the password (4 = the limit here).
    for (let i = 0; i < 2; i++) {
      expect(
        (
          await owner.post('/api/v1/auth/password', {
            currentPassword: 'wrong password guess',
            newPassword: 'another fine passphrase',
          })
        ).status,
      ).toBe(400);
      expect((await owner.del('/api/v1/me', { password: 'wrong password guess' })).status).toBe(400);
    }
    const login = await app
      .client()
      .post('/api/v1/auth/login', { email: 'shared-throttle@example.com', password: PASSWORD });
    expect(login.status).toBe(429);
    expect(login.body.error.code).toBe('too_many_attempts');
    // And the lock holds on those routes too, right password or not.
    const change = await owner.post('/api/v1/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'another fine passphrase',
    });
    expect(change.status).toBe(429);
    expect((await owner.del('/api/v1/me', { password: PASSWORD })).status).toBe(429);
    expect((await owner.get('/api/v1/me')).status).toBe(200);
  });

  it('a right password gives its attempt back: failures below the limit plus successes never lock', async () => {
    await registered(app, 'good-guesser@example.com');
    const c = app.client();
    for (let round = 0; round < 3; round++) {
      expect(
        (
          await c.post('/api/v1/auth/login', {
            email: 'good-guesser@example.com',
            password: 'wrong password guess',
          })
        ).status,
      ).toBe(401);
      expect(
        (await c.post('/api/v1/auth/login', { email: 'good-guesser@example.com', password: PASSWORD }))
          .status,
      ).toBe(200);
    }
  });

  it('throttles login per IP', async () => {
    const strict = await startApp({ ML_URL: ml.url, LOGIN_MAX_PER_IP: '3' });
    try {
      const c = strict.client();
      for (let i = 0; i < 3; i++)
        await c.post('/api/v1/auth/login', { email: `x${i}@example.com`, password: 'wrong password guess' });
      expect(
        (await c.post('/api/v1/auth/login', { email: 'y@example.com', password: 'wrong password guess' }))
          .status,
      ).toBe(429);
    } finally {
      await strict.close();
    }
  });

  it('deletes the account and its data after the password is confirmed', async () => {
    const c = await registered(app, 'delete@example.com');
    const wrong = await c.del('/api/v1/me', { password: 'not my password' });
    expect(wrong.status).toBe(400);
    const ok = await c.del('/api/v1/me', { password: PASSWORD });
    expect(ok.status).toBe(200);
    expect((await c.get('/api/v1/me')).status).toBe(401);
    expect(
      await rawSql(app.services).get('SELECT COUNT(*) AS n FROM users WHERE email = ?', 'delete@example.com'),
    ).toEqual({ n: 0 });
    expect(
      (await app.client().post('/api/v1/auth/login', { email: 'delete@example.com', password: PASSWORD }))
        .status,
    ).toBe(401);
  });

  it.each([
    ['GET', '/api/v1/me'],
    ['DELETE', '/api/v1/me'],
    ['POST', '/api/v1/auth/password'],
    ['POST', '/api/v1/auth/verify/resend'],
  ])('%s %s requires authentication', async (method, path) => {
    const r = await app.client().req(method, path, method === 'GET' ? undefined : {});
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthenticated');
  });
});
