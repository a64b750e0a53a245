import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { api } from './api-contract.js';
import { apiRoutes } from './api-routes.js';
import { clientRouteOf, renderApiRoutes } from './client-route.js';

describe('the API client route table (api-routes.ts)', () => {
  it('matches the route contract: every route, with its method, path, auth and whether it takes a body', () => {
    const projected = Object.fromEntries(Object.entries(api).map(([name, r]) => [name, clientRouteOf(r)]));
    // On failure: `npm run gen:routes -w contracts` regenerates the table after a contract change.
    expect(apiRoutes).toEqual(projected);
  });

  it('is exactly what the generator writes', async () => {
    const file = resolve(import.meta.dirname, 'api-routes.ts');
    const expected = await format(renderApiRoutes(api), { ...(await resolveConfig(file)), filepath: file });
    expect(readFileSync(file, 'utf8')).toBe(expected);
  });

  it('projects what the client reads of a route', () => {
    expect(clientRouteOf(api.login)).toEqual({
      method: 'POST',
      path: '/auth/login',
      auth: 'credentials',
      body: true,
      idempotent: false,
    });
    expect(clientRouteOf(api.refresh).body).toBe(false);
    // The routes whose headers schema reads Idempotency-Key, and only those.
    expect(Object.keys(api).filter((n) => clientRouteOf(api[n as keyof typeof api]).idempotent)).toEqual([
      'createPattern',
    ]);
    expect(apiRoutes.prices).toEqual(clientRouteOf(api.prices));
  });

  it('keeps zod out of the client modules', () => {
    for (const f of ['api-client.ts', 'api-routes.ts', 'client-route.ts', 'route-contract.ts']) {
      const src = readFileSync(resolve(import.meta.dirname, f), 'utf8');
      const runtimeImports = [...src.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map((m) => m[1]);
      expect(runtimeImports, f).not.toContain('zod');
      expect(runtimeImports, f).not.toContain('./api-contract.js');
    }
  });
});
