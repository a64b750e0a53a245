import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../src/db/db.js';
import { REFRESH_TTL_S, SessionService } from '../src/auth/sessions.js';

const secret = new TextEncoder().encode('s'.repeat(40));

describe('SessionService', () => {
  let dir: string;
  let dbs: Db[] = [];
  const open = () => {
    const db = openDb(join(dir, 'app.sqlite'));
    dbs.push(db);
    db.prepare("INSERT OR IGNORE INTO users (id, email, password_hash, created_at) VALUES ('u1', 'u1@example.com', 'x', '2026-01-01')").run();
    return db;
  };
  afterEach(() => {
    for (const d of dbs) d.close();
    dbs = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps revocations across a restart (SQLite behind the in-memory cache)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'resemble-sessions-'));
    const a = new SessionService(open(), secret);
    const s = await a.issue('u1', 'user');
    expect(await a.verifyAccess(s.accessToken)).toMatchObject({ userId: 'u1', sessionId: s.sessionId });
    a.revokeFamily(s.sessionId);
    expect(await a.verifyAccess(s.accessToken)).toBeNull();
    const restarted = new SessionService(open(), secret);
    expect(await restarted.verifyAccess(s.accessToken)).toBeNull();
  });

  it('refuses expired refresh tokens and a JWT signed with another secret', async () => {
    dir = mkdtempSync(join(tmpdir(), 'resemble-sessions-'));
    let now = Date.now();
    const svc = new SessionService(open(), secret, () => now);
    const s = await svc.issue('u1', 'user');
    const other = new SessionService(open(), new TextEncoder().encode('o'.repeat(40)), () => now);
    expect(await other.verifyAccess(s.accessToken)).toBeNull();
    now += (REFRESH_TTL_S + 1) * 1000;
    expect(await svc.refresh(s.refreshToken, () => 'user')).toEqual({ ok: false, reason: 'expired' });
  });

  it('rotation hands out a new token once; the old one then revokes the family', async () => {
    dir = mkdtempSync(join(tmpdir(), 'resemble-sessions-'));
    const svc = new SessionService(open(), secret);
    const s = await svc.issue('u1', 'user');
    const r1 = await svc.refresh(s.refreshToken, () => 'user');
    expect(r1.ok).toBe(true);
    const reused = await svc.refresh(s.refreshToken, () => 'user');
    expect(reused).toEqual({ ok: false, reason: 'reused' });
    if (!r1.ok) throw new Error('unreachable');
    expect(await svc.refresh(r1.session.refreshToken, () => 'user')).toEqual({ ok: false, reason: 'unknown' });
    expect(await svc.verifyAccess(r1.session.accessToken)).toBeNull();
  });
});
