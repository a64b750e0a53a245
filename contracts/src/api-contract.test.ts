import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { api } from './api-contract.js';
import { ERROR_CODES } from './errors.js';
import { errorResponsesOf, fillPath, isJsonSpec, openApiPath } from './route-contract.js';

describe('the route contract', () => {
  const routes = Object.entries(api);

  it('declares each method and path once', () => {
    const keys = routes.map(([, r]) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(routes.length).toBeGreaterThanOrEqual(45);
  });

  it('has a params schema naming exactly the parameters of each path', () => {
    for (const [name, r] of routes) {
      const inPath = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]).sort();
      const declared = 'params' in r && r.params ? Object.keys((r.params as z.ZodObject).shape).sort() : [];
      expect(declared, name).toEqual(inPath);
    }
  });

  it('gives every route a success status and bodies only where a method carries one', () => {
    for (const [name, r] of routes) {
      const statuses = Object.keys(r.responses).map(Number);
      expect(statuses.length, name).toBeGreaterThan(0);
      for (const s of statuses) expect(s >= 200 && s < 300, `${name} ${s}`).toBe(true);
      if (r.method === 'GET') expect('body' in r, name).toBe(false);
    }
  });

  it('names only known error codes, each under an error status', () => {
    for (const [name, r] of routes) {
      for (const [status, codes] of errorResponsesOf(r)) {
        expect(status >= 400, name).toBe(true);
        for (const c of codes) expect(ERROR_CODES, `${name} ${c}`).toContain(c);
      }
    }
    // Kinds imply their errors: a session route can answer 401, a write checks CSRF, a body can be bad.
    expect([...errorResponsesOf(api.createPattern).keys()]).toEqual([
      400, 401, 403, 404, 409, 413, 422, 429, 500, 503, 504,
    ]);
    expect(errorResponsesOf(api.createPattern).get(422)).toEqual(['idempotency_key_reused']);
    // A save asks ml-service whether the nightly scan could run it, so it can answer as a search's checks.
    expect(errorResponsesOf(api.createPattern).get(400)).toEqual(expect.arrayContaining(['unknown_filter']));
    expect(errorResponsesOf(api.createPattern).get(403)).toEqual(
      expect.arrayContaining(['insufficient_scope', 'plan_required', 'csrf_failed']),
    );
    expect(errorResponsesOf(api.health).get(401)).toBeUndefined();
  });

  it('tells JSON responses from the no-body and non-JSON markers', () => {
    expect(isJsonSpec(api.me.responses[200])).toBe(true);
    expect(isJsonSpec(api.revokeToken.responses[204])).toBe(false);
    expect(isJsonSpec(api.exportSimilarCsv.responses[200])).toBe(false);
  });

  it('fills and converts paths', () => {
    expect(fillPath('/entities/:code/prices', { code: '7203.T' })).toBe('/entities/7203.T/prices');
    expect(fillPath('/jobs/:id', { id: 'a b/%' })).toBe('/jobs/a%20b%2F%25');
    expect(() => fillPath('/jobs/:id', {})).toThrow(/id is missing/);
    expect(openApiPath('/notifications/:id/read')).toBe('/notifications/{id}/read');
  });
});
