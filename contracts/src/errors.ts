import { z } from 'zod';

/**
 * Every error code backend and ml-service put in an error body. One list for both services: backend passes
 * ml-service's 4xx codes on to its callers (ml.client.ts), and the frontend has a sentence for each code.
 * Both services' AppError takes an ErrorCode, so a new code is added here or fails typecheck.
 */
export const ERROR_CODES = [
  // request shape and platform
  'invalid_request',
  'invalid_json',
  'bad_request',
  'payload_too_large',
  'not_found',
  'rate_limited',
  'internal',
  // authentication and authorisation
  'unauthenticated',
  'unauthorized',
  'invalid_credentials',
  'invalid_token',
  'registration_failed',
  'weak_password',
  'too_many_attempts',
  'session_closed',
  'csrf_failed',
  'forbidden',
  'insufficient_scope',
  // plans and quotas
  'plan_required',
  'plan_limit',
  'quota_exceeded',
  'too_many_searches',
  // billing
  'already_subscribed',
  'no_subscription',
  'payment_declined',
  'provider_error',
  'provider_unavailable',
  'invalid_signature',
  'not_cancelled',
  'resume_needs_checkout',
  // owned resources
  'too_many_tokens',
  'too_many_patterns',
  'job_finished',
  'idempotency_key_reused',
  'queue_unavailable',
  // search and ml-service
  'ml_unavailable',
  'client_closed',
  'search_timeout',
  'invalid_query',
  'unsupported_horizon',
  'unsupported_timeframe',
  'not_ready',
  'search_restarting',
  'unknown_code',
  'unknown_filter',
  'unknown_model',
  'model_unavailable',
] as const;
export const errorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** Every HTTP error from backend and ml-service has this body. */
export const errorBodySchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
