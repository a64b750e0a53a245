import type { z } from 'zod';
import type { ErrorCode } from '@resemble/contracts';

/** The one error type services throw; the error middleware maps it to `{ error: { code, message, details } }`. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    /** One of the codes shared with backend and the frontend (contracts/src/errors.ts). */
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new AppError(400, 'invalid_request', message, details);
export const notFound = (message: string) => new AppError(404, 'not_found', message);
/** A stock code the data does not have: its own code, so the user is told to check the code. */
export const unknownCode = (code: string) => new AppError(404, 'unknown_code', `unknown code ${code}`);
export const notReady = () => new AppError(503, 'not_ready', 'market data is still loading');

/** Parses input with a zod schema; a failure is a 400 listing every reason. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const details = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw badRequest(
      `invalid ${what}: ${details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`,
      details,
    );
  }
  return r.data;
}
