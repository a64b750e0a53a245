import { HttpRetryableError, NonRetryableError } from './errors.js';

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: Error;
}

/**
 * Exponential backoff with "equal jitter": half the step fixed, half random, so a crowd of clients
 * that failed together does not come back together. A server's Retry-After wins when it asks for more.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = step / 2 + random() * (step / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Runs `fn` until it succeeds, throws a NonRetryableError, or `policy.retries` retries are spent. */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry: (event: RetryEvent) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (error instanceof NonRetryableError || attempt >= policy.retries) throw error;
      const retryAfter = error instanceof HttpRetryableError ? error.retryAfterMs : undefined;
      const delayMs = backoffDelay(attempt, policy, retryAfter);
      onRetry({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs);
    }
  }
}
