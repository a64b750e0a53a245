/**
 * The transport under MlClient: an axios instance whose adapter is an undici keep-alive pool, the whole
 * answer as bytes (proxied answers pass through unparsed), any status returned to the caller (never
 * thrown), and network failures (refused, reset, timed out) as TransportError.
 *
 * Why undici under axios: under load, axios's own node:http adapter cost about 0.3 ms of CPU per call
 * (ClientRequest, agent bookkeeping, setKeepAlive on every reuse), a third of what backend spends on a
 * whole search request; undici's pool does the same call for about a tenth of that (decision 074).
 * axios stays the request API (default headers, params, JSON bodies, timeout, error type).
 */
import axios, { AxiosError, type AxiosAdapter, type AxiosInstance } from 'axios';
import { Pool } from 'undici';

export interface HttpReply {
  status: number;
  body: Buffer;
}

/**
 * What went wrong on the wire, as the retry and breaker rules need it: only `refused` and `reset` are
 * worth another try (the request never ran, or ml-service restarted under it); a `timeout` means the
 * work itself took too long (another copy would take as long again); `aborted` is our own caller leaving.
 */
export type TransportKind = 'refused' | 'reset' | 'timeout' | 'connect-timeout' | 'aborted' | 'other';

/** The request never got a complete answer: refused, reset, timed out, aborted. */
export class TransportError extends Error {
  readonly kind: TransportKind;
  constructor(readonly code: string) {
    super(code);
    this.kind = kindOf(code);
  }
}

function kindOf(code: string): TransportKind {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET': // undici: the other side closed the connection
      return 'reset';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ECONNABORTED': // axios's own timeout
    case 'ETIMEDOUT':
      return 'timeout';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'UND_ERR_ABORTED':
    case 'ERR_CANCELED':
      return 'aborted';
    default:
      return 'other';
  }
}

/** undici's error codes for a request that got no (complete) answer; anything else is a bug, not the network. */
const NETWORK_CODE = /^(UND_ERR_|E[A-Z]+$)/;

/**
 * Sends axios's request through the pool. `config.url` is the path under the pool's origin; params are
 * serialised by axios itself (getUri), which only the lookups with a query need. The timeout is axios's
 * own setting: silence for that long, before the headers or between body chunks, fails the call.
 */
function poolAdapter(pool: Pool): AxiosAdapter {
  return async (config) => {
    try {
      const res = await pool.request({
        method: (config.method ?? 'get').toUpperCase() as 'GET' | 'POST',
        path: config.params ? axios.getUri({ url: config.url, params: config.params }) : config.url!,
        headers: config.headers.toJSON() as Record<string, string>,
        body: config.data as string | undefined,
        headersTimeout: config.timeout,
        bodyTimeout: config.timeout,
        // The caller's abort (its own client left) ends the request: undici closes the connection, which
        // is how ml-service learns to stop the search.
        signal: (config.signal as AbortSignal | undefined) ?? undefined,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      return {
        data: body,
        status: res.statusCode,
        statusText: '',
        headers: res.headers as Record<string, string>,
        config,
        request: null,
      };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && NETWORK_CODE.test(code))
        throw new AxiosError((err as Error).message, code, config);
      throw err;
    }
  };
}

export class KeepAliveHttp {
  private readonly http: AxiosInstance;
  private readonly pool: Pool;
  /** The base URL's path, without a trailing slash ("" for a bare origin). */
  private readonly basePath: string;

  constructor(baseUrl: string, timeoutMs: number, headers: Record<string, string>) {
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    // ml-service is on the internal network: the pool connects to it directly, never through a proxy
    // from the environment, and follows no redirects.
    this.pool = new Pool(url.origin, { connections: 64 });
    this.http = axios.create({
      timeout: timeoutMs,
      headers: { accept: 'application/json', ...headers },
      adapter: poolAdapter(this.pool),
      // Bytes in, bytes out: no decoding or JSON parsing here, and statuses are mapped by the caller.
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
    });
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    opts: {
      params?: Record<string, unknown>;
      json?: unknown;
      headers?: Record<string, string>;
      /** This call's own timeout (default: the instance's). */
      timeoutMs?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<HttpReply> {
    try {
      const res = await this.http.request<Buffer>({
        method,
        url: this.basePath + path,
        params: opts.params,
        data: opts.json,
        headers: opts.headers,
        ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
        signal: opts.signal,
      });
      return { status: res.status, body: res.data };
    } catch (err) {
      if (axios.isAxiosError(err)) throw new TransportError(err.code ?? err.message);
      throw err;
    }
  }

  /** Closes the pooled connections (graceful shutdown). */
  close(): Promise<void> {
    return this.pool.close();
  }
}
