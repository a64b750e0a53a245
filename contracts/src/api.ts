/**
 * Public API (/api/v1) shapes owned by backend and consumed by the frontend. The OpenAPI document is
 * generated from these with z.toJSONSchema.
 */
import { z } from 'zod';

export const emailSchema = z.string().trim().toLowerCase().email('a valid email address is required').max(254);
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
  usage: z.object({ searchesToday: z.number().int(), quota: z.number().int().nullable(), resetsAt: z.string() }),
  limits: z.object({
    maxTopK: z.number().int(),
    metrics: z.array(z.enum(['zned', 'dtw'])),
    models: z.array(z.enum(['analogue', 'baseline', 'brainjs'])),
  }),
});
export type MeResponse = z.infer<typeof meResponseSchema>;
