import { ApiError } from './api-client';

interface FetchErrorLike {
  statusCode?: number;
  status?: number;
  data?: { error?: { code?: string } };
}

/** Per-page meaning of a code: on the reset page an `invalid_request` means the link itself is bad. */
export type ErrorOverrides = Partial<Record<string, string>>;

/**
 * Which i18n key explains a failure. Backend's own `message` is English and written for developers
 * ("body is invalid"), so it is never shown: a known code gets its own sentence, an unknown one the
 * sentence for its HTTP status class, and anything else a generic line — always in the user's language.
 */
export function errorKey(e: unknown, has: (key: string) => boolean, overrides: ErrorOverrides = {}): string {
  let code: string | undefined;
  let status = 0;
  if (e instanceof ApiError) {
    code = e.code;
    status = e.status;
  } else if (e && typeof e === 'object') {
    const f = e as FetchErrorLike;
    code = f.data?.error?.code;
    status = f.statusCode ?? f.status ?? 0;
  }
  const override = code ? overrides[code] : undefined;
  if (override) return override;
  if (code && has(`errors.${code}`)) return `errors.${code}`;
  return `errors.${statusFallback(status)}`;
}

function statusFallback(status: number): string {
  if (status >= 500) return 'server_unavailable';
  if (status === 400 || status === 422) return 'invalid_request';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  return 'unexpected';
}
