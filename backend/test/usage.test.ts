import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../src/db/db.js';
import { UsageService } from '../src/plans/usage.service.js';
import { AppError } from '../src/platform/errors.js';

describe('UsageService (daily quota)', () => {
  let dir: string;
  let db: Db;
  let now = Date.UTC(2026, 0, 1, 23, 59, 0);
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resemble-usage-'));
    db = await openDb(join(dir, 'app.sqlite'));
    db.prepare("INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'u1@example.com', 'x', '2026-01-01')").run();
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes exactly the quota; a refused search leaves the count where it was', () => {
    const usage = new UsageService(db, () => now);
    for (let i = 0; i < 3; i++) usage.consume('u1', 3);
    let err: unknown;
    for (let i = 0; i < 4; i++) {
      try {
        usage.consume('u1', 3);
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 429, code: 'quota_exceeded', details: { quota: 3, used: 3, resetsAt: '2026-01-02T00:00:00.000Z' } });
    expect(usage.searchesToday('u1')).toBe(3);
  });

  it('counts unlimited searches, runs a quota function inside the transaction, refunds, and starts again each UTC day', () => {
    const usage = new UsageService(db, () => now);
    for (let i = 0; i < 7; i++) usage.consume('u1', null);
    expect(usage.searchesToday('u1')).toBe(7);
    // A plan check failing inside the transaction takes nothing.
    expect(() =>
      usage.consume('u1', () => {
        throw new AppError(403, 'plan_limit', 'no');
      }),
    ).toThrow('no');
    expect(usage.searchesToday('u1')).toBe(7);
    // A downgraded user already past the free quota is refused with the real count.
    expect(() => usage.consume('u1', () => 5)).toThrow(expect.objectContaining({ details: expect.objectContaining({ used: 7 }) }));
    const day = usage.consume('u1', null);
    usage.refund('u1', day);
    expect(usage.searchesToday('u1')).toBe(7);
    now += 60_000;
    expect(usage.searchesToday('u1')).toBe(0);
    usage.consume('u1', 1);
    expect(() => usage.consume('u1', 1)).toThrow(AppError);
    expect(usage.searchesToday('u1')).toBe(1);
  });
});
