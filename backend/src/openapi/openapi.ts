/**
 * OpenAPI 3.1 built from the same zod schemas the routes parse with (z.toJSONSchema), so the document
 * cannot describe a different API than the one that runs. backend/openapi.json is the committed copy;
 * a test fails when it drifts.
 */
import * as c from '@resemble/contracts';
import { z } from 'zod';

type Auth = 'public' | 'session' | 'session-or-token' | 'signature';
interface Op {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  query?: z.ZodObject;
  response?: z.ZodType;
  status?: number;
  tag: string;
}

const ok = c.okResponseSchema;
const ops: Op[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness and ml-service reachability',
    auth: 'public',
    response: c.healthResponseSchema,
    tag: 'platform',
  },
  {
    method: 'get',
    path: '/plans',
    summary: 'Plans, prices and enabled payment providers',
    auth: 'public',
    response: c.plansResponseSchema,
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/auth/register',
    summary: 'Create an account and sign in',
    auth: 'public',
    body: c.credentialsSchema,
    response: c.meResponseSchema,
    status: 201,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/login',
    summary: 'Sign in (sets session cookies)',
    auth: 'public',
    body: c.credentialsSchema,
    response: c.meResponseSchema,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/refresh',
    summary: 'Rotate the refresh token and issue a new access token',
    auth: 'session',
    response: c.meResponseSchema,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/logout',
    summary: 'End this session now',
    auth: 'session',
    response: ok,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/password',
    summary: 'Change password (ends other sessions)',
    auth: 'session',
    body: c.changePasswordSchema,
    response: ok,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/forgot',
    summary: 'Send a reset link if the account exists (always 202)',
    auth: 'public',
    body: c.forgotPasswordSchema,
    response: ok,
    status: 202,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/reset',
    summary: 'Set a new password with a single-use reset token',
    auth: 'public',
    body: c.resetPasswordSchema,
    response: ok,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/verify',
    summary: 'Confirm the email address',
    auth: 'public',
    body: c.verifyEmailSchema,
    response: ok,
    tag: 'auth',
  },
  {
    method: 'post',
    path: '/auth/verify/resend',
    summary: 'Send the confirmation link again',
    auth: 'session',
    response: ok,
    status: 202,
    tag: 'auth',
  },
  {
    method: 'get',
    path: '/me',
    summary: 'The signed-in user, plan, usage and limits',
    auth: 'session',
    response: c.meResponseSchema,
    tag: 'auth',
  },
  {
    method: 'delete',
    path: '/me',
    summary: 'Delete the account and its data',
    auth: 'session',
    body: c.deleteAccountSchema,
    response: ok,
    tag: 'auth',
  },
  {
    method: 'get',
    path: '/entities',
    summary:
      'Find stocks: exact code, code prefix, name prefix, name substring, then a typo in a Latin name (Japanese and English names; width and kana folded)',
    auth: 'session-or-token',
    query: c.entitiesQuerySchema,
    response: c.entitiesResponseSchema,
    tag: 'search',
  },
  {
    method: 'get',
    path: '/entities/facets',
    summary: "Markets, sectors and kinds present (the similarity filters' choices)",
    auth: 'session-or-token',
    response: c.entityFacetsSchema,
    tag: 'search',
  },
  {
    method: 'get',
    path: '/entities/{code}/prices',
    summary:
      'Prices of one stock (daily rows, or weekly/monthly candles for timeframe W/M dated by their last trading day), with the date of its newest price (asOf)',
    auth: 'session-or-token',
    query: c.pricesQuerySchema,
    response: c.pricesResponseSchema,
    tag: 'search',
  },
  {
    method: 'post',
    path: '/similar',
    summary: 'Find the most similar stretches (counts against the daily quota)',
    auth: 'session-or-token',
    body: c.similarRequestSchema,
    response: c.similarResponseSchema,
    tag: 'search',
  },
  {
    method: 'post',
    path: '/predict',
    summary: 'Forecast from a query window',
    auth: 'session-or-token',
    body: c.predictRequestSchema,
    response: c.predictResponseSchema,
    tag: 'search',
  },
  {
    method: 'post',
    path: '/export/similar.csv',
    summary: 'Similarity result as CSV (Pro)',
    auth: 'session-or-token',
    body: c.similarRequestSchema,
    tag: 'search',
  },
  {
    method: 'post',
    path: '/billing/checkout',
    summary: 'Start a checkout with a provider',
    auth: 'session',
    body: c.checkoutRequestSchema,
    response: c.checkoutResponseSchema,
    tag: 'billing',
  },
  {
    method: 'get',
    path: '/billing/subscription',
    summary: 'Current subscription and payments',
    auth: 'session',
    response: c.subscriptionResponseSchema,
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/billing/cancel',
    summary: 'Cancel at the end of the paid period',
    auth: 'session',
    response: c.subscriptionResponseSchema,
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/billing/portal',
    summary: 'Stripe Customer Portal link',
    auth: 'session',
    response: c.portalResponseSchema,
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/billing/sandbox/complete',
    summary: 'TEST MODE: pay or decline a sandbox checkout',
    auth: 'session',
    body: c.sandboxCompleteSchema,
    response: c.subscriptionResponseSchema,
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/billing/sandbox/renew',
    summary: 'TEST MODE: run the next renewal now',
    auth: 'session',
    body: c.sandboxRenewSchema,
    response: c.subscriptionResponseSchema,
    tag: 'billing',
  },
  {
    method: 'get',
    path: '/billing/amazonpay/button',
    summary: 'Signed Amazon Pay button configuration',
    auth: 'session',
    response: c.amazonPayButtonResponseSchema,
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/billing/amazonpay/complete',
    summary: 'Complete an Amazon Pay checkout session after the buyer returns',
    auth: 'session',
    body: c.amazonPayCompleteSchema,
    response: c.subscriptionResponseSchema,
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/webhooks/stripe',
    summary: 'Stripe webhook (signed)',
    auth: 'signature',
    tag: 'billing',
  },
  {
    method: 'post',
    path: '/webhooks/amazonpay',
    summary: 'Amazon Pay IPN (SNS-signed)',
    auth: 'signature',
    tag: 'billing',
  },
  {
    method: 'get',
    path: '/tokens',
    summary: 'List personal API tokens',
    auth: 'session',
    response: c.apiTokensResponseSchema,
    tag: 'tokens',
  },
  {
    method: 'post',
    path: '/tokens',
    summary: 'Create a token (shown once; Pro)',
    auth: 'session',
    body: c.createApiTokenSchema,
    response: c.createdApiTokenSchema,
    status: 201,
    tag: 'tokens',
  },
  {
    method: 'delete',
    path: '/tokens/{id}',
    summary: 'Revoke a token',
    auth: 'session',
    status: 204,
    tag: 'tokens',
  },
  {
    method: 'post',
    path: '/jobs',
    summary: 'Queue a backtest or export (Pro); 202 with the job id',
    auth: 'session-or-token',
    body: c.createJobSchema,
    response: z.object({ id: z.string() }),
    status: 202,
    tag: 'jobs',
  },
  {
    method: 'get',
    path: '/jobs',
    summary: 'Recent jobs',
    auth: 'session-or-token',
    response: c.jobsResponseSchema,
    tag: 'jobs',
  },
  {
    method: 'get',
    path: '/jobs/{id}',
    summary: 'One job with its result',
    auth: 'session-or-token',
    response: c.jobSchema,
    tag: 'jobs',
  },
  {
    method: 'post',
    path: '/jobs/{id}/cancel',
    summary:
      'Cancel a job on whichever replica runs it: 202 canceled (it was queued) or canceling (it stops at its next step; job.done follows); 409 if it had finished',
    auth: 'session-or-token',
    response: z.object({ id: z.string(), status: z.enum(['canceled', 'canceling']) }),
    status: 202,
    tag: 'jobs',
  },
  {
    method: 'get',
    path: '/events',
    summary: 'Server-sent events: job.progress, job.done, alert.fired',
    auth: 'session',
    tag: 'jobs',
  },
  {
    method: 'get',
    path: '/patterns',
    summary: 'Saved patterns',
    auth: 'session-or-token',
    response: c.patternsResponseSchema,
    tag: 'patterns',
  },
  {
    method: 'post',
    path: '/patterns',
    summary: 'Save a pattern to be alerted on (Pro)',
    auth: 'session-or-token',
    body: c.createPatternSchema,
    response: c.patternSchema,
    status: 201,
    tag: 'patterns',
  },
  {
    method: 'patch',
    path: '/patterns/{id}',
    summary: 'Rename a pattern or change its alert distance',
    auth: 'session-or-token',
    body: c.updatePatternSchema,
    response: c.patternSchema,
    tag: 'patterns',
  },
  {
    method: 'get',
    path: '/recent-searches',
    summary: "The user's last 10 distinct searches made in the app, newest first",
    auth: 'session-or-token',
    response: c.recentSearchesResponseSchema,
    tag: 'search',
  },
  {
    method: 'delete',
    path: '/patterns/{id}',
    summary: 'Delete a pattern',
    auth: 'session-or-token',
    status: 204,
    tag: 'patterns',
  },
  {
    method: 'get',
    path: '/notifications',
    summary: 'In-app notifications',
    auth: 'session',
    response: c.notificationsResponseSchema,
    tag: 'patterns',
  },
  {
    method: 'post',
    path: '/notifications/{id}/read',
    summary: 'Mark a notification read',
    auth: 'session',
    response: ok,
    tag: 'patterns',
  },
  {
    method: 'get',
    path: '/admin/overview',
    summary: 'Operator overview (admin)',
    auth: 'session',
    response: c.adminOverviewSchema,
    tag: 'admin',
  },
  { method: 'get', path: '/admin/users', summary: 'Users and plans (admin)', auth: 'session', tag: 'admin' },
  { method: 'get', path: '/admin/payments', summary: 'Payments (admin)', auth: 'session', tag: 'admin' },
];

const json = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) {
    const security =
      op.auth === 'public' || op.auth === 'signature'
        ? []
        : op.auth === 'session'
          ? [{ cookieAuth: [] }]
          : [{ cookieAuth: [] }, { bearerAuth: [] }];
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (op.query) {
      const q = json(op.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {}))
        params.push({
          name,
          in: 'query',
          required: q.required?.includes(name) ?? false,
          schema: schema as { type: string },
        });
    }
    const status = String(op.status ?? 200);
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      tags: [op.tag],
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[/.](\w)/g, (_m, ch: string) => ch.toUpperCase())}`,
      security,
      ...(params.length ? { parameters: params } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: json(op.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [status]: op.response
          ? { description: 'OK', content: { 'application/json': { schema: json(op.response, 'output') } } }
          : { description: 'OK' },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: json(c.errorBodySchema, 'output') } },
        },
      },
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
