/**
 * Errors a predictor raises for a request it cannot answer. They are AppErrors, so the service's error
 * middleware answers with their status and code (contracts errorBodySchema) and a bad request never looks
 * like a server fault.
 */
import { AppError } from '../errors.js';

export type PredictorErrorCode =
  | 'invalid_query'
  | 'unknown_code'
  | 'model_unavailable'
  | 'unsupported_horizon'
  | 'unsupported_timeframe'
  | 'unknown_model';

export class PredictorError extends AppError {
  constructor(
    status: 400 | 404 | 409,
    override readonly code: PredictorErrorCode,
    message: string,
    details?: unknown,
  ) {
    super(status, code, message, details);
    this.name = 'PredictorError';
  }
}
