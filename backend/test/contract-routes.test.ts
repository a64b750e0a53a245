/**
 * backend against its route contract (contracts/src/api-contract.ts): every route is mounted and in the
 * served OpenAPI document with all of its responses, validation failures keep the 400 error shape, the
 * typed client works end to end, and a handler whose answer does not fit fails typecheck (`npm run check`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  cookieJar,
  createApiClient,
  errorResponsesOf,
  fillPath,
  openApiPath,
  type RouteDef,
} from '@resemble/contracts';
import type { Impl, Impls } from '../src/platform/contract-router.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { PASSWORD, registered, startApp, type TestApp } from './support/harness.js';

const UUID = '00000000-0000-4000-8000-000000000000';
const sample: Record<string, string> = { id: UUID, code: 'AAA' };

describe('routes mounted from the contract', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn({ token: 'ml-secret' });
    app = await startApp({ ML_URL: ml.url, ML_TOKEN: 'ml-secret' });
  });
  afterAll(async () => {
    await app.close();
    await ml.close();
  });

  it('serves an OpenAPI operation for every contract route, with each success and error status', async () => {
    const doc = (await app.client().get('/api/v1/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { operationId: string; responses: Record<string, { 'x-error-codes'?: string[] }> }>
      >;
    };
    const routes = Object.entries(api) as [string, RouteDef][];
    let operations = 0;
    for (const [name, r] of routes) {
      const op = doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op!.operationId).toBe(name);
      for (const status of Object.keys(r.responses)) expect(op!.responses, name).toHaveProperty(status);
      for (const [status, codes] of errorResponsesOf(r))
        expect(op!.responses[String(status)]?.['x-error-codes'], `${name} ${status}`).toEqual(codes);
    }
    for (const methods of Object.values(doc.paths)) operations += Object.keys(methods).length;
    // Nothing in the document that the contract does not declare.
    expect(operations).toBe(routes.length);
  });

  it('answers every contract route (none falls through to "no route")', async () => {
    const c = app.client();
    for (const [name, r] of Object.entries(api) as [string, RouteDef][]) {
      if (r.path === '/events') continue; // a stream that stays open; covered in features.test.ts
      const res = await c.req(
        r.method,
        `/api/v1${fillPath(r.path, sample)}`,
        r.method === 'GET' ? undefined : {},
      );
      if (r.sandboxOnly) {
        // Not mounted without MAIL_SANDBOX (results.test.ts covers it with the sandbox on).
        expect(res.status, name).toBe(404);
        continue;
      }
      expect(String(res.body?.error?.message ?? ''), name).not.toMatch(/^no route for/);
      expect(res.status, name).not.toBe(500);
    }
  });

  it('keeps the 400 error shape for a bad path parameter, query and body', async () => {
    const c = await registered(app);
    const path = await c.get('/api/v1/jobs/not-a-uuid');
    expect(path.status).toBe(400);
    expect(path.body).toEqual({
      error: {
        code: 'invalid_request',
        message: 'path is invalid',
        details: [{ path: 'id', message: 'id must be a UUID' }],
      },
    });
    const query = await c.get('/api/v1/entities?limit=1000');
    expect(query.body.error).toMatchObject({ code: 'invalid_request', message: 'query is invalid' });
    expect(query.body.error.details[0].path).toBe('limit');
    const body = await app.client().post('/api/v1/auth/login', { email: 'nobody@example.com' });
    expect(body.status).toBe(400);
    expect(body.body.error).toMatchObject({ code: 'invalid_request', message: 'body is invalid' });
    expect(body.body.error.details).toEqual([expect.objectContaining({ path: 'password' })]);
  });

  it('works with the typed client: sign up, read me, a typed error, a 204', async () => {
    const jar = cookieJar();
    const client = createApiClient({
      fetch: jar.fetch,
      csrfToken: jar.csrfToken,
      baseUrl: `${app.url}/api/v1`,
    });
    const me = await client.register({ body: { email: 'typed@example.com', password: PASSWORD } });
    expect(me.email).toBe('typed@example.com');
    expect((await client.me()).plan).toBe('free');
    await expect(
      client.createPattern({
        body: {
          name: 'x',
          threshold: 1,
          request: { query: { code: 'AAA', start: '2015-01-01', end: '2015-03-01' } },
        },
      }),
    ).rejects.toMatchObject({ status: 403, code: 'plan_required' });
    await expect(client.revokeToken({ params: { id: UUID } })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect((await client.logout()).ok).toBe(true);
    await expect(client.me()).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
  });
});

// Typecheck (npm run check) rejects handlers whose answers the contract does not declare.
type Me = Impl<typeof api.me>['handler'];
export const wrongBody: Me = () =>
  // @ts-expect-error: `email` must be a string, and the rest of the user is missing
  ({ status: 200, body: { email: 1 } });
export const wrongStatus: Impl<typeof api.revokeToken>['handler'] = () =>
  // @ts-expect-error: revoking a token answers 204, not 200
  ({ status: 200, body: { ok: true } });
export const missingRoute: Partial<Impls<'me' | 'login'>> = {
  // @ts-expect-error: no route of this name in the contract
  mee: { handler: () => ({ status: 200 }) },
};
