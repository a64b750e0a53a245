/**
 * Mounts route handlers from the route contract (contracts/src/api-contract.ts, decision 106): each route's
 * method and path, its auth check, the validation of params/query/body/headers (a failure is today's 400
 * `{ error: { code: 'invalid_request', message: '<part> is invalid', details: [{ path, message }] } }`)
 * and the answer, whose status and body must be one the contract declares or typecheck fails.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import {
  api,
  isJsonSpec,
  type Api,
  type NoBody,
  type OtherBody,
  type ParsedRequestOf,
  type RouteDef,
} from '@resemble/contracts';
import { refuseApiTokens, requireAuth } from '../auth/auth.middleware.js';
import { badRequest, zodDetails } from './errors.js';

declare const jsonOf: unique symbol;
/** JSON already serialised (ml-service's bytes passed through unparsed), typed by the body it encodes. */
export type JsonBytes<T> = Buffer & { readonly [jsonOf]?: T };
/** Marks bytes as the JSON encoding of T; only for bytes produced from T's own contract schema. */
export const jsonBytes = <T>(bytes: Buffer): JsonBytes<T> => bytes as JsonBytes<T>;

type Headers = Record<string, string>;
type ReplyFor<S, X> = X extends NoBody
  ? { status: S; headers?: Headers }
  : X extends OtherBody
    ? // Text sent as is, or `streamed` when the handler writes the response itself (server-sent events).
      { status: S; text: string; headers?: Headers } | { status: S; streamed: true }
    : X extends z.ZodType
      ? { status: S; body: z.input<X>; headers?: Headers } | { status: S; json: JsonBytes<z.output<X>> }
      : never;
/** What a handler answers: a status the contract declares for its route, with a body of that status's shape. */
export type Reply<R extends RouteDef> = {
  [S in keyof R['responses'] & number]: ReplyFor<S, R['responses'][S]>;
}[keyof R['responses'] & number];

export type HandlerInput<R extends RouteDef> = ParsedRequestOf<R> & { req: Request; res: Response };
export interface Impl<R extends RouteDef> {
  /** Middleware run after the contract's auth check and before validation (rate limits, plan features). */
  use?: RequestHandler[];
  handler: (input: HandlerInput<R>) => Reply<R> | Promise<Reply<R>>;
}
/** Handlers of some of the contract's routes, keyed by route name. */
export type Impls<K extends keyof Api> = { [P in K]: Impl<Api[P]> };

function authCheck(r: RouteDef): RequestHandler[] {
  switch (r.auth) {
    case 'public':
    case 'signature':
      return [];
    case 'credentials':
      return [refuseApiTokens];
    case 'session':
      return [requireAuth(r.scope ? { scope: r.scope } : {})];
    case 'admin':
      return [requireAuth({ role: 'admin' })];
  }
}

function validate(part: string, schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw badRequest(`${part} is invalid`, zodDetails(r.error));
  return r.data;
}

function send(res: Response, reply: Record<string, unknown> & { status: number }, r: RouteDef): void {
  if ('streamed' in reply) return;
  if ('headers' in reply && reply.headers)
    for (const [k, v] of Object.entries(reply.headers as Headers)) res.setHeader(k, v);
  res.status(reply.status);
  if ('json' in reply) {
    // ml-service's JSON bytes as they came, with the headers res.send gives a JSON string (type, length)
    // except ETag: hashing every answer costs CPU, and no client can revalidate a POST answer with it.
    const bytes = reply.json as Buffer;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', bytes.length);
    res.end(bytes);
  } else if ('text' in reply) {
    const spec = r.responses[reply.status];
    if (spec && !isJsonSpec(spec) && spec.kind === 'other' && !res.hasHeader('content-type'))
      res.type(spec.contentType);
    res.send(reply.text);
  } else if ('body' in reply) res.json(reply.body);
  else res.end();
}

function mountOne(router: Router, name: string, r: RouteDef, impl: Impl<RouteDef>): void {
  const run: RequestHandler = async (req, res) => {
    const params = validate('path', r.params, req.params);
    const query = validate('query', r.query, req.query);
    const body = validate('body', r.body, req.body);
    const headers = validate('headers', r.headers, req.headers);
    const reply = await impl.handler({ params, query, body, headers, req, res } as HandlerInput<RouteDef>);
    send(res, reply as Record<string, unknown> & { status: number }, r);
  };
  Object.defineProperty(run, 'name', { value: name });
  const method = ({ GET: 'get', POST: 'post', PATCH: 'patch', DELETE: 'delete' } as const)[r.method];
  router[method](r.path, ...authCheck(r), ...(impl.use ?? []), run);
}

/** Mounts these handlers on the router in the order given, each at its contract route. */
export function mountRoutes<K extends keyof Api>(router: Router, impls: Impls<K>): void {
  for (const [name, impl] of Object.entries(impls) as [K, Impl<RouteDef>][])
    mountOne(router, String(name), api[name], impl);
}
