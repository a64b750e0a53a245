/**
 * The shape of one HTTP route declared once (ts-rest's idea, decision 106): method, path, who may call it,
 * request schemas and responses keyed by status. backend mounts its handlers from these declarations
 * (a handler whose answer does not fit fails typecheck), backend's OpenAPI document is generated from them,
 * and api-client.ts builds the typed client every caller uses.
 */
import type { z } from 'zod';
import type { ErrorCode } from './errors.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Who may call a route; backend derives the route's auth check from it.
 * - public: anyone (no credentials needed, none checked);
 * - credentials: anyone, proving itself by what it sends (password, an e-mailed token, the refresh
 *   cookie); API tokens are refused;
 * - session: a signed-in browser session; API tokens are refused unless `scope` names one they may hold;
 * - admin: the session of an administrator;
 * - signature: a payment provider's signed webhook.
 */
export type RouteAuth = 'public' | 'credentials' | 'session' | 'admin' | 'signature';
export type ApiScope = 'search' | 'patterns' | 'jobs';

/** A 204-style answer without a body. */
export interface NoBody {
  readonly kind: 'no-body';
}
/** A non-JSON body (CSV download, server-sent events), sent by the handler as text or as a stream. */
export interface OtherBody {
  readonly kind: 'other';
  readonly contentType: string;
}
export const noBody: NoBody = { kind: 'no-body' };
export const otherBody = (contentType: string): OtherBody => ({ kind: 'other', contentType });

export type ResponseSpec = z.ZodType | NoBody | OtherBody;

export interface RouteDef {
  readonly method: Method;
  /** Express-style, relative to /api/v1: `/entities/:code/prices`. */
  readonly path: string;
  readonly summary: string;
  /** Area of the API (OpenAPI tag). */
  readonly tag: string;
  readonly auth: RouteAuth;
  /**
   * With auth 'session': an API token holding this scope may call the route too; 'any': every live token,
   * whatever its scopes (for what a token may read about itself, such as its quota).
   */
  readonly scope?: ApiScope | 'any';
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /**
   * Request headers the route reads, as an object schema keyed by lowercase name (Idempotency-Key, say);
   * validated like the body, the rest of the headers are ignored. OpenAPI lists them as header parameters.
   */
  readonly headers?: z.ZodType;
  /** Success answers keyed by status. */
  readonly responses: { readonly [status: number]: ResponseSpec };
  /**
   * Development only: mounted just when backend runs with its mail sandbox on (MAIL_SANDBOX, which config
   * refuses in production); elsewhere the path is an ordinary 404. OpenAPI marks it `x-sandbox-only`.
   */
  readonly sandboxOnly?: boolean;
  /** Error codes this route itself may answer, keyed by status (the ones every route of its kind shares are added by errorResponsesOf). */
  readonly errors?: { readonly [status: number]: readonly ErrorCode[] };
}

/** Declares a route, keeping every literal (method, path, statuses) for the server's and client's types. */
export const route = <const R extends RouteDef>(r: R): R => r;

export type RouteMap = Readonly<Record<string, RouteDef>>;

/** What a route builder takes beside path, summary and responses. */
export type RouteExtras = Pick<RouteDef, 'params' | 'query' | 'body' | 'errors' | 'sandboxOnly'>;

type Built<
  T extends string,
  A extends RouteAuth,
  S extends ApiScope | 'any' | undefined,
  M extends Method,
  P extends string,
  Res extends RouteDef['responses'],
  X,
> = { method: M; path: P; summary: string; tag: T; auth: A; responses: Res } & (S extends ApiScope | 'any'
  ? { scope: S }
  : unknown) &
  X;

/**
 * Route builders of one area (its OpenAPI tag), by who may call and method, so that a route reads as
 * `auth.session.get('/me', summary, { 200: meResponseSchema })` instead of eight repeated lines. They build
 * exactly the object `route` would (the generated OpenAPI document is byte-identical either way).
 */
export function routesOf<const T extends string>(tag: T) {
  const by = <const A extends RouteAuth, const S extends ApiScope | 'any' | undefined = undefined>(
    auth: A,
    scope?: S,
  ) => {
    const at =
      <const M extends Method>(method: M) =>
      <
        const P extends string,
        const Res extends RouteDef['responses'],
        const X extends RouteExtras = Record<never, never>,
      >(
        path: P,
        summary: string,
        responses: Res,
        extras?: X,
      ) =>
        // NoInfer: the contract's `satisfies RouteMap` must not widen the route to RouteDef through its
        // return type (responses keyed by number instead of the declared statuses).
        ({ method, path, summary, tag, auth, ...(scope ? { scope } : {}), ...extras, responses }) as Built<
          T,
          A,
          S,
          M,
          P,
          NoInfer<Res>,
          NoInfer<X>
        >;
    return { get: at('GET'), post: at('POST'), patch: at('PATCH'), delete: at('DELETE') };
  };
  return {
    public: by('public'),
    credentials: by('credentials'),
    session: by('session'),
    admin: by('admin'),
    signature: by('signature'),
    /** Session routes that an API token holding `scope` may call too. */
    scoped: <const S extends ApiScope | 'any'>(scope: S) => by('session', scope),
  };
}

/** Whether a response spec is a JSON schema (and not one of the two markers above). */
export const isJsonSpec = (s: ResponseSpec): s is z.ZodType =>
  !('kind' in s && (s.kind === 'no-body' || s.kind === 'other'));

type SpecBody<S, IO extends 'in' | 'out'> = S extends NoBody
  ? undefined
  : S extends OtherBody
    ? string
    : S extends z.ZodType
      ? IO extends 'in'
        ? z.input<S>
        : z.output<S>
      : never;

/** What a handler answers: one of the declared statuses with its body (z.input: what gets serialised). */
export type ResponseOf<R extends RouteDef> = {
  [S in keyof R['responses'] & number]: { status: S; body: SpecBody<R['responses'][S], 'in'> };
}[keyof R['responses'] & number];

/** What a client receives on success (the body of any declared status). */
export type SuccessBodyOf<R extends RouteDef> = {
  [S in keyof R['responses'] & number]: SpecBody<R['responses'][S], 'out'>;
}[keyof R['responses'] & number];

type Infer<S, IO extends 'in' | 'out'> = S extends z.ZodType
  ? IO extends 'in'
    ? z.input<S>
    : z.output<S>
  : undefined;
/** What a caller sends (params, query, body), each only when the route declares it. */
export type RequestOf<R extends RouteDef> = (R['params'] extends z.ZodType
  ? { params: z.input<R['params']> }
  : unknown) &
  (R['query'] extends z.ZodType ? { query?: z.input<R['query']> } : unknown) &
  (R['body'] extends z.ZodType ? { body: z.input<R['body']> } : unknown) &
  (R['headers'] extends z.ZodType ? { headers?: z.input<R['headers']> } : unknown);
/** What a handler receives after validation. */
export interface ParsedRequestOf<R extends RouteDef> {
  params: Infer<R['params'], 'out'>;
  query: Infer<R['query'], 'out'>;
  body: Infer<R['body'], 'out'>;
  headers: Infer<R['headers'], 'out'>;
}

/** Express `/a/:id/b` to OpenAPI `/a/{id}/b`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** Fills a route's path parameters (each percent-encoded). */
export function fillPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    const v = params?.[name];
    if (v === undefined || v === null) throw new Error(`path parameter ${name} is missing for ${path}`);
    return encodeURIComponent(String(v));
  });
}

/**
 * Every error answer a route may give, keyed by status: its own (`errors`) and the ones its kind implies
 * (validation, the auth check, CSRF on cookie writes, the per-address limit, an unexpected fault).
 */
export function errorResponsesOf(r: RouteDef): Map<number, ErrorCode[]> {
  const out = new Map<number, Set<ErrorCode>>();
  const add = (status: number, ...codes: ErrorCode[]) => {
    const set = out.get(status) ?? new Set<ErrorCode>();
    for (const c of codes) set.add(c);
    out.set(status, set);
  };
  if (r.params || r.query || r.body || r.headers || r.method !== 'GET') add(400, 'invalid_request');
  if (r.body) add(413, 'payload_too_large');
  if (r.auth === 'session' || r.auth === 'admin') add(401, 'unauthenticated');
  if (r.auth === 'credentials' || r.auth === 'session' || r.auth === 'admin') add(403, 'insufficient_scope');
  if (r.scope) add(403, 'plan_required');
  if (r.auth === 'admin') add(403, 'forbidden');
  if (r.method !== 'GET' && r.auth !== 'signature' && r.auth !== 'public') add(403, 'csrf_failed');
  if (r.auth !== 'signature') add(429, 'rate_limited');
  add(500, 'internal');
  for (const [status, codes] of Object.entries(r.errors ?? {})) add(Number(status), ...codes);
  return new Map([...out].sort(([a], [b]) => a - b).map(([s, set]) => [s, [...set]]));
}
