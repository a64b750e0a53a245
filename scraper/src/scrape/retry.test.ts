import { describe, expect, it } from 'vitest';
import { errorForStatus, HttpRetryableError, NonRetryableError, parseRetryAfter } from './errors.js';
import { backoffDelay, withRetries } from './retry.js';

const policy = { retries: 3, baseDelayMs: 5, maxDelayMs: 40 };

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates, ignores garbage', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('maps statuses to the taxonomy', () => {
    expect(errorForStatus(404, 'u')).toBeInstanceOf(NonRetryableError);
    expect(errorForStatus(403, 'u')).toBeInstanceOf(NonRetryableError);
    const e = errorForStatus(429, 'u', '2') as HttpRetryableError;
    expect(e).toBeInstanceOf(HttpRetryableError);
    expect(e.retryAfterMs).toBe(2000);
    expect(errorForStatus(503, 'u')).toBeInstanceOf(HttpRetryableError);
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt within [step/2, step], capped, and never below Retry-After', () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const step = Math.min(40, 5 * 2 ** attempt);
      expect(backoffDelay(attempt, policy, undefined, () => 0)).toBe(step / 2);
      expect(backoffDelay(attempt, policy, undefined, () => 0.999999)).toBeCloseTo(step, 3);
    }
    expect(backoffDelay(0, policy, 1500, () => 0.5)).toBe(1500);
  });
});

describe('withRetries', () => {
  it('retries retryable errors and reports each retry', async () => {
    const events: number[] = [];
    let calls = 0;
    const out = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw new HttpRetryableError(500, 'u');
        return 'done';
      },
      policy,
      (e) => events.push(e.attempt),
    );
    expect(out).toBe('done');
    expect(events).toEqual([1, 2]);
  });

  it('stops at once on NonRetryableError and after `retries` retries otherwise', async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new NonRetryableError('gone');
        },
        policy,
        () => undefined,
      ),
    ).rejects.toThrow('gone');
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new Error('timeout');
        },
        policy,
        () => undefined,
      ),
    ).rejects.toThrow('timeout');
    expect(calls).toBe(4);
  });
});
