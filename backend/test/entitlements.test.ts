import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../src/db/db.js';
import { currentPlan, planOf } from '../src/plans/entitlements.js';
import { buildPlans } from '../src/plans/plans.js';
import { loadConfig } from '../src/config.js';

describe('currentPlan (the search path) agrees with planOf', () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resemble-plans-'));
    db = await openDb(join(dir, 'app.sqlite'));
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('for every status, a period ended or not, and no subscription at all', () => {
    const plans = buildPlans(loadConfig({ APP_DB: ':memory:' }));
    const now = Date.UTC(2026, 5, 1);
    const ends = ['2026-05-31T23:59:59.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.001Z', '2026-07-01T00:00:00.000Z'];
    let n = 0;
    const insertUser = db.prepare("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, 'x', '2026-01-01')");
    const insertSub = db.prepare(
      "INSERT INTO subscriptions (id, user_id, plan, provider, status, current_period_start, current_period_end, created_at, updated_at) VALUES (?, ?, 'pro', 'sandbox', ?, '2026-05-01T00:00:00.000Z', ?, 'x', 'x')",
    );
    insertUser.run('nobody', 'nobody@example.com');
    expect(currentPlan(db, plans, 'nobody', now)).toBe(planOf(db, plans, 'nobody', now).plan);
    for (const status of ['active', 'past_due', 'canceled', 'incomplete']) {
      for (const end of ends) {
        const id = `u${n++}`;
        insertUser.run(id, `${id}@example.com`);
        insertSub.run(`s-${id}`, id, status, end);
        expect(currentPlan(db, plans, id, now)).toBe(planOf(db, plans, id, now).plan);
      }
    }
    expect(currentPlan(db, plans, 'u3', now).id).toBe('pro');
    expect(currentPlan(db, plans, 'u1', now).id).toBe('free');
  });
});
