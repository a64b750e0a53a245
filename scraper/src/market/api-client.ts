/**
 * A JSON HTTP API client for data providers: one auth header, a per-plan request rate (requests per
 * minute, spaced evenly so a burst never trips the provider's limit), retries with backoff on 5xx and
 * 429 that honour Retry-After, and no traffic anywhere but the configured base URL.
 */
import Bottleneck from 'bottleneck';
import type pino from 'pino';
import { errorForStatus, NonRetryableError } from '../scrape/errors.js';
import { withRetries } from '../scrape/retry.js';

export interface ApiClientOptions {
  baseUrl: string;
  /** Header name and value carrying the key (e.g. x-api-key, or authorization: Bearer …). */
  auth: { header: string; value: string };
  requestsPerMinute: number;
  timeoutMs?: number;
  retries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  userAgent: string;
  log: pino.Logger;
}

export class ApiClient {
  private readonly limiter: Bottleneck;
  /** Requests sent (including retries), for reports and benchmarks. */
  requests = 0;
  /** 429 answers received. */
  throttled = 0;

  constructor(private readonly o: ApiClientOptions) {
    if (!(o.requestsPerMinute > 0)) throw new Error('requestsPerMinute must be > 0');
    this.limiter = new Bottleneck({ maxConcurrent: 1, minTime: Math.ceil(60_000 / o.requestsPerMinute) });
  }

  url(path: string, params: Record<string, string | undefined>): string {
    const u = new URL(
      path.replace(/^\//, ''),
      this.o.baseUrl.endsWith('/') ? this.o.baseUrl : `${this.o.baseUrl}/`,
    );
    for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
    return u.toString();
  }

  /** GET path?params as JSON. 401/403 stop at once (a wrong key does not get better by retrying). */
  async getJson(path: string, params: Record<string, string | undefined> = {}): Promise<unknown> {
    const url = this.url(path, params);
    return withRetries(
      () =>
        this.limiter.schedule(async () => {
          this.requests++;
          const res = await fetch(url, {
            headers: {
              [this.o.auth.header]: this.o.auth.value,
              'user-agent': this.o.userAgent,
              accept: 'application/json',
            },
            signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
          });
          if (res.ok) return (await res.json()) as unknown;
          const body = await res.text().catch(() => '');
          if (res.status === 429) this.throttled++;
          if (res.status === 401 || res.status === 403) {
            throw new NonRetryableError(
              `HTTP ${res.status} from ${new URL(url).pathname}: the API key was refused (${body.slice(0, 200)})`,
            );
          }
          throw errorForStatus(res.status, url, res.headers.get('retry-after'));
        }),
      {
        retries: this.o.retries ?? 5,
        baseDelayMs: this.o.backoffBaseMs ?? 1000,
        maxDelayMs: this.o.backoffMaxMs ?? 60_000,
      },
      ({ attempt, delayMs, error }) =>
        this.o.log.warn({ path, attempt, delayMs: Math.round(delayMs), reason: error.message }, 'retrying'),
    );
  }

  async close(): Promise<void> {
    await this.limiter.disconnect();
  }
}
