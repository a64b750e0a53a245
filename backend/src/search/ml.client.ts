/**
 * The only way backend reaches ml-service: token on every call, request id forwarded, timeouts, and a
 * circuit breaker so a dead ml-service costs nothing but a 503.
 *
 * The chain must not amplify load (issue 14): a call is retried only when its connection was refused or
 * reset (the request never ran, or ml-service restarted under it), never after a timeout (a second copy
 * of a search that took too long takes as long again, beside the first). A search carries its time
 * budget to ml-service (ML_DEADLINE_HEADER), which stops it when the budget runs out and answers 504;
 * that answer, and a timeout here, are the caller's search being too long, not ml-service being down,
 * so neither counts toward the breaker. A caller that leaves (its client disconnected) aborts the call,
 * and ml-service stops the search.
 */
import {
  ML_DEADLINE_HEADER,
  errorCodeSchema,
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

/** How one search call may end: its time budget (from the user's plan) and its caller's abort. */
export interface SearchCallOptions {
  /** The answer is due this many ms after the call starts; ml-service is told and stops the search then. */
  budgetMs?: number;
  /** Aborted when the caller's own client left: the call ends and ml-service stops the search. */
  signal?: AbortSignal;
}

/**
 * Beyond the budget, how long backend still waits for ml-service's own 504 (which names the cause)
 * before it gives up on the connection itself.
 */
const DEADLINE_GRACE_MS = 1_000;

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
    this.http = new KeepAliveHttp(
      opts.baseUrl,
      opts.timeoutMs,
      opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    );
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
    return mlHealthSchema.parse(
      await this.call('GET', '/health', undefined, requestId, { acceptUnavailable: true }),
    );
  }

  similar(body: SimilarRequest, requestId?: string): Promise<unknown> {
    return this.call('POST', '/v1/similar', body, requestId);
  }

  /** Whether a search with this body would run (ml-service's own 4xx if not), without searching. */
  async checkSimilar(body: SimilarRequest, requestId?: string): Promise<void> {
    await this.call('POST', '/v1/similar/check', body, requestId);
  }

  predict(body: PredictRequest, requestId?: string): Promise<unknown> {
    return this.call('POST', '/v1/predict', body, requestId);
  }

  /**
   * The proxy routes pass ml-service's JSON bytes through: decoding, parsing and re-serialising a
   * response that must reach the client unchanged would only cost CPU on the hottest path.
   */
  similarBytes(body: SimilarRequest, requestId?: string, search: SearchCallOptions = {}): Promise<Buffer> {
    return this.call('POST', '/v1/similar', body, requestId, { raw: true, ...search }) as Promise<Buffer>;
  }

  predictBytes(body: PredictRequest, requestId?: string, search: SearchCallOptions = {}): Promise<Buffer> {
    return this.call('POST', '/v1/predict', body, requestId, { raw: true, ...search }) as Promise<Buffer>;
  }

  async entities(q: string, limit: number, requestId?: string): Promise<EntitiesResponse> {
    return entitiesResponseSchema.parse(
      await this.call('GET', '/v1/entities', undefined, requestId, { params: { q, limit } }),
    );
  }

  async facets(requestId?: string): Promise<EntityFacets> {
    return entityFacetsSchema.parse(await this.call('GET', '/v1/entities/facets', undefined, requestId));
  }

  /** Daily rows, or candles of `timeframe` resampled by ml-service (contracts/src/timeframe.ts). */
  prices(
    code: string,
    from: string | undefined,
    to: string | undefined,
    requestId?: string,
    timeframe: Timeframe = 'D',
  ): Promise<unknown> {
    return this.call('GET', `/v1/entities/${encodeURIComponent(code)}/prices`, undefined, requestId, {
      params: { from, to, timeframe },
    });
  }

  /** similar and predict are pure reads, so a call that never ran is safe to send again. */
  private async call(
    method: 'GET' | 'POST',
    url: string,
    data: unknown,
    requestId: string | undefined,
    opts: {
      params?: Record<string, unknown>;
      acceptUnavailable?: boolean;
      raw?: boolean;
    } & SearchCallOptions = {},
  ): Promise<unknown> {
    const { budgetMs, signal } = opts;
    const due = budgetMs !== undefined ? Date.now() + budgetMs : null;
    const attempt = async () => {
      const headers: Record<string, string> = requestId ? { 'x-request-id': requestId } : {};
      let timeoutMs: number | undefined;
      if (due !== null) {
        const left = due - Date.now();
        if (left <= 0) throw new TransportError('ETIMEDOUT');
        headers[ML_DEADLINE_HEADER] = String(left);
        timeoutMs = left + DEADLINE_GRACE_MS;
      }
      const res = await this.http.request(method, url, {
        json: data,
        params: opts.params,
        headers,
        timeoutMs,
        signal,
      });
      // 504 is ml-service saying the search ran out of its budget: the caller's answer, passed through.
      if (res.status >= 500 && res.status !== 504 && !(opts.acceptUnavailable && res.status === 503)) {
        throw new MlUnavailable(`ml-service answered ${res.status}`);
      }
      return res;
    };
    let res: HttpReply;
    try {
      res = await this.breaker.fire(() => this.withRetries(attempt), countsAsDown);
    } catch (err) {
      if (err instanceof TransportError && err.kind === 'timeout') {
        throw new AppError(
          504,
          'search_timeout',
          budgetMs !== undefined
            ? `the search did not finish within its time budget of ${budgetMs} ms`
            : 'the search service did not answer in time',
        );
      }
      if (err instanceof TransportError && err.kind === 'aborted') {
        throw new AppError(499, 'client_closed', 'the client closed the request');
      }
      if (err instanceof CircuitOpenError || err instanceof MlUnavailable || err instanceof TransportError) {
        this.log.warn({ url, reason: err.message }, 'ml-service unavailable');
        throw new AppError(
          503,
          'ml_unavailable',
          'the search service is temporarily unavailable; please try again shortly',
        );
      }
      throw err;
    }
    if (res.status >= 400) throw passThrough(res.status, parseOrUndefined(res.body));
    return opts.raw ? res.body : parseOrText(res.body);
  }

  /** Sends again only a call whose connection was refused or reset (see the file comment). */
  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        const again = err instanceof TransportError && (err.kind === 'refused' || err.kind === 'reset');
        if (!again || i >= this.retries) throw err;
        await new Promise((r) => setTimeout(r, 50 * 2 ** i));
      }
    }
  }
}

/**
 * What opens the breaker: ml-service not reachable or failing. Not a timeout (the search was too long
 * for its budget) nor an abort (our caller left).
 */
function countsAsDown(err: unknown): boolean {
  if (err instanceof MlUnavailable) return true;
  return err instanceof TransportError && err.kind !== 'timeout' && err.kind !== 'aborted';
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
    // ml-service sends only listed codes (its AppError takes an ErrorCode); anything else is a bad request.
    errorCodeSchema.safeParse(e?.code).data ?? 'invalid_request',
    typeof e?.message === 'string' ? e.message : 'the search service rejected the request',
    e?.details,
  );
}
