/**
 * The typed client of backend's public API, built from the route contract (api-contract.ts): one method
 * per route, taking that route's params/query/body and resolving to its success body. The browser, the
 * cross-service tests and the bench all use it. It sends the CSRF header on writes (from the readable
 * csrf_token cookie), refreshes the session once on a 401, sends an Idempotency-Key with every create that
 * takes one (retrying it once when the answer was lost) and turns every failure into an ApiError
 * carrying backend's `{ error: { code, message, details } }`.
 * At run time it reads only the plain route table (api-routes.ts, generated from the contract), never the
 * zod schemas: the browser loads it on every page (decision 128).
 */
import type { Api } from './api-contract.js';
import { apiRoutes } from './api-routes.js';
import type { ClientRoute } from './client-route.js';
import {
  fillPath,
  type RequestOf,
  type RouteDef,
  type RouteMap,
  type SuccessBodyOf,
} from './route-contract.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** One of ERROR_CODES from backend; 'network_error', 'server_unavailable' or 'http_error' when none came. */
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  fetch: typeof globalThis.fetch;
  /** Where /api/v1 is; same-origin '/api/v1' in the browser. */
  baseUrl?: string;
  /** Current value of the csrf_token cookie (read fresh each call: refresh rotates it). */
  csrfToken?: () => string | undefined;
  /** Headers sent with every call (a Bearer API token, say). */
  headers?: () => Record<string, string>;
  /** Called when a refresh also fails: the session is gone. */
  onSessionLost?: () => void;
}

/** Per call: the route's inputs plus an abort signal and extra headers (x-request-id, say). */
export type CallArgs<R extends RouteDef> = RequestOf<R> & {
  signal?: AbortSignal;
  headers?: Record<string, string>;
};
type NeedsArgs<R extends RouteDef> = R['params'] extends object
  ? true
  : R['body'] extends object
    ? true
    : false;
export type CallOf<R extends RouteDef> =
  NeedsArgs<R> extends true
    ? (args: CallArgs<R>) => Promise<SuccessBodyOf<R>>
    : (args?: CallArgs<R>) => Promise<SuccessBodyOf<R>>;

export type ApiClient<C extends RouteMap = Api> = { [K in keyof C]: CallOf<C[K]> } & {
  /** The raw Response of a route after the CSRF header and the 401 refresh (a CSV download, status checks). */
  $response<K extends keyof C>(
    name: K,
    ...args: NeedsArgs<C[K]> extends true ? [CallArgs<C[K]>] : [CallArgs<C[K]>?]
  ): Promise<Response>;
};

const REFRESH: keyof Api = 'refresh';
/** A 401 from these means the credentials are wrong, not that the session expired. */
const NO_REFRESH = new Set<string>(['login', 'register', 'refresh', 'logout']);

export function readCookie(cookieHeader: string, name: string): string | undefined {
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export async function toApiError(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  if (err && typeof err.message === 'string') {
    return new ApiError(
      res.status,
      typeof err.code === 'string' ? err.code : 'error',
      err.message,
      err.details,
    );
  }
  const fallback = res.status >= 500 ? 'server_unavailable' : 'http_error';
  return new ApiError(res.status, fallback, `${res.status} ${res.statusText || 'request failed'}`);
}

interface AnyArgs {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** 128 random bits as hex: getRandomValues, unlike randomUUID, also works on a plain-http LAN address. */
function newIdempotencyKey(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createApiClient(opts: ApiClientOptions): ApiClient {
  const contract: Readonly<Record<string, ClientRoute>> = apiRoutes;
  const base = opts.baseUrl ?? '/api/v1';
  let refreshing: Promise<boolean> | null = null;

  /**
   * A create that takes an Idempotency-Key is safe to send twice: when its answer was lost (the network
   * dropped, or the proxy answered 502/503 because the replica died mid-request) it is sent once more
   * with the same key, and backend answers with what the first try made instead of making it again.
   */
  async function send(r: ClientRoute, a: AnyArgs): Promise<Response> {
    if (!r.idempotent) return sendOnce(r, a);
    const keyed = { ...a, headers: { 'idempotency-key': newIdempotencyKey(), ...a.headers } };
    try {
      const res = await sendOnce(r, keyed);
      if (res.status !== 502 && res.status !== 503) return res;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'network_error')) throw err;
    }
    return sendOnce(r, keyed);
  }

  async function sendOnce(r: ClientRoute, a: AnyArgs): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers?.(), ...a.headers };
    const body = r.body ? JSON.stringify(a.body ?? {}) : undefined;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (r.method !== 'GET') {
      const csrf = opts.csrfToken?.();
      if (csrf) headers['x-csrf-token'] = csrf;
    }
    let url = base + fillPath(r.path, a.params);
    if (a.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(a.query)) if (v !== undefined && v !== '') qs.set(k, String(v));
      const s = qs.toString();
      if (s) url += `?${s}`;
    }
    try {
      return await opts.fetch(url, {
        method: r.method,
        headers,
        credentials: 'same-origin',
        body,
        signal: a.signal,
      });
    } catch (cause) {
      if ((cause as Error)?.name === 'AbortError') throw cause;
      throw new ApiError(0, 'network_error', 'network_error');
    }
  }

  function refresh(): Promise<boolean> {
    // Concurrent 401s share one refresh so the rotated refresh token is not spent twice.
    refreshing ??= send(apiRoutes[REFRESH], {})
      .then((r) => r.ok)
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  async function response(name: string, a: AnyArgs = {}): Promise<Response> {
    const r = contract[name];
    if (!r) throw new Error(`no route named ${name}`);
    let res = await send(r, a);
    if (res.status === 401 && !NO_REFRESH.has(name) && r.auth !== 'public') {
      if (await refresh()) res = await send(r, a);
      if (res.status === 401) opts.onSessionLost?.();
    }
    return res;
  }

  async function call(name: string, a: AnyArgs = {}): Promise<unknown> {
    const res = await response(name, a);
    if (!res.ok) throw await toApiError(res);
    if (res.status === 204) return undefined;
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return json && text ? JSON.parse(text) : text;
  }

  const client: Record<string, unknown> = { $response: response };
  for (const name of Object.keys(contract)) client[name] = (a?: AnyArgs) => call(name, a);
  return client as ApiClient;
}

/**
 * A cookie jar around fetch for callers outside a browser (tests, bench): keeps what Set-Cookie sets and
 * sends it back, as a browser would on one origin. `csrfToken` reads the jar's csrf_token for the client.
 */
export function cookieJar(inner: typeof globalThis.fetch = globalThis.fetch) {
  const cookies = new Map<string, string>();
  const fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await inner(input, { ...init, headers });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      // Cleared cookies come back empty with a past expiry.
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return res;
  }) as typeof globalThis.fetch;
  return { fetch, cookies, csrfToken: () => cookies.get('csrf_token') };
}
