import Bottleneck from 'bottleneck';
import type pino from 'pino';
import { errorForStatus, HttpRetryableError, parseRetryAfter, RobotsDisallowedError } from './errors.js';
import { withRetries } from './retry.js';
import { RobotsGuard } from './robots.js';
import type { Limits } from './source-config.js';

/**
 * Every request the scraper makes goes through here: robots.txt first, then a per-host rate limit,
 * then retries with backoff. The browser adapter passes its own request function, so page loads obey
 * the same rules as plain HTTP.
 */
export class PoliteClient {
  private readonly limiters = new Map<string, Promise<Bottleneck>>();
  private readonly robots: RobotsGuard;

  constructor(
    private readonly opts: { userAgent: string; limits: Limits; respectRobots: boolean; log: pino.Logger },
  ) {
    // A flaky robots.txt would otherwise close the whole host for the run, so it gets the same retries.
    this.robots = new RobotsGuard(opts.userAgent, (url) =>
      withRetries(
        async () => {
          const res = await fetch(url, {
            headers: { 'user-agent': opts.userAgent },
            signal: AbortSignal.timeout(opts.limits.timeoutMs),
          });
          const body = await res.text();
          if (res.status >= 500 || res.status === 429) {
            throw new HttpRetryableError(res.status, url, parseRetryAfter(res.headers.get('retry-after')));
          }
          return { status: res.status, body };
        },
        {
          retries: opts.limits.retries,
          baseDelayMs: opts.limits.backoffBaseMs,
          maxDelayMs: opts.limits.backoffMaxMs,
        },
        ({ attempt, delayMs, error }) =>
          opts.log.warn({ url, attempt, delayMs: Math.round(delayMs), reason: error.message }, 'retrying'),
      ),
    );
  }

  private limiterFor(url: string): Promise<Bottleneck> {
    const host = new URL(url).host;
    let limiter = this.limiters.get(host);
    if (!limiter) {
      limiter = (async () => {
        const { perHostConcurrency, minTimeMs } = this.opts.limits;
        const crawlDelay = this.opts.respectRobots ? await this.robots.crawlDelayMs(url) : undefined;
        return new Bottleneck({
          maxConcurrent: perHostConcurrency === 0 ? null : perHostConcurrency,
          minTime: Math.max(minTimeMs, crawlDelay ?? 0),
        });
      })();
      this.limiters.set(host, limiter);
    }
    return limiter;
  }

  /** Runs `attempt` for `url` politely; `code` only labels the log lines. */
  async request<T>(url: string, code: string, attempt: () => Promise<T>): Promise<T> {
    if (this.opts.respectRobots && !(await this.robots.isAllowed(url))) {
      throw new RobotsDisallowedError(`robots.txt disallows ${url}`);
    }
    const limiter = await this.limiterFor(url);
    const { retries, backoffBaseMs, backoffMaxMs } = this.opts.limits;
    return withRetries(
      () => limiter.schedule(attempt),
      { retries, baseDelayMs: backoffBaseMs, maxDelayMs: backoffMaxMs },
      ({ attempt: n, delayMs, error }) =>
        this.opts.log.warn(
          { code, url, attempt: n, delayMs: Math.round(delayMs), reason: error.message },
          'retrying',
        ),
    );
  }

  /** GET `url` as text; non-2xx answers become the errors the retry loop understands. */
  fetchText(url: string, code: string): Promise<string> {
    return this.request(url, code, async () => {
      const res = await fetch(url, {
        headers: { 'user-agent': this.opts.userAgent, accept: 'text/csv, text/plain;q=0.9, */*;q=0.1' },
        signal: AbortSignal.timeout(this.opts.limits.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw errorForStatus(res.status, url, res.headers.get('retry-after'));
      }
      return await res.text();
    });
  }

  async close(): Promise<void> {
    for (const limiter of this.limiters.values()) await (await limiter).disconnect();
  }
}
