/**
 * The one way the browser talks to backend: same-origin fetch under /api/v1, CSRF double-submit
 * header on writes, one silent refresh on 401, and every failure turned into an ApiError carrying
 * backend's `{ error: { code, message, details } }`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
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
  /** Current value of the csrf_token cookie (read fresh each call: refresh rotates it). */
  csrfToken: () => string | undefined;
  baseUrl?: string;
  /** Called when a refresh also fails: the session is gone. */
  onSessionLost?: () => void;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Return the raw Response (CSV download). */
  raw?: boolean;
  signal?: AbortSignal;
}

const REFRESH_PATH = '/auth/refresh';
const NO_REFRESH = new Set(['/auth/login', '/auth/register', REFRESH_PATH, '/auth/logout']);

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

export function createApiClient(opts: ApiClientOptions) {
  const base = opts.baseUrl ?? '/api/v1';
  let refreshing: Promise<boolean> | null = null;

  async function send(path: string, o: RequestOptions): Promise<Response> {
    const method = o.method ?? (o.body === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') {
      const csrf = opts.csrfToken();
      if (csrf) headers['x-csrf-token'] = csrf;
    }
    let url = base + path;
    if (o.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(o.query)) if (v !== undefined && v !== '') qs.set(k, String(v));
      const s = qs.toString();
      if (s) url += `?${s}`;
    }
    try {
      return await opts.fetch(url, {
        method,
        headers,
        credentials: 'same-origin',
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal: o.signal,
      });
    } catch (cause) {
      if ((cause as Error)?.name === 'AbortError') throw cause;
      throw new ApiError(0, 'network_error', 'network_error');
    }
  }

  function refresh(): Promise<boolean> {
    // Concurrent 401s share one refresh so the rotated refresh token is not spent twice.
    refreshing ??= send(REFRESH_PATH, { method: 'POST' })
      .then((r) => r.ok)
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  async function request<T>(path: string, o: RequestOptions = {}): Promise<T> {
    let res = await send(path, o);
    if (res.status === 401 && !NO_REFRESH.has(path)) {
      if (await refresh()) res = await send(path, o);
      if (res.status === 401) opts.onSessionLost?.();
    }
    if (!res.ok) throw await toApiError(res);
    if (o.raw) return res as unknown as T;
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return {
    request,
    get: <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) =>
      request<T>(path, { query, signal }),
    post: <T>(path: string, body?: unknown) => request<T>(path, { method: 'POST', body: body ?? {} }),
    del: <T>(path: string, body?: unknown) => request<T>(path, { method: 'DELETE', body }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
