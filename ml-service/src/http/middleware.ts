import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Honours a well-formed incoming x-request-id (backend forwards its own) and echoes it. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/** Bearer-token check; GET /health stays open so supervisors can probe readiness without the secret. */
export function bearerAuth(token: string | undefined): RequestHandler {
  const expected = token ? Buffer.from(`Bearer ${token}`) : null;
  return (req, _res, next) => {
    if (!expected || (req.method === 'GET' && req.path === '/health')) return next();
    const got = Buffer.from(req.get('authorization') ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return next(new AppError(401, 'unauthorized', 'missing or invalid bearer token'));
    }
    next();
  };
}

export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

export const notFoundRoute: RequestHandler = (req, _res, next) =>
  next(new AppError(404, 'not_found', `no route ${req.method} ${req.path}`));

/** The one error handler: AppErrors keep their status; body-parser errors are 4xx; anything else is 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let e: AppError;
    if (err instanceof AppError) e = err;
    else if (isHttpError(err) && err.status >= 400 && err.status < 500) {
      e = new AppError(
        err.status,
        err.type === 'entity.parse.failed' ? 'invalid_json' : 'bad_request',
        err.message,
      );
    } else {
      (req.log ?? log).error({ err }, 'unhandled error');
      e = new AppError(500, 'internal', 'internal error');
    }
    if (res.headersSent) return;
    res.status(e.status).json({
      error: {
        code: e.code,
        message: e.message,
        ...(e.details === undefined ? {} : { details: e.details }),
      },
    });
  };
}

function isHttpError(err: unknown): err is { status: number; type?: string; message: string } {
  return typeof err === 'object' && err !== null && typeof (err as { status?: unknown }).status === 'number';
}
