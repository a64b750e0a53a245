/**
 * The scraper's error taxonomy (after crawlee's): anything thrown is retried by default;
 * NonRetryableError fails one entity at once (a delisted code, a redesigned page); CriticalError stops
 * the whole run (the store cannot be written, so carrying on would only lose work).
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

export class CriticalError extends Error {
  override name = 'CriticalError';
}

/** robots.txt forbids the URL: the entity is skipped, not failed. */
export class RobotsDisallowedError extends NonRetryableError {
  override name = 'RobotsDisallowedError';
}

/** A retryable HTTP answer (5xx, 429, 408); `retryAfterMs` carries the server's Retry-After. */
export class HttpRetryableError extends Error {
  override name = 'HttpRetryableError';
  constructor(
    readonly status: number,
    readonly url: string,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status} from ${url}`);
  }
}

/** Parses Retry-After (delta-seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Maps a non-2xx status to the error the retry loop understands. */
export function errorForStatus(status: number, url: string, retryAfter?: string | null): Error {
  if (status === 404 || status === 410)
    return new NonRetryableError(`not found (HTTP ${status}): delisted or unknown code, ${url}`);
  if (status === 429 || status === 408 || status >= 500)
    return new HttpRetryableError(status, url, parseRetryAfter(retryAfter));
  return new NonRetryableError(`HTTP ${status} from ${url}`);
}
