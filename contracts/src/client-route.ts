/**
 * What the API client needs of each route (method, path, who may call it, whether it takes a JSON body),
 * projected from the route contract. Kept apart from api-routes.ts so the generator and the drift test
 * can compute it from the zod contract while the browser imports only the plain table.
 */
import type { Method, RouteAuth, RouteDef } from './route-contract.js';

export interface ClientRoute {
  readonly method: Method;
  readonly path: string;
  readonly auth: RouteAuth;
  /** The route declares a JSON body (the client then always sends one, `{}` when none is given). */
  readonly body: boolean;
  /** The route takes an Idempotency-Key: the client sends one with every call, so a lost answer can be retried. */
  readonly idempotent: boolean;
}

const takesIdempotencyKey = (r: RouteDef): boolean => {
  // The headers schema is a zod object; only its keys are read here, so zod stays out of this file.
  const shape = (r.headers as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape !== undefined && 'idempotency-key' in shape;
};

export const clientRouteOf = (r: RouteDef): ClientRoute => ({
  method: r.method,
  path: r.path,
  auth: r.auth,
  body: r.body !== undefined,
  idempotent: takesIdempotencyKey(r),
});

/** The source text of api-routes.ts for a contract (prettier formats it afterwards). */
export function renderApiRoutes(contract: Readonly<Record<string, RouteDef>>): string {
  const rows = Object.entries(contract).map(
    ([name, r]) => `  ${name}: ${JSON.stringify(clientRouteOf(r)).replace(/"(\w+)":/g, '$1: ')},`,
  );
  return [
    '// GENERATED from api-contract.ts by `npm run gen:routes -w contracts`; do not edit by hand',
    '// (api-routes.test.ts fails when it no longer matches the contract).',
    '/**',
    ' * The route table of the API client without the zod schemas: the browser bundle imports this instead',
    ' * of api-contract.ts, so zod and the construction of every schema stay out of the pages (decision 128).',
    ' */',
    "import type { ApiRouteName } from './api-contract.js';",
    "import type { ClientRoute } from './client-route.js';",
    '',
    'export const apiRoutes = {',
    ...rows,
    '} as const satisfies Record<ApiRouteName, ClientRoute>;',
    '',
  ].join('\n');
}
