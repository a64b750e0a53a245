/**
 * Dispatch for the two ml proxy routes, which carry nearly all the traffic, without Express's router.
 * On the 2-core bench box Express costs about 0.2 ms of CPU per request before any handler runs
 * (app.handle, then the router walking some fifteen layers: path matching, req.url trimmed and restored
 * per router, a closure per step), a quarter of a proxied search. Here req and res are prepared as
 * app.handle prepares them and the very middleware functions Express would run for that request run in
 * the same order, each seeing req.url and req.baseUrl as it would under Express; an error goes to the
 * same error handler, with req.url restored as Express restores it. Only the exact method and path are
 * taken (no query string, no trailing slash, same case); every other request goes to Express.
 * test/fast-path.test.ts sends the same requests both ways and compares answers and log lines.
 */
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Handlers that run with req.baseUrl and req.url set as the Express router would set them. */
export interface Stage {
  baseUrl: string;
  url: string;
  handlers: RequestHandler[];
}

type Req = Request & { next?: NextFunction };

export function fastPath(
  app: Express,
  routes: Record<string, Stage[]>,
  onError: ErrorRequestHandler,
  notFound: RequestHandler,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const table = new Map(Object.entries(routes));
  return (rawReq, rawRes) => {
    const stages = table.get(`${rawReq.method} ${rawReq.url}`);
    if (!stages) return false;
    const req = rawReq as Req;
    const res = rawRes as Response;
    // As app.handle (x-powered-by is disabled in app.ts).
    req.res = res;
    res.req = req;
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
    if (!res.locals) res.locals = Object.create(null);
    // As router.handle at the application level.
    req.originalUrl = req.originalUrl || req.url;
    req.baseUrl = '';
    req.params = {};

    let s = -1;
    let i = 0;
    let handlers: RequestHandler[] = [];
    const fail = (err: unknown) => {
      // Express reaches the app-level error handler after the routers restored the URL.
      req.baseUrl = '';
      req.url = req.originalUrl;
      req.params = {};
      try {
        onError(err, req, res, () => {});
      } catch {
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      }
    };
    const run = (h: RequestHandler) => {
      try {
        const ret = h(req, res, next) as unknown;
        if (ret && typeof (ret as Promise<void>).then === 'function') (ret as Promise<void>).then(undefined, (e: unknown) => next(e ?? new Error('Rejected promise')));
      } catch (e) {
        next(e);
      }
    };
    const next: NextFunction = (err?: unknown) => {
      if (err) return fail(err);
      while (i >= handlers.length) {
        if (++s >= stages.length) return run(notFound);
        handlers = stages[s].handlers;
        i = 0;
        req.baseUrl = stages[s].baseUrl;
        req.url = stages[s].url;
      }
      run(handlers[i++]);
    };
    req.next = next;
    next();
    return true;
  };
}
