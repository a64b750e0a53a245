/**
 * The daily quota in Redis (redis.state.ts's Lua scripts) against a real redis-server: concurrent
 * searches never pass the quota, a quota of 0 refuses the first, an unlimited plan is still counted, a
 * give-back never goes below zero, the key expires, and a count kept by rate-limiter-flexible (the
 * version before, same key and value) carries on.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/platform/errors.js';
import { utcDay } from '../src/plans/usage.service.js';
import { redisState } from '../src/shared/redis.state.js';
import type { SharedState } from '../src/shared/shared-state.js';
import { startRedis, type RedisServer } from './support/redis-server.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const DAY = utcDay(NOW);

describe('the quota in Redis', () => {
  let redis: RedisServer;
  let state: SharedState;
  beforeAll(async () => {
    redis = await startRedis();
    state = await redisState(redis.url, () => NOW, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await state?.close();
    await redis?.stop();
  });

  const outcome = (p: Promise<string>) =>
    p.then(
      () => 'ok',
      (err: unknown) => (err instanceof AppError ? `${err.status} ${err.code}` : String(err)),
    );

  it('lets exactly `quota` of 40 concurrent searches through, then refuses with 429', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, () => outcome(state.quota.consume('u-conc', () => 5))),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    expect(results.filter((r) => r === '429 quota_exceeded')).toHaveLength(35);
    expect(await state.quota.searchesToday('u-conc')).toBe(5);
    const ttl = await redis.client.ttl(`resemble:quota:u-conc:${DAY}`);
    expect(ttl).toBeGreaterThan(86_400);
    expect(ttl).toBeLessThanOrEqual(2 * 86_400);
  });

  it('refuses the first search on a quota of 0 and writes nothing', async () => {
    expect(await outcome(state.quota.consume('u-zero', () => 0))).toBe('429 quota_exceeded');
    expect(await redis.client.exists(`resemble:quota:u-zero:${DAY}`)).toBe(0);
  });

  it('counts an unlimited plan, and a plan check that throws counts nothing', async () => {
    for (let i = 0; i < 7; i++) expect(await state.quota.consume('u-pro', () => null)).toBe(DAY);
    expect(await state.quota.searchesToday('u-pro')).toBe(7);
    const refused = state.quota.consume('u-pro', () => {
      throw new AppError(403, 'plan_limit', 'no');
    });
    expect(await outcome(refused)).toBe('403 plan_limit');
    expect(await state.quota.searchesToday('u-pro')).toBe(7);
  });

  it('gives a search back, never below zero', async () => {
    const day = await state.quota.consume('u-back', () => 3);
    await state.quota.refund('u-back', day);
    expect(await state.quota.searchesToday('u-back')).toBe(0);
    await state.quota.refund('u-back', day);
    await state.quota.refund('u-back', day);
    expect(await state.quota.searchesToday('u-back')).toBe(0);
    for (let i = 0; i < 3; i++) await state.quota.consume('u-back', () => 3);
    expect(await outcome(state.quota.consume('u-back', () => 3))).toBe('429 quota_exceeded');
  });

  it('carries on a count rate-limiter-flexible kept under the same key', async () => {
    // rate-limiter-flexible's key was `${keyPrefix}:${key}` with keyPrefix resemble:quota, its value the count.
    await redis.client.set(`resemble:quota:u-old:${DAY}`, '4', 'EX', 3600);
    expect(await state.quota.searchesToday('u-old')).toBe(4);
    expect(await state.quota.consume('u-old', () => 5)).toBe(DAY);
    expect(await outcome(state.quota.consume('u-old', () => 5))).toBe('429 quota_exceeded');
    // The expiry it had is kept (a new day's key gets its own).
    expect(await redis.client.ttl(`resemble:quota:u-old:${DAY}`)).toBeLessThanOrEqual(3600);
  });
});
