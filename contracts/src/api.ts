/**
 * Public API (/api/v1) shapes owned by backend and consumed by the frontend. The OpenAPI document is
 * generated from these with z.toJSONSchema.
 */
import { z } from 'zod';
import { timeframeSchema } from './timeframe.js';

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .email('a valid email address is required')
  .max(254);
export const passwordSchema = z
  .string()
  .min(10, 'password must be at least 10 characters')
  .max(256, 'password must be at most 256 characters');

export const credentialsSchema = z.object({ email: emailSchema, password: passwordSchema }).strict();
export type Credentials = z.infer<typeof credentialsSchema>;

export const planIdSchema = z.enum(['free', 'pro']);
export type PlanId = z.infer<typeof planIdSchema>;

export const meResponseSchema = z.object({
  id: z.string(),
  email: z.string(),
  emailVerified: z.boolean(),
  role: z.enum(['user', 'admin']),
  plan: planIdSchema,
  billingProvider: z.enum(['sandbox', 'stripe', 'amazonpay']).nullable(),
  testMode: z.boolean(),
  usage: z.object({
    searchesToday: z.number().int(),
    quota: z.number().int().nullable(),
    resetsAt: z.string(),
  }),
  limits: z.object({
    maxTopK: z.number().int(),
    metrics: z.array(z.enum(['zned', 'dtw'])),
    models: z.array(z.enum(['analogue', 'baseline', 'brainjs'])),
  }),
});
export type MeResponse = z.infer<typeof meResponseSchema>;

export const changePasswordSchema = z
  .object({ currentPassword: z.string().min(1).max(256), newPassword: passwordSchema })
  .strict();
export const forgotPasswordSchema = z.object({ email: emailSchema }).strict();
export const resetPasswordSchema = z
  .object({ token: z.string().min(10).max(200), newPassword: passwordSchema })
  .strict();
export const verifyEmailSchema = z.object({ token: z.string().min(10).max(200) }).strict();
export const deleteAccountSchema = z.object({ password: z.string().min(1).max(256) }).strict();
/** Answer of endpoints that only acknowledge (forgot, verify/resend, logout ...). */
export const okResponseSchema = z.object({ ok: z.literal(true), message: z.string().optional() });

export const healthResponseSchema = z.object({
  status: z.literal('ok'),
  ml: z.enum(['up', 'down']),
  dataVersion: z.string().nullable(),
});

export const planSchema = z.object({
  id: planIdSchema,
  name: z.string(),
  priceJpy: z.number().int(),
  interval: z.enum(['month']).nullable(),
  features: z.object({
    dtw: z.boolean(),
    brainjs: z.boolean(),
    backtests: z.boolean(),
    patterns: z.boolean(),
    csvExport: z.boolean(),
    apiTokens: z.boolean(),
  }),
  limits: z.object({
    searchesPerDay: z.number().int().nullable(),
    maxTopK: z.number().int(),
    metrics: z.array(z.enum(['zned', 'dtw'])),
    models: z.array(z.enum(['analogue', 'baseline', 'brainjs'])),
    ratePerMinute: z.number().int(),
  }),
});
export const plansResponseSchema = z.object({
  plans: z.array(planSchema),
  testMode: z.boolean(),
  providers: z.array(z.enum(['sandbox', 'stripe', 'amazonpay'])),
});
export type PlansResponse = z.infer<typeof plansResponseSchema>;

export const entitiesQuerySchema = z.object({
  q: z.string().trim().max(64).default(''),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export const pricesQuerySchema = z.object({
  from: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'from must be YYYY-MM-DD')
    .optional(),
  to: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'to must be YYYY-MM-DD')
    .optional(),
  /** Candles of this timeframe (resampled from the daily rows; contracts/src/timeframe.ts). */
  timeframe: timeframeSchema.default('D'),
});
