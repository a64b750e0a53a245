/**
 * The only way backend reaches ml-service: token on every call, request id forwarded, timeouts,
 * retries for idempotent reads, and a circuit breaker so a dead ml-service costs nothing but a 503.
 */
import {
  entitiesResponseSchema,
  entityFacetsSchema,
  mlHealthSchema,
  type EntitiesResponse,
  type EntityFacets,
  type MlHealth,
  type PredictRequest,
  type SimilarRequest,
  type Timeframe,
} from '@resemble/contracts';
import type { Logger } from 'pino';
import { AppError } from '../platform/errors.js';
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.js';
import { KeepAliveHttp, TransportError, type HttpReply } from './ml.http.js';

export interface MlClientOptions {
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  retries?: number;
  logger: Logger;
}

export class MlClient {
  private readonly http: KeepAliveHttp;
  private readonly breaker = new CircuitBreaker(5, 5_000);
  private readonly retries: number;
  private readonly log: Logger;

  constructor(opts: MlClientOptions) {
    this.http = new KeepAliveHttp(opts.baseUrl, opts.timeoutMs, opts.token ? { authorization: `Bearer ${opts.token}` } : {});
    this.retries = opts.retries ?? 2;
    this.log = opts.logger.child({ module: 'ml.client' });
  }

  /** Closes the keep-alive connections to ml-service. */
  close(): Promise<void> {
    return this.http.close();
  }

  get circuitState(): string {
    return this.breaker.state;
  }

  async health(requestId?: string): Promise<MlHealth> {
    return mlHealthSchema.parse(await this.call('GET', '/health', undefined, requestId, { acceptUnavailable: true }));
  }

  similar(body: SimilarRequest, requestId?: string): Promise<unknown> {
    return this.call('POST', '/v1/similar', body, requestId);
  }

  predict(body: PredictRequest, requestId?: string): Promise<unknown> {
    return this.call('POST', '/v1/predict', body, requestId);
  }

  /**
   * The proxy routes pass ml-service's JSON bytes through: decoding, parsing and re-serialising a
   * response that must reach the client unchanged would only cost CPU on the hottest path.
   */
  similarBytes(body: SimilarRequest, requestId?: string): Promise<Buffer> {
    return this.call('POST', '/v1/similar', body, requestId, { raw: true }) as Promise<Buffer>;
  }

  predictBytes(body: PredictRequest, requestId?: string): Promise<Buffer> {
    return this.call('POST', '/v1/predict', body, requestId, { raw: true }) as Promise<Buffer>;
  }

  async entities(q: string, limit: number, requestId?: string): Promise<EntitiesResponse> {
    return entitiesResponseSchema.parse(await this.call('GET', '/v1/entities', undefined, requestId, { params: { q, limit } }));
  }

  async facets(requestId?: string): Promise<EntityFacets> {
    return entityFacetsSchema.parse(await this.call('GET', '/v1/entities/facets', undefined, requestId));
  }

  /** Daily rows, or candles of `timeframe` resampled by ml-service (contracts/src/timeframe.ts). */
  prices(code: string, from: string | undefined, to: string | undefined, requestId?: string, timeframe: Timeframe = 'D'): Promise<unknown> {
    return this.call('GET', `/v1/entities/${encodeURIComponent(code)}/prices`, undefined, requestId, { params: { from, to, timeframe } });
  }

  /** similar and predict are pure reads, so every call here is safe to retry. */
  private async call(
    method: 'GET' | 'POST',
    url: string,
    data: unknown,
    requestId: string | undefined,
    opts: { params?: Record<string, unknown>; acceptUnavailable?: boolean; raw?: boolean } = {},
  ): Promise<unknown> {
    const attempt = async () => {
      const res = await this.http.request(method, url, { json: data, params: opts.params, headers: requestId ? { 'x-request-id': requestId } : undefined });
      if (res.status >= 500 && !(opts.acceptUnavailable && res.status === 503)) {
        throw new MlUnavailable(`ml-service answered ${res.status}`);
      }
      return res;
    };
    let res: HttpReply;
    try {
      res = await this.breaker.fire(() => this.withRetries(attempt), (e) => e instanceof MlUnavailable);
    } catch (err) {
      if (err instanceof CircuitOpenError || err instanceof MlUnavailable) {
        this.log.warn({ url, reason: err.message }, 'ml-service unavailable');
        throw new AppError(503, 'ml_unavailable', 'the search service is temporarily unavailable; please try again shortly');
      }
      throw err;
    }
    if (res.status >= 400) throw passThrough(res.status, parseOrUndefined(res.body));
    return opts.raw ? res.body : parseOrText(res.body);
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        const mapped = err instanceof TransportError ? new MlUnavailable(err.code) : err;
        if (!(mapped instanceof MlUnavailable) || i >= this.retries) throw mapped;
        await new Promise((r) => setTimeout(r, 50 * 2 ** i));
      }
    }
  }
}

class MlUnavailable extends Error {}

function parseOrUndefined(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString());
  } catch {
    return undefined;
  }
}

/** As axios did by default: JSON when it parses, otherwise the text itself. */
function parseOrText(body: Buffer): unknown {
  const text = body.toString();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** ml-service's 4xx answers are about the caller's request, so they go back with their code and message. */
function passThrough(status: number, body: unknown): AppError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (status === 401 || status === 403) {
    // A token mismatch between backend and ml-service is our misconfiguration, not the user's.
    return new AppError(503, 'ml_unavailable', 'the search service rejected backend credentials');
  }
  return new AppError(
    status,
    typeof e?.code === 'string' ? e.code : 'invalid_request',
    typeof e?.message === 'string' ? e.message : 'the search service rejected the request',
    e?.details,
  );
}
