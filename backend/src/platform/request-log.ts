/**
 * Request id + request logger, writing what pino-http (quietReqLogger) wrote: every line logged during a
 * request carries its reqId, and one completion line per request carries the redacted request, the
 * response and responseTime, at a level chosen from the outcome. Unlike pino-http it builds nothing a
 * request does not use: the child logger exists only once something logs, and the request is
 * serialised only when its completion line's level is enabled (successful answers log at debug, so in
 * production a successful search costs no logging work at all).
 */
import type { Express, RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stdSerializers, type Level, type Logger } from 'pino';
import { requestId } from './request-id.js';

declare module 'http' {
  interface IncomingMessage {
    id: string;
    log: Logger;
  }
}

const childLog = Symbol('childLog');
type WithChild = IncomingMessage & { [childLog]?: Logger };

/** 5xx or a failed response is an error; 4xx is worth an info line; the rest is debug. */
export function completionLevel(res: ServerResponse, err: unknown): Level {
  return err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug';
}

export function requestLogger(app: Express, log: Logger): RequestHandler {
  // The serializers pino-http put on its logger: req/res shaped for HTTP, err as pino's own.
  const base = log.child({}, { serializers: { req: stdSerializers.req, res: stdSerializers.res, err: stdSerializers.err } });
  // On this app's request prototype, so the getter costs nothing until a handler logs.
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: WithChild): Logger {
      return (this[childLog] ??= base.child({ reqId: this.id }));
    },
  });

  return (req, res, next) => {
    const id = requestId(req);
    req.id = id;
    res.setHeader('x-request-id', id);
    const started = Date.now();
    let done = false;
    const complete = (err?: unknown) => {
      if (done) return;
      done = true;
      const level = completionLevel(res, err);
      if (!base.isLevelEnabled(level)) return;
      const responseTime = Date.now() - started;
      const line = req.log.child({ req });
      if (err || res.statusCode >= 500) {
        line[level]({ res, err: err ?? new Error(`failed with status code ${res.statusCode}`), responseTime }, 'request errored');
      } else {
        line[level]({ res, responseTime }, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
      }
    };
    res.on('finish', complete);
    res.on('close', complete);
    res.on('error', complete);
    next();
  };
}
