import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { ErrorCode } from '@resemble/contracts';

/** Every failure a handler means to report; anything else thrown becomes a logged 500. */
export class AppError extends Error {
  constructor(
    public readonly status: number,
    /** One of the codes shared with ml-service and the frontend (contracts/src/errors.ts). */
    public readonly code: ErrorCode,
    message: string,
    public readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new AppError(400, 'invalid_request', message, details);
export const unauthenticated = (message = 'authentication required') =>
  new AppError(401, 'unauthenticated', message);
export const forbidden = (code: ErrorCode, message: string, details?: unknown) =>
  new AppError(403, code, message, details);
export const notFound = (message = 'not found') => new AppError(404, 'not_found', message);

export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new AppError(404, 'not_found', `no route for ${req.method} ${req.path}`);
};

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let e: AppError;
  if (err instanceof AppError) e = err;
  else if (err instanceof z.ZodError) e = badRequest('request is invalid', zodDetails(err));
  else if (isBodyParserError(err)) {
    e =
      err.type === 'entity.too.large'
        ? new AppError(413, 'payload_too_large', 'request body is too large')
        : badRequest(
            err.type === 'entity.parse.failed'
              ? 'request body is not valid JSON'
              : 'request body could not be read',
          );
  } else if (err instanceof URIError) {
    // Express's router decodes path parameters before any handler runs and throws this for "%" or "%zz".
    e = badRequest('a path parameter is not valid percent-encoding (a "%" must start an escape such as %2F)');
  } else e = new AppError(500, 'internal', 'internal server error');
  if (e.status >= 500) req.log.error({ err }, 'request failed');
  else req.log.info({ code: e.code, status: e.status }, 'request rejected');
  if (res.headersSent) return;
  res.status(e.status).json({
    error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) },
  });
};

function isBodyParserError(err: unknown): err is { type: string; status: number } {
  return (
    typeof err === 'object' &&
    err !== null &&
    'type' in err &&
    typeof (err as { type: unknown }).type === 'string' &&
    'status' in err
  );
}
