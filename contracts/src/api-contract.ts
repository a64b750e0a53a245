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
import { noBody, otherBody, routesOf, type RouteMap, type SuccessBodyOf } from './route-contract.js';

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
/** A similar search also names a market or sector filter no stock is filed under (predict has no filters). */
const SIMILAR_ERRORS = {
  ...SEARCH_ERRORS,
  400: [...SEARCH_ERRORS[400], 'unknown_filter'],
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

const platform = routesOf('platform');
const billing = routesOf('billing');
const accounts = routesOf('auth');
const search = routesOf('search');
const searchScoped = search.scoped('search');
const tokens = routesOf('tokens');
const jobs = routesOf('jobs');
const jobsScoped = jobs.scoped('jobs');
const patterns = routesOf('patterns');
const patternsScoped = patterns.scoped('patterns');
const operator = routesOf('admin');
const dev = routesOf('dev');

export const api = {
  // platform
  health: platform.public.get('/health', 'Liveness and ml-service reachability', {
    200: a.healthResponseSchema,
  }),
  openapi: platform.public.get(
    '/openapi.json',
    'This document (OpenAPI 3.1), generated from contracts/src/api-contract.ts',
    { 200: z.record(z.string(), z.unknown()) },
  ),
  docs: platform.public.get('/docs', 'Every operation as a plain HTML page', { 200: otherBody('text/html') }),
  plans: billing.public.get('/plans', 'Plans, prices and enabled payment providers', {
    200: a.plansResponseSchema,
  }),

  // accounts and sessions
  register: accounts.credentials.post(
    '/auth/register',
    'Create an account and sign in',
    { 201: a.meResponseSchema },
    {
      body: a.credentialsSchema,
      errors: { 400: ['weak_password', 'registration_failed'], 429: ['too_many_attempts'] },
    },
  ),
  login: accounts.credentials.post(
    '/auth/login',
    'Sign in (sets session cookies)',
    { 200: a.meResponseSchema },
    { body: a.credentialsSchema, errors: { 401: ['invalid_credentials'], 429: ['too_many_attempts'] } },
  ),
  refresh: accounts.credentials.post(
    '/auth/refresh',
    'Rotate the refresh token and issue a new access token',
    { 200: a.meResponseSchema },
    { errors: { 401: ['unauthenticated'] } },
  ),
  logout: accounts.credentials.post('/auth/logout', 'End this session now', { 200: ok }),
  changePassword: accounts.session.post(
    '/auth/password',
    'Change password (ends other sessions)',
    { 200: ok },
    {
      body: a.changePasswordSchema,
      errors: { 400: ['invalid_credentials', 'weak_password'], 429: ['too_many_attempts'] },
    },
  ),
  forgotPassword: accounts.credentials.post(
    '/auth/forgot',
    'Send a reset link if the account exists (always 202)',
    { 202: ok },
    { body: a.forgotPasswordSchema, errors: { 429: ['too_many_attempts'] } },
  ),
  resetPassword: accounts.credentials.post(
    '/auth/reset',
    'Set a new password with a single-use reset token',
    { 200: ok },
    {
      body: a.resetPasswordSchema,
      errors: { 400: ['invalid_token', 'weak_password'], 429: ['too_many_attempts'] },
    },
  ),
  verifyEmail: accounts.credentials.post(
    '/auth/verify',
    'Confirm the email address',
    { 200: ok },
    { body: a.verifyEmailSchema, errors: { 400: ['invalid_token'] } },
  ),
  resendVerification: accounts.session.post('/auth/verify/resend', 'Send the confirmation link again', {
    202: ok,
  }),
  me: accounts.session.get('/me', 'The signed-in user, plan, usage and limits', { 200: a.meResponseSchema }),
  deleteAccount: accounts.session.delete(
    '/me',
    'Delete the account and its data',
    { 200: ok },
    { body: a.deleteAccountSchema, errors: { 400: ['invalid_credentials'], 429: ['too_many_attempts'] } },
  ),

  // search (ml-service behind backend)
  entities: searchScoped.get(
    '/entities',
    'Find stocks: exact code, code prefix, name prefix, name substring, then a typo in a Latin name (Japanese and English names; width and kana folded)',
    { 200: ml.entitiesResponseSchema },
    { query: a.entitiesQuerySchema, errors: ML_ERRORS },
  ),
  facets: searchScoped.get(
    '/entities/facets',
    "Markets, sectors and kinds present (the similarity filters' choices)",
    { 200: ml.entityFacetsSchema },
    { errors: ML_ERRORS },
  ),
  prices: searchScoped.get(
    '/entities/:code/prices',
    'Prices of one stock (daily rows, or weekly/monthly candles for timeframe W/M dated by their last trading day), with the date of its newest price (asOf)',
    { 200: ml.pricesResponseSchema },
    {
      params: z.object({ code: entityCodeSchema }),
      query: a.pricesQuerySchema,
      errors: { 404: ['not_found', 'unknown_code'], 400: ['unsupported_timeframe'], ...ML_ERRORS },
    },
  ),
  similar: searchScoped.post(
    '/similar',
    'Find the most similar stretches (counts against the daily quota)',
    { 200: ml.similarResponseSchema },
    { body: ml.similarRequestSchema, errors: SIMILAR_ERRORS },
  ),
  predict: searchScoped.post(
    '/predict',
    'Forecast from a query window (counts against the daily quota)',
    { 200: ml.predictResponseSchema },
    { body: ml.predictRequestSchema, errors: SEARCH_ERRORS },
  ),
  exportSimilarCsv: searchScoped.post(
    '/export/similar.csv',
    'Similarity result as CSV (Pro)',
    { 200: otherBody('text/csv') },
    { body: ml.similarRequestSchema, errors: { ...SIMILAR_ERRORS, 403: ['plan_limit', 'plan_required'] } },
  ),
  recentSearches: searchScoped.get(
    '/recent-searches',
    "The web app's last similarity searches, newest first (at most 10, no repeats; API-token calls are not recorded)",
    { 200: b.recentSearchesResponseSchema },
  ),

  // billing
  checkout: billing.session.post(
    '/billing/checkout',
    'Start a checkout with a provider',
    { 200: b.checkoutResponseSchema },
    {
      body: b.checkoutRequestSchema,
      errors: { 400: ['provider_unavailable'], 409: ['already_subscribed'], 502: ['provider_error'] },
    },
  ),
  subscription: billing.session.get('/billing/subscription', 'Current subscription and payments', {
    200: b.subscriptionResponseSchema,
  }),
  cancel: billing.session.post(
    '/billing/cancel',
    'Cancel at the end of the paid period',
    { 200: b.subscriptionResponseSchema },
    { errors: { 400: ['provider_unavailable'], 409: ['no_subscription'], 502: ['provider_error'] } },
  ),
  resume: billing.session.post(
    '/billing/resume',
    'Undo a cancellation before the paid period ends (renewal goes on as before)',
    { 200: b.subscriptionResponseSchema },
    {
      errors: {
        400: ['provider_unavailable'],
        409: ['no_subscription', 'not_cancelled', 'resume_needs_checkout'],
        502: ['provider_error'],
      },
    },
  ),
  receipt: billing.session.get(
    '/billing/receipts/:id',
    'One receipt of a successful payment (適格請求書 fields when an issuer is configured)',
    { 200: b.receiptSchema },
    { params: uuidParam, errors: { 404: ['not_found'] } },
  ),
  receiptName: billing.session.patch(
    '/billing/receipt-name',
    'Set the name receipts are made out to (宛名); empty goes back to the e-mail address',
    { 200: b.subscriptionResponseSchema },
    { body: b.receiptNameSchema },
  ),
  portal: billing.session.post(
    '/billing/portal',
    'Stripe Customer Portal link',
    { 200: b.portalResponseSchema },
    { errors: { 400: ['provider_unavailable'], 409: ['no_subscription'], 502: ['provider_error'] } },
  ),
  sandboxComplete: billing.session.post(
    '/billing/sandbox/complete',
    'TEST MODE: pay or decline a sandbox checkout',
    { 200: outcome(z.enum(['success', 'declined'])) },
    {
      body: b.sandboxCompleteSchema,
      errors: {
        400: ['provider_unavailable'],
        404: ['not_found'],
        409: ['session_closed', 'already_subscribed'],
      },
    },
  ),
  sandboxRenew: billing.session.post(
    '/billing/sandbox/renew',
    'TEST MODE: run the next renewal now',
    { 200: outcome(z.enum(['renewed', 'declined', 'already_done'])) },
    { body: b.sandboxRenewSchema, errors: { 400: ['provider_unavailable'], 409: ['no_subscription'] } },
  ),
  amazonPayButton: billing.session.get(
    '/billing/amazonpay/button',
    'Signed Amazon Pay button configuration',
    { 200: b.amazonPayButtonResponseSchema },
    { errors: { 400: ['provider_unavailable'] } },
  ),
  amazonPayComplete: billing.session.post(
    '/billing/amazonpay/complete',
    'Complete an Amazon Pay checkout session after the buyer returns',
    { 200: outcome(z.enum(['success', 'declined'])) },
    {
      body: b.amazonPayCompleteSchema,
      errors: {
        400: ['provider_unavailable'],
        402: ['payment_declined'],
        409: ['session_closed'],
        502: ['provider_error'],
      },
    },
  ),
  stripeWebhook: billing.signature.post(
    '/webhooks/stripe',
    'Stripe webhook (signed; the raw body is verified, not parsed as JSON first)',
    { 200: webhookAckSchema },
    { errors: { 400: ['invalid_request', 'invalid_signature', 'provider_unavailable'] } },
  ),
  amazonPayWebhook: billing.signature.post(
    '/webhooks/amazonpay',
    'Amazon Pay IPN (SNS-signed)',
    { 200: webhookAckSchema },
    { errors: { 400: ['invalid_request', 'invalid_signature', 'provider_unavailable'] } },
  ),

  // personal API tokens
  listTokens: tokens.session.get('/tokens', 'List personal API tokens', { 200: b.apiTokensResponseSchema }),
  createToken: tokens.session.post(
    '/tokens',
    'Create a token (shown once; Pro)',
    { 201: b.createdApiTokenSchema },
    { body: b.createApiTokenSchema, errors: { 403: ['plan_required'], 409: ['too_many_tokens'] } },
  ),
  quota: tokens
    .scoped('any')
    .get(
      '/quota',
      "The daily search quota: used, limit and reset time (the account's, shared by its tokens), and the calling token's own count",
      { 200: b.quotaResponseSchema },
    ),
  revokeToken: tokens.session.delete(
    '/tokens/:id',
    'Revoke a token',
    { 204: noBody },
    { params: uuidParam, errors: { 404: ['not_found'] } },
  ),

  // jobs and their events
  createJob: jobsScoped.post(
    '/jobs',
    'Queue a backtest or export (Pro); 202 with the job id',
    { 202: z.object({ id: z.string() }) },
    { body: b.createJobSchema, errors: { 403: ['plan_required'], 503: ['queue_unavailable'] } },
  ),
  listJobs: jobsScoped.get('/jobs', 'Recent jobs', { 200: b.jobsResponseSchema }),
  job: jobsScoped.get(
    '/jobs/:id',
    'One job with its result',
    { 200: b.jobSchema },
    { params: uuidParam, errors: { 404: ['not_found'] } },
  ),
  cancelJob: jobsScoped.post(
    '/jobs/:id/cancel',
    'Cancel a job on whichever replica runs it: 202 canceled (it was queued) or canceling (it stops at its next step; job.done follows); 409 if it had finished',
    { 202: z.object({ id: z.string(), status: z.enum(['canceled', 'canceling']) }) },
    { params: uuidParam, errors: { 404: ['not_found'], 409: ['job_finished'] } },
  ),
  events: jobs.session.get('/events', 'Server-sent events: job.progress, job.done, alert.fired', {
    200: otherBody('text/event-stream'),
  }),

  // saved patterns and notifications
  listPatterns: patternsScoped.get('/patterns', 'Saved patterns', { 200: b.patternsResponseSchema }),
  createPattern: patternsScoped.post(
    '/patterns',
    'Save a pattern to be alerted on (Pro)',
    { 201: b.patternSchema },
    {
      body: b.createPatternSchema,
      headers: idempotencyHeadersSchema,
      errors: {
        // The saved search is checked as the nightly scan will send it (a filter or code no stock has).
        400: ['invalid_query', 'unknown_filter'],
        403: ['plan_required'],
        404: ['unknown_code'],
        409: ['too_many_patterns'],
        ...IDEMPOTENCY_ERRORS,
        ...ML_ERRORS,
      },
    },
  ),
  updatePattern: patternsScoped.patch(
    '/patterns/:id',
    'Rename a pattern and/or change its alert distance',
    { 200: b.patternSchema },
    { params: uuidParam, body: b.updatePatternSchema, errors: { 404: ['not_found'] } },
  ),
  deletePattern: patternsScoped.delete(
    '/patterns/:id',
    'Delete a pattern',
    { 204: noBody },
    { params: uuidParam, errors: { 404: ['not_found'] } },
  ),
  notifications: patterns.session.get('/notifications', 'In-app notifications', {
    200: b.notificationsResponseSchema,
  }),
  readNotification: patterns.session.post(
    '/notifications/:id/read',
    'Mark a notification read',
    { 200: ok },
    { params: uuidParam, errors: { 404: ['not_found'] } },
  ),

  // operator
  adminOverview: operator.admin.get('/admin/overview', 'Operator overview (admin)', {
    200: b.adminOverviewSchema,
  }),
  adminUsers: operator.admin.get('/admin/users', 'Users and plans (admin)', {
    200: z.object({ users: z.array(adminUserSchema) }),
  }),

  // development only
  devOutbox: dev.public.get(
    '/dev/outbox',
    'The mail the sandbox kept, newest first. Only when the server runs with MAIL_SANDBOX on (never in production); otherwise the path answers 404 not_found',
    { 200: b.outboxResponseSchema },
    { sandboxOnly: true, query: b.outboxQuerySchema },
  ),
  adminPayments: operator.admin.get('/admin/payments', 'Payments (admin)', {
    200: z.object({ payments: z.array(adminPaymentSchema) }),
  }),
} as const satisfies RouteMap;

export type Api = typeof api;
export type ApiRouteName = keyof Api;
/** The success body of a route, as a client receives it: `ApiBody<'subscription'>`. */
export type ApiBody<K extends ApiRouteName> = SuccessBodyOf<Api[K]>;
