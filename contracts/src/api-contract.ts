/**
 * Every public endpoint of backend (/api/v1), declared once. backend mounts its handlers from this map
 * (backend/src/platform/contract-router.ts), its OpenAPI document is generated from it
 * (backend/src/openapi/openapi.ts), and the frontend, the cross-service tests and the bench call it
 * through createApiClient (api-client.ts).
 */
import { z } from 'zod';
import * as a from './api.js';
import * as b from './api-billing.js';
import * as ml from './ml.js';
import { entityCodeSchema } from './store.js';
import { noBody, otherBody, route, type RouteMap, type SuccessBodyOf } from './route-contract.js';

const uuidParam = z.object({ id: z.uuid('id must be a UUID') });
/**
 * Idempotency-Key (IETF draft "The Idempotency-Key HTTP Header Field") on a create request: a retry with
 * the same key and body (after a lost answer, a 502 from the proxy) gets the first answer again, with
 * Idempotent-Replayed: true, instead of creating twice; the same key with another body is 422. Keys are
 * per account and kept 24 hours; a UUID per logical request is the usual choice.
 */
export const idempotencyHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key must be 1 to 255 visible ASCII characters')
    .optional(),
});
const IDEMPOTENCY_ERRORS = { 422: ['idempotency_key_reused'] } as const;
const ok = a.okResponseSchema;
const outcome = <T extends z.ZodType>(o: T) => b.subscriptionResponseSchema.extend({ outcome: o });
const ML_ERRORS = {
  503: ['ml_unavailable', 'not_ready', 'search_restarting'],
  504: ['search_timeout'],
} as const;
const SEARCH_ERRORS = {
  400: ['invalid_query', 'unsupported_horizon', 'unsupported_timeframe'],
  403: ['plan_limit'],
  404: ['unknown_code', 'unknown_model'],
  409: ['model_unavailable'],
  429: ['quota_exceeded', 'too_many_searches'],
  499: ['client_closed'],
  ...ML_ERRORS,
} as const;

export const adminUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(['user', 'admin']),
  emailVerified: z.number().int(),
  createdAt: z.string(),
  plan: a.planIdSchema,
  provider: b.billingProviderSchema.nullable(),
  subscriptionStatus: z.string().nullable(),
});
export const adminPaymentSchema = z.object({
  id: z.string(),
  provider: b.billingProviderSchema,
  amountJpy: z.number().int(),
  status: z.string(),
  period: z.string().nullable(),
  failureReason: z.string().nullable(),
  createdAt: z.string(),
  email: z.string().nullable(),
});
export const webhookAckSchema = z.object({ received: z.literal(true), result: z.unknown() });

export const api = {
  // platform
  health: route({
    method: 'GET',
    path: '/health',
    summary: 'Liveness and ml-service reachability',
    tag: 'platform',
    auth: 'public',
    responses: { 200: a.healthResponseSchema },
  }),
  openapi: route({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document (OpenAPI 3.1), generated from contracts/src/api-contract.ts',
    tag: 'platform',
    auth: 'public',
    responses: { 200: z.record(z.string(), z.unknown()) },
  }),
  docs: route({
    method: 'GET',
    path: '/docs',
    summary: 'Every operation as a plain HTML page',
    tag: 'platform',
    auth: 'public',
    responses: { 200: otherBody('text/html') },
  }),
  plans: route({
    method: 'GET',
    path: '/plans',
    summary: 'Plans, prices and enabled payment providers',
    tag: 'billing',
    auth: 'public',
    responses: { 200: a.plansResponseSchema },
  }),

  // accounts and sessions
  register: route({
    method: 'POST',
    path: '/auth/register',
    summary: 'Create an account and sign in',
    tag: 'auth',
    auth: 'credentials',
    body: a.credentialsSchema,
    responses: { 201: a.meResponseSchema },
    errors: { 400: ['weak_password', 'registration_failed'], 429: ['too_many_attempts'] },
  }),
  login: route({
    method: 'POST',
    path: '/auth/login',
    summary: 'Sign in (sets session cookies)',
    tag: 'auth',
    auth: 'credentials',
    body: a.credentialsSchema,
    responses: { 200: a.meResponseSchema },
    errors: { 401: ['invalid_credentials'], 429: ['too_many_attempts'] },
  }),
  refresh: route({
    method: 'POST',
    path: '/auth/refresh',
    summary: 'Rotate the refresh token and issue a new access token',
    tag: 'auth',
    auth: 'credentials',
    responses: { 200: a.meResponseSchema },
    errors: { 401: ['unauthenticated'] },
  }),
  logout: route({
    method: 'POST',
    path: '/auth/logout',
    summary: 'End this session now',
    tag: 'auth',
    auth: 'credentials',
    responses: { 200: ok },
  }),
  changePassword: route({
    method: 'POST',
    path: '/auth/password',
    summary: 'Change password (ends other sessions)',
    tag: 'auth',
    auth: 'session',
    body: a.changePasswordSchema,
    responses: { 200: ok },
    errors: { 400: ['invalid_credentials', 'weak_password'], 429: ['too_many_attempts'] },
  }),
  forgotPassword: route({
    method: 'POST',
    path: '/auth/forgot',
    summary: 'Send a reset link if the account exists (always 202)',
    tag: 'auth',
    auth: 'credentials',
    body: a.forgotPasswordSchema,
    responses: { 202: ok },
    errors: { 429: ['too_many_attempts'] },
  }),
  resetPassword: route({
    method: 'POST',
    path: '/auth/reset',
    summary: 'Set a new password with a single-use reset token',
    tag: 'auth',
    auth: 'credentials',
    body: a.resetPasswordSchema,
    responses: { 200: ok },
    errors: { 400: ['invalid_token', 'weak_password'], 429: ['too_many_attempts'] },
  }),
  verifyEmail: route({
    method: 'POST',
    path: '/auth/verify',
    summary: 'Confirm the email address',
    tag: 'auth',
    auth: 'credentials',
    body: a.verifyEmailSchema,
    responses: { 200: ok },
    errors: { 400: ['invalid_token'] },
  }),
  resendVerification: route({
    method: 'POST',
    path: '/auth/verify/resend',
    summary: 'Send the confirmation link again',
    tag: 'auth',
    auth: 'session',
    responses: { 202: ok },
  }),
  me: route({
    method: 'GET',
    path: '/me',
    summary: 'The signed-in user, plan, usage and limits',
    tag: 'auth',
    auth: 'session',
    responses: { 200: a.meResponseSchema },
  }),
  deleteAccount: route({
    method: 'DELETE',
    path: '/me',
    summary: 'Delete the account and its data',
    tag: 'auth',
    auth: 'session',
    body: a.deleteAccountSchema,
    responses: { 200: ok },
    errors: { 400: ['invalid_credentials'], 429: ['too_many_attempts'] },
  }),

  // search (ml-service behind backend)
  entities: route({
    method: 'GET',
    path: '/entities',
    summary:
      'Find stocks: exact code, code prefix, name prefix, name substring, then a typo in a Latin name (Japanese and English names; width and kana folded)',
    tag: 'search',
    auth: 'session',
    scope: 'search',
    query: a.entitiesQuerySchema,
    responses: { 200: ml.entitiesResponseSchema },
    errors: ML_ERRORS,
  }),
  facets: route({
    method: 'GET',
    path: '/entities/facets',
    summary: "Markets, sectors and kinds present (the similarity filters' choices)",
    tag: 'search',
    auth: 'session',
    scope: 'search',
    responses: { 200: ml.entityFacetsSchema },
    errors: ML_ERRORS,
  }),
  prices: route({
    method: 'GET',
    path: '/entities/:code/prices',
    summary:
      'Prices of one stock (daily rows, or weekly/monthly candles for timeframe W/M dated by their last trading day), with the date of its newest price (asOf)',
    tag: 'search',
    auth: 'session',
    scope: 'search',
    params: z.object({ code: entityCodeSchema }),
    query: a.pricesQuerySchema,
    responses: { 200: ml.pricesResponseSchema },
    errors: { 404: ['not_found', 'unknown_code'], 400: ['unsupported_timeframe'], ...ML_ERRORS },
  }),
  similar: route({
    method: 'POST',
    path: '/similar',
    summary: 'Find the most similar stretches (counts against the daily quota)',
    tag: 'search',
    auth: 'session',
    scope: 'search',
    body: ml.similarRequestSchema,
    responses: { 200: ml.similarResponseSchema },
    errors: SEARCH_ERRORS,
  }),
  predict: route({
    method: 'POST',
    path: '/predict',
    summary: 'Forecast from a query window (counts against the daily quota)',
    tag: 'search',
    auth: 'session',
    scope: 'search',
    body: ml.predictRequestSchema,
    responses: { 200: ml.predictResponseSchema },
    errors: SEARCH_ERRORS,
  }),
  exportSimilarCsv: route({
    method: 'POST',
    path: '/export/similar.csv',
    summary: 'Similarity result as CSV (Pro)',
    tag: 'search',
    auth: 'session',
    scope: 'search',
    body: ml.similarRequestSchema,
    responses: { 200: otherBody('text/csv') },
    errors: { ...SEARCH_ERRORS, 403: ['plan_limit', 'plan_required'] },
  }),
  recentSearches: route({
    method: 'GET',
    path: '/recent-searches',
    summary:
      "The web app's last similarity searches, newest first (at most 10, no repeats; API-token calls are not recorded)",
    tag: 'search',
    auth: 'session',
    scope: 'search',
    responses: { 200: b.recentSearchesResponseSchema },
  }),

  // billing
  checkout: route({
    method: 'POST',
    path: '/billing/checkout',
    summary: 'Start a checkout with a provider',
    tag: 'billing',
    auth: 'session',
    body: b.checkoutRequestSchema,
    responses: { 200: b.checkoutResponseSchema },
    errors: { 400: ['provider_unavailable'], 409: ['already_subscribed'], 502: ['provider_error'] },
  }),
  subscription: route({
    method: 'GET',
    path: '/billing/subscription',
    summary: 'Current subscription and payments',
    tag: 'billing',
    auth: 'session',
    responses: { 200: b.subscriptionResponseSchema },
  }),
  cancel: route({
    method: 'POST',
    path: '/billing/cancel',
    summary: 'Cancel at the end of the paid period',
    tag: 'billing',
    auth: 'session',
    responses: { 200: b.subscriptionResponseSchema },
    errors: { 400: ['provider_unavailable'], 409: ['no_subscription'], 502: ['provider_error'] },
  }),
  portal: route({
    method: 'POST',
    path: '/billing/portal',
    summary: 'Stripe Customer Portal link',
    tag: 'billing',
    auth: 'session',
    responses: { 200: b.portalResponseSchema },
    errors: { 400: ['provider_unavailable'], 409: ['no_subscription'], 502: ['provider_error'] },
  }),
  sandboxComplete: route({
    method: 'POST',
    path: '/billing/sandbox/complete',
    summary: 'TEST MODE: pay or decline a sandbox checkout',
    tag: 'billing',
    auth: 'session',
    body: b.sandboxCompleteSchema,
    responses: { 200: outcome(z.enum(['success', 'declined'])) },
    errors: {
      400: ['provider_unavailable'],
      404: ['not_found'],
      409: ['session_closed', 'already_subscribed'],
    },
  }),
  sandboxRenew: route({
    method: 'POST',
    path: '/billing/sandbox/renew',
    summary: 'TEST MODE: run the next renewal now',
    tag: 'billing',
    auth: 'session',
    body: b.sandboxRenewSchema,
    responses: { 200: outcome(z.enum(['renewed', 'declined', 'already_done'])) },
    errors: { 400: ['provider_unavailable'], 409: ['no_subscription'] },
  }),
  amazonPayButton: route({
    method: 'GET',
    path: '/billing/amazonpay/button',
    summary: 'Signed Amazon Pay button configuration',
    tag: 'billing',
    auth: 'session',
    responses: { 200: b.amazonPayButtonResponseSchema },
    errors: { 400: ['provider_unavailable'] },
  }),
  amazonPayComplete: route({
    method: 'POST',
    path: '/billing/amazonpay/complete',
    summary: 'Complete an Amazon Pay checkout session after the buyer returns',
    tag: 'billing',
    auth: 'session',
    body: b.amazonPayCompleteSchema,
    responses: { 200: outcome(z.enum(['success', 'declined'])) },
    errors: {
      400: ['provider_unavailable'],
      402: ['payment_declined'],
      409: ['session_closed'],
      502: ['provider_error'],
    },
  }),
  stripeWebhook: route({
    method: 'POST',
    path: '/webhooks/stripe',
    summary: 'Stripe webhook (signed; the raw body is verified, not parsed as JSON first)',
    tag: 'billing',
    auth: 'signature',
    responses: { 200: webhookAckSchema },
    errors: { 400: ['invalid_request', 'invalid_signature', 'provider_unavailable'] },
  }),
  amazonPayWebhook: route({
    method: 'POST',
    path: '/webhooks/amazonpay',
    summary: 'Amazon Pay IPN (SNS-signed)',
    tag: 'billing',
    auth: 'signature',
    responses: { 200: webhookAckSchema },
    errors: { 400: ['invalid_request', 'invalid_signature', 'provider_unavailable'] },
  }),

  // personal API tokens
  listTokens: route({
    method: 'GET',
    path: '/tokens',
    summary: 'List personal API tokens',
    tag: 'tokens',
    auth: 'session',
    responses: { 200: b.apiTokensResponseSchema },
  }),
  createToken: route({
    method: 'POST',
    path: '/tokens',
    summary: 'Create a token (shown once; Pro)',
    tag: 'tokens',
    auth: 'session',
    body: b.createApiTokenSchema,
    responses: { 201: b.createdApiTokenSchema },
    errors: { 403: ['plan_required'], 409: ['too_many_tokens'] },
  }),
  revokeToken: route({
    method: 'DELETE',
    path: '/tokens/:id',
    summary: 'Revoke a token',
    tag: 'tokens',
    auth: 'session',
    params: uuidParam,
    responses: { 204: noBody },
    errors: { 404: ['not_found'] },
  }),

  // jobs and their events
  createJob: route({
    method: 'POST',
    path: '/jobs',
    summary: 'Queue a backtest or export (Pro); 202 with the job id',
    tag: 'jobs',
    auth: 'session',
    scope: 'jobs',
    body: b.createJobSchema,
    responses: { 202: z.object({ id: z.string() }) },
    errors: { 403: ['plan_required'], 503: ['queue_unavailable'] },
  }),
  listJobs: route({
    method: 'GET',
    path: '/jobs',
    summary: 'Recent jobs',
    tag: 'jobs',
    auth: 'session',
    scope: 'jobs',
    responses: { 200: b.jobsResponseSchema },
  }),
  job: route({
    method: 'GET',
    path: '/jobs/:id',
    summary: 'One job with its result',
    tag: 'jobs',
    auth: 'session',
    scope: 'jobs',
    params: uuidParam,
    responses: { 200: b.jobSchema },
    errors: { 404: ['not_found'] },
  }),
  cancelJob: route({
    method: 'POST',
    path: '/jobs/:id/cancel',
    summary:
      'Cancel a job on whichever replica runs it: 202 canceled (it was queued) or canceling (it stops at its next step; job.done follows); 409 if it had finished',
    tag: 'jobs',
    auth: 'session',
    scope: 'jobs',
    params: uuidParam,
    responses: { 202: z.object({ id: z.string(), status: z.enum(['canceled', 'canceling']) }) },
    errors: { 404: ['not_found'], 409: ['job_finished'] },
  }),
  events: route({
    method: 'GET',
    path: '/events',
    summary: 'Server-sent events: job.progress, job.done, alert.fired',
    tag: 'jobs',
    auth: 'session',
    responses: { 200: otherBody('text/event-stream') },
  }),

  // saved patterns and notifications
  listPatterns: route({
    method: 'GET',
    path: '/patterns',
    summary: 'Saved patterns',
    tag: 'patterns',
    auth: 'session',
    scope: 'patterns',
    responses: { 200: b.patternsResponseSchema },
  }),
  createPattern: route({
    method: 'POST',
    path: '/patterns',
    summary: 'Save a pattern to be alerted on (Pro)',
    tag: 'patterns',
    auth: 'session',
    scope: 'patterns',
    body: b.createPatternSchema,
    headers: idempotencyHeadersSchema,
    responses: { 201: b.patternSchema },
    errors: { 403: ['plan_required'], 409: ['too_many_patterns'], ...IDEMPOTENCY_ERRORS },
  }),
  updatePattern: route({
    method: 'PATCH',
    path: '/patterns/:id',
    summary: 'Rename a pattern and/or change its alert distance',
    tag: 'patterns',
    auth: 'session',
    scope: 'patterns',
    params: uuidParam,
    body: b.updatePatternSchema,
    responses: { 200: b.patternSchema },
    errors: { 404: ['not_found'] },
  }),
  deletePattern: route({
    method: 'DELETE',
    path: '/patterns/:id',
    summary: 'Delete a pattern',
    tag: 'patterns',
    auth: 'session',
    scope: 'patterns',
    params: uuidParam,
    responses: { 204: noBody },
    errors: { 404: ['not_found'] },
  }),
  notifications: route({
    method: 'GET',
    path: '/notifications',
    summary: 'In-app notifications',
    tag: 'patterns',
    auth: 'session',
    responses: { 200: b.notificationsResponseSchema },
  }),
  readNotification: route({
    method: 'POST',
    path: '/notifications/:id/read',
    summary: 'Mark a notification read',
    tag: 'patterns',
    auth: 'session',
    params: uuidParam,
    responses: { 200: ok },
    errors: { 404: ['not_found'] },
  }),

  // operator
  adminOverview: route({
    method: 'GET',
    path: '/admin/overview',
    summary: 'Operator overview (admin)',
    tag: 'admin',
    auth: 'admin',
    responses: { 200: b.adminOverviewSchema },
  }),
  adminUsers: route({
    method: 'GET',
    path: '/admin/users',
    summary: 'Users and plans (admin)',
    tag: 'admin',
    auth: 'admin',
    responses: { 200: z.object({ users: z.array(adminUserSchema) }) },
  }),
  // development only
  devOutbox: route({
    method: 'GET',
    path: '/dev/outbox',
    summary:
      'The mail the sandbox kept, newest first. Only when the server runs with MAIL_SANDBOX on (never in production); otherwise the path answers 404 not_found',
    tag: 'dev',
    auth: 'public',
    sandboxOnly: true,
    query: b.outboxQuerySchema,
    responses: { 200: b.outboxResponseSchema },
  }),
  adminPayments: route({
    method: 'GET',
    path: '/admin/payments',
    summary: 'Payments (admin)',
    tag: 'admin',
    auth: 'admin',
    responses: { 200: z.object({ payments: z.array(adminPaymentSchema) }) },
  }),
} as const satisfies RouteMap;

export type Api = typeof api;
export type ApiRouteName = keyof Api;
/** The success body of a route, as a client receives it: `ApiBody<'subscription'>`. */
export type ApiBody<K extends ApiRouteName> = SuccessBodyOf<Api[K]>;
