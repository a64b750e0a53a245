/** Billing, tokens, jobs, patterns, notifications and admin shapes of the public API (backend ↔ frontend). */
import { z } from 'zod';
import { asOfSchema, similarRequestSchema } from './ml.js';
import { planIdSchema } from './api.js';

export const billingProviderSchema = z.enum(['sandbox', 'stripe', 'amazonpay']);
export type BillingProvider = z.infer<typeof billingProviderSchema>;

export const checkoutRequestSchema = z
  .object({ plan: planIdSchema.exclude(['free']), provider: billingProviderSchema })
  .strict();
export const checkoutResponseSchema = z.object({
  provider: billingProviderSchema,
  redirectUrl: z.string(),
  sessionId: z.string(),
  testMode: z.boolean(),
});
export const sandboxCompleteSchema = z
  .object({ session: z.string().min(1).max(64), outcome: z.enum(['success', 'decline']) })
  .strict();
export const sandboxRenewSchema = z.object({ outcome: z.enum(['success', 'decline']) }).strict();

export const subscriptionResponseSchema = z.object({
  plan: planIdSchema,
  testMode: z.boolean(),
  subscription: z
    .object({
      plan: planIdSchema,
      provider: billingProviderSchema,
      status: z.enum(['active', 'past_due', 'canceled', 'incomplete']),
      currentPeriodEnd: z.string(),
      cancelAtPeriodEnd: z.boolean(),
      needsPaymentFix: z.boolean(),
    })
    .nullable(),
  payments: z.array(
    z.object({
      id: z.string(),
      provider: billingProviderSchema,
      amountJpy: z.number().int(),
      status: z.enum(['succeeded', 'failed', 'pending']),
      period: z.string().nullable(),
      createdAt: z.string(),
      failureReason: z.string().nullable(),
      /** The receipt of a successful payment (GET /billing/receipts/:id); null for failed or pending ones. */
      receiptId: z.string().nullable(),
    }),
  ),
  /** The name receipts are made out to (宛名); null: the account's e-mail address is used. */
  receiptName: z.string().nullable(),
});
export type SubscriptionResponse = z.infer<typeof subscriptionResponseSchema>;

/** PATCH /billing/receipt-name: the name on receipts (宛名); an empty string goes back to the e-mail. */
export const receiptNameSchema = z.object({ name: z.string().trim().max(80) }).strict();

/**
 * One receipt. `qualifiedInvoice` is set when the operator configured an issuer (適格請求書発行事業者): the
 * receipt then carries what a qualified invoice must (issuer and 登録番号, date, description, amount and
 * tax per rate, recipient); null, it is a plain receipt (領収書). Amounts include the tax.
 */
export const receiptSchema = z.object({
  id: z.string(),
  number: z.string(),
  issuedAt: z.string(),
  paidAt: z.string(),
  plan: planIdSchema,
  period: z.string().nullable(),
  provider: billingProviderSchema,
  amountJpy: z.number().int(),
  taxRatePercent: z.number().int(),
  taxJpy: z.number().int(),
  recipientName: z.string(),
  qualifiedInvoice: z.object({ issuerName: z.string(), registrationNumber: z.string() }).nullable(),
});
export type Receipt = z.infer<typeof receiptSchema>;

export const portalResponseSchema = z.object({ redirectUrl: z.string() });

export const amazonPayButtonResponseSchema = z.object({
  merchantId: z.string(),
  publicKeyId: z.string(),
  ledgerCurrency: z.literal('JPY'),
  checkoutLanguage: z.string(),
  productType: z.literal('PayOnly'),
  placement: z.literal('Checkout'),
  sandbox: z.boolean(),
  payload: z.string(),
  signature: z.string(),
});
export const amazonPayCompleteSchema = z.object({ checkoutSessionId: z.string().min(1).max(128) }).strict();

export const apiTokenScopeSchema = z.enum(['search', 'patterns', 'jobs']);
export const createApiTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(64),
    scopes: z.array(apiTokenScopeSchema).min(1).default(['search']),
  })
  .strict();
export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(apiTokenScopeSchema),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  searchesToday: z
    .number()
    .int()
    .describe("searches answered with this token today (UTC); they count against the account's quota"),
});
export const apiTokensResponseSchema = z.object({ tokens: z.array(apiTokenSchema) });
/** GET /quota: the caller's daily search quota (shared by the account's session and all its tokens). */
export const quotaResponseSchema = z.object({
  plan: planIdSchema,
  searches: z.object({
    used: z.number().int().describe('searches counted today (UTC) for the account: web app and every token'),
    limit: z.number().int().nullable().describe('searches allowed a day; null: unlimited (Pro)'),
    remaining: z.number().int().nullable(),
    resetsAt: z.string().describe('when the count starts again (next UTC midnight)'),
  }),
  ratePerMinute: z.number().int().describe('requests a minute per account on the search routes'),
  token: z
    .object({ id: z.string(), name: z.string(), searchesToday: z.number().int() })
    .nullable()
    .describe('the calling API token and its own share of today; null for a browser session'),
});
export type QuotaResponse = z.infer<typeof quotaResponseSchema>;
export const createdApiTokenSchema = apiTokenSchema.extend({
  token: z.string().describe('shown once; store it now'),
});

export const jobKindSchema = z.enum(['backtest', 'export']);
export const backtestParamsSchema = z
  .object({
    code: z.string().min(1).max(32),
    windowLength: z.number().int().min(8).max(250).default(60),
    horizon: z.number().int().min(1).max(250).default(20),
    samples: z.number().int().min(1).max(200).default(20),
    topK: z.number().int().min(1).max(100).default(20),
  })
  .strict();
export type BacktestParams = z.infer<typeof backtestParamsSchema>;
export const createJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('backtest'), params: backtestParamsSchema }).strict(),
  z.object({ kind: z.literal('export'), params: similarRequestSchema }).strict(),
]);
export const jobSchema = z.object({
  id: z.string(),
  kind: jobKindSchema,
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  progress: z.number(),
  /** The settings the job was queued with (the backtest result page shows them). */
  params: z.unknown(),
  /** A backtest's result reads as backtestResultSchema; an export's is its CSV (filename, contentType, csv). */
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** A backtest job's result (brier, baseRate, baseBrier and settings are absent from results made before issue 18). */
export const backtestResultSchema = z.object({
  code: z.string(),
  samples: z.array(
    z.object({ end: z.string(), predictedUp: z.number().nullable(), actualReturn: z.number() }),
  ),
  evaluated: z.number().int(),
  hitRate: z.number().nullable(),
  meanAbsError: z.number().nullable(),
  brier: z.number().nullable().optional(),
  baseRate: z.number().nullable().optional(),
  baseBrier: z.number().nullable().optional(),
  settings: backtestParamsSchema.optional(),
  /** The date of the stock's newest price the backtest saw (issue 13); absent from older results. */
  asOf: asOfSchema.optional(),
});
export type BacktestResult = z.infer<typeof backtestResultSchema>;
export const jobsResponseSchema = z.object({ jobs: z.array(jobSchema) });

export const createPatternSchema = z
  .object({
    name: z.string().trim().min(1).max(80),
    request: similarRequestSchema,
    threshold: z.number().positive().max(1000),
  })
  .strict();
/** PATCH /patterns/:id: rename and/or change the alert distance; at least one of them. */
export const updatePatternSchema = z
  .object({
    name: z.string().trim().min(1).max(80).optional(),
    threshold: z.number().positive().max(1000).optional(),
  })
  .strict()
  .refine((v) => v.name !== undefined || v.threshold !== undefined, 'give name, threshold or both');
/** GET /recent-searches: the user's last searches in the app, newest first (at most 10, no repeats). */
export const recentSearchesResponseSchema = z.object({
  searches: z.array(z.object({ request: similarRequestSchema, createdAt: z.string() })),
});
export const patternSchema = z.object({
  id: z.string(),
  name: z.string(),
  request: z.unknown(),
  threshold: z.number(),
  lastScannedVersion: z.string().nullable(),
  createdAt: z.string(),
});
export const patternsResponseSchema = z.object({ patterns: z.array(patternSchema) });
export const notificationSchema = z.object({
  id: z.string(),
  kind: z.string(),
  payload: z.unknown(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export const notificationsResponseSchema = z.object({
  notifications: z.array(notificationSchema),
  unread: z.number().int(),
});

export const adminOverviewSchema = z.object({
  usersByPlan: z.record(z.string(), z.number().int()),
  users: z.number().int(),
  revenueByMonth: z.array(
    z.object({ month: z.string(), amountJpy: z.number().int(), payments: z.number().int() }),
  ),
  failedPayments: z.number().int(),
  pendingPayments: z.number().int(),
  dataVersion: z.string().nullable(),
  lastScraperRun: z.unknown().nullable(),
  /** Freshness of each scraped source (backend/src/admin/data-freshness.ts). */
  dataSources: z.array(
    z.object({
      source: z.string(),
      market: z.string().nullable(),
      lastRunAt: z.string(),
      lastRunSucceeded: z.boolean(),
      lastSuccessAt: z.string().nullable(),
      dataThrough: z.string().nullable(),
      tradingDaysBehind: z.number().int().nullable(),
      stale: z.boolean(),
      reasons: z.array(z.string()),
    }),
  ),
  ml: z.object({ status: z.string(), health: z.unknown().nullable() }),
  testMode: z.boolean(),
});

/** GET /dev/outbox (only with MAIL_SANDBOX on): the mail the sandbox kept, newest first. */
export const outboxQuerySchema = z
  .object({ limit: z.coerce.number().int().min(0).max(200).default(50) })
  .strict();
export const outboxResponseSchema = z.object({
  sandbox: z.literal(true),
  mails: z.array(
    z.object({
      id: z.string(),
      to: z.string(),
      subject: z.string(),
      text: z.string(),
      link: z.string().nullable(),
      createdAt: z.string(),
    }),
  ),
});
