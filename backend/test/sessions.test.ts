import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { openDatabase, type AppDatabase, type DbTarget } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { ENGINES, testDatabases } from './support/test-db.js';
import { ACCESS_TTL_S, REFRESH_TTL_S, SessionService } from '../src/auth/sessions.js';
import { AccessCache } from '../src/auth/access-cache.js';

const secret = new TextEncoder().encode('s'.repeat(40));

describe.each(ENGINES)('SessionService on %s', (engine) => {
  const dbs = testDatabases();
  let target: DbTarget | undefined;
  const opened: AppDatabase[] = [];
  /** The test's database; a second call opens it again, as a restarted backend would. */
  const open = async () => {
    target ??= await dbs.target(engine);
    const db = openDatabase(target);
    opened.push(db);
    await migrateToLatest(db);
    await db.kysely
      .insertInto('users')
      .values({ id: 'u1', email: 'u1@example.com', password_hash: 'x', created_at: '2026-01-01' })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return db;
  };
  afterEach(async () => {
    for (const d of opened.splice(0)) await d.close();
    target = undefined;
  });
  afterAll(() => dbs.closeAll());

  it('keeps revocations across a restart (the database behind the in-memory cache)', async () => {
    const a = await SessionService.open(await open(), secret);
    const s = await a.issue('u1', 'user');
    expect(await a.verifyAccess(s.accessToken)).toMatchObject({ userId: 'u1', sessionId: s.sessionId });
    await a.revokeFamily(s.sessionId);
    expect(await a.verifyAccess(s.accessToken)).toBeNull();
    const restarted = await SessionService.open(await open(), secret);
    expect(await restarted.verifyAccess(s.accessToken)).toBeNull();
  });

  it('refuses expired refresh tokens and a JWT signed with another secret', async () => {
    let now = Date.now();
    const svc = await SessionService.open(await open(), secret, () => now);
    const s = await svc.issue('u1', 'user');
    const other = await SessionService.open(
      await open(),
      new TextEncoder().encode('o'.repeat(40)),
      () => now,
    );
    expect(await other.verifyAccess(s.accessToken)).toBeNull();
    now += (REFRESH_TTL_S + 1) * 1000;
    expect(await svc.refresh(s.refreshToken, async () => 'user')).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses an access JWT signed with our secret but lacking exp, iat, sub or sid, or older than its lifetime', async () => {
    const now = Date.now();
    const svc = await SessionService.open(await open(), secret, () => now);
    const s = await svc.issue('u1', 'user');
    const nowS = Math.floor(now / 1000);
    const forge = (claims: { iat?: number; exp?: number; sub?: string; sid?: string }) => {
      const jwt = new SignJWT({
        role: 'admin',
        ...(claims.sid ? { sid: claims.sid } : {}),
      }).setProtectedHeader({ alg: 'HS256' });
      if (claims.sub) jwt.setSubject(claims.sub);
      if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
      if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
      return jwt.sign(secret);
    };
    const full = { sub: 'u1', sid: s.sessionId, iat: nowS, exp: nowS + 60 };
    // The control: the same forge with every claim passes, so each refusal below is the missing claim.
    expect(await svc.verifyAccess(await forge(full))).toMatchObject({ userId: 'u1', role: 'admin' });
    expect(await svc.verifyAccess(await forge({ ...full, exp: undefined }))).toBeNull();
    expect(await svc.verifyAccess(await forge({ ...full, iat: undefined }))).toBeNull();
    expect(await svc.verifyAccess(await forge({ ...full, sub: undefined }))).toBeNull();
    expect(await svc.verifyAccess(await forge({ ...full, sid: undefined }))).toBeNull();
    // A far exp does not stretch a token past the access lifetime counted from iat.
    expect(
      await svc.verifyAccess(
        await forge({ ...full, iat: nowS - ACCESS_TTL_S - 120, exp: nowS + 365 * 86400 }),
      ),
    ).toBeNull();
  });

  it('rotation hands out a new token once; the old one then revokes the family', async () => {
    const svc = await SessionService.open(await open(), secret);
    const s = await svc.issue('u1', 'user');
    const r1 = await svc.refresh(s.refreshToken, async () => 'user');
    expect(r1.ok).toBe(true);
    const reused = await svc.refresh(s.refreshToken, async () => 'user');
    expect(reused).toEqual({ ok: false, reason: 'reused' });
    if (!r1.ok) throw new Error('unreachable');
    expect(await svc.refresh(r1.session.refreshToken, async () => 'user')).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(await svc.verifyAccess(r1.session.accessToken)).toBeNull();
  });

  it('a token verified before still stops at once when its session is revoked, and at its expiry second', async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
    const db = await open();
    const svc = await SessionService.open(db, secret, () => now);
    const a = await svc.issue('u1', 'user');
    const b = await svc.issue('u1', 'admin');
    for (let i = 0; i < 3; i++)
      expect(await svc.verifyAccess(a.accessToken)).toEqual({
        userId: 'u1',
        role: 'user',
        sessionId: a.sessionId,
      });
    expect(await svc.verifyAccess(b.accessToken)).toMatchObject({ role: 'admin' });
    await svc.revokeFamily(a.sessionId);
    expect(await svc.verifyAccess(a.accessToken)).toBeNull();
    await svc.revokeAllForUser(db.kysely, 'u1');
    await svc.published();
    expect(await svc.verifyAccess(b.accessToken)).toBeNull();

    const c = await svc.issue('u1', 'user');
    expect(await svc.verifyAccess(c.accessToken)).not.toBeNull();
    // exp = iat + TTL in whole seconds; jose refuses from that second on, and so does the cache.
    const expMs = (Math.floor(now / 1000) + ACCESS_TTL_S) * 1000;
    now = expMs - 1;
    expect(await svc.verifyAccess(c.accessToken)).not.toBeNull();
    now = expMs;
    expect(await svc.verifyAccess(c.accessToken)).toBeNull();
    now = expMs - 1;
    expect(await svc.verifyAccess(c.accessToken)).not.toBeNull();
  });

  it('a tampered copy of a verified token is refused', async () => {
    const svc = await SessionService.open(await open(), secret);
    const s = await svc.issue('u1', 'user');
    expect(await svc.verifyAccess(s.accessToken)).not.toBeNull();
    const [h, p, sig] = s.accessToken.split('.');
    const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
    forged.role = 'admin';
    expect(
      await svc.verifyAccess([h, Buffer.from(JSON.stringify(forged)).toString('base64url'), sig].join('.')),
    ).toBeNull();
    expect(await svc.verifyAccess(`${s.accessToken}x`)).toBeNull();
  });
});

describe('AccessCache', () => {
  const claims = (n: number) => ({ userId: `u${n}`, role: 'user' as const, sessionId: `s${n}` });

  it('stays within its bound: expired entries go first, then the oldest', () => {
    const cache = new AccessCache(3);
    cache.set('t1', claims(1), 100, 0);
    cache.set('t2', claims(2), 200, 0);
    cache.set('t3', claims(3), 300, 0);
    cache.set('t4', claims(4), 400, 150_000);
    expect(cache.size).toBe(3);
    expect(cache.get('t1', 150_000)).toBeUndefined();
    expect(cache.get('t2', 150_000)).toEqual(claims(2));
    cache.set('t5', claims(5), 500, 150_000);
    expect(cache.size).toBe(3);
    expect(cache.get('t2', 150_000)).toBeUndefined();
    expect(cache.get('t5', 150_000)).toEqual(claims(5));
  });
});
