/**
 * OpenAPI 3.1 generated from the route contract (contracts/src/api-contract.ts) that backend mounts its
 * routes from, with the same zod schemas the routes validate with (z.toJSONSchema): the document cannot
 * describe a different API than the one that runs. backend/openapi.json is the committed copy; a test
 * fails when it drifts.
 */
import {
  api,
  errorBodySchema,
  errorResponsesOf,
  isJsonSpec,
  openApiPath,
  type ResponseSpec,
  type RouteDef,
  type RouteMap,
} from '@resemble/contracts';
import { z } from 'zod';

/** The `security` of an operation: who may call it (contracts/src/route-contract.ts RouteAuth). */
function security(r: RouteDef): Record<string, string[]>[] {
  if (r.auth === 'public' || r.auth === 'signature' || r.auth === 'credentials') return [];
  if (r.scope === 'any') return [{ cookieAuth: [] }, { bearerAuth: [] }];
  return r.scope ? [{ cookieAuth: [] }, { bearerAuth: [r.scope] }] : [{ cookieAuth: [] }];
}

const json = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });
const errorRef = { $ref: '#/components/schemas/Error' };

function parameters(r: RouteDef): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [where, schema] of [
    ['path', r.params],
    ['query', r.query],
    ['header', r.headers],
  ] as const) {
    if (!schema) continue;
    const s = json(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, p] of Object.entries(s.properties ?? {}))
      out.push({
        name,
        in: where,
        required: where === 'path' || (s.required?.includes(name) ?? false),
        schema: p,
      });
  }
  return out;
}

function responses(r: RouteDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(r.responses) as [string, ResponseSpec][]) {
    if (isJsonSpec(spec))
      out[status] = { description: 'OK', content: { 'application/json': { schema: json(spec, 'output') } } };
    else if (spec.kind === 'other')
      out[status] = { description: 'OK', content: { [spec.contentType]: { schema: { type: 'string' } } } };
    else out[status] = { description: 'No content' };
  }
  for (const [status, codes] of errorResponsesOf(r)) {
    out[String(status)] = {
      description: `Error; code is one of: ${codes.join(', ')}`,
      'x-error-codes': codes,
      content: { 'application/json': { schema: errorRef } },
    };
  }
  return out;
}

/** The OpenAPI 3.1 document of every route in the contract. */
export function buildOpenApi(contract: RouteMap = api): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, r] of Object.entries(contract)) {
    const params = parameters(r);
    const path = openApiPath(r.path);
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      tags: [r.tag],
      summary: r.summary,
      operationId: name,
      security: security(r),
      'x-auth':
        r.scope === 'any'
          ? `${r.auth} or any API token`
          : r.scope
            ? `${r.auth} or an API token with scope ${r.scope}`
            : r.auth,
      ...(r.sandboxOnly ? { 'x-sandbox-only': true } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: json(r.body, 'input') } },
            },
          }
        : {}),
      responses: responses(r),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Resemble API',
      version: '1.0.0',
      description:
        'Cookie sessions need the x-csrf-token header (equal to the csrf_token cookie) on every non-GET request. Pro users may use personal API tokens as Bearer instead. Errors are always {error:{code,message,details?}}.',
    },
    servers: [{ url: '/api/v1' }],
    components: {
      schemas: { Error: json(errorBodySchema, 'output') },
      securitySchemes: {
        cookieAuth: { type: 'apiKey', in: 'cookie', name: 'access_token' },
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'personal API token (rsm_...)' },
      },
    },
    paths,
  };
}

/** A plain HTML page (no scripts, so the CSP stays strict) listing every operation. */
export function docsPage(doc: Record<string, unknown>): string {
  const esc = (s: string) =>
    s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
  const rows = Object.entries(
    doc.paths as Record<string, Record<string, { summary: string; security: unknown[]; tags: string[] }>>,
  )
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(
        ([m, op]) =>
          `<tr><td>${esc(op.tags[0])}</td><td><code>${m.toUpperCase()}</code></td><td><code>/api/v1${esc(path)}</code></td><td>${esc(op.summary)}</td><td>${op.security.length ? 'yes' : 'no'}</td></tr>`,
      ),
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Resemble API</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}code{font-size:13px}</style></head>
<body><h1>Resemble API v1</h1><p>${esc(String((doc.info as { description: string }).description))}</p>
<p>Machine-readable: <a href="/api/v1/openapi.json">openapi.json</a> (OpenAPI 3.1).</p>
<table><thead><tr><th>area</th><th>method</th><th>path</th><th>what</th><th>auth</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}
