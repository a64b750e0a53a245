/** Builds the Express app (server.ts listens; tests start it on port 0). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { stdSerializers } from 'pino';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context.js';
import { bearerAuth, errorHandler, httpMetrics, notFoundRoute, requestId } from './middleware.js';
import { entitiesRoutes } from './routes/entities.routes.js';
import { predictRoutes } from './routes/predict.routes.js';
import { similarRoutes } from './routes/similar.routes.js';
import { systemRoutes } from './routes/system.routes.js';

export function createApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Backend is the only client and never revalidates: hashing every answer for an ETag is CPU spent on
  // nothing, on the hottest path (a 14-30 KB search answer per request).
  app.set('etag', false);
  app.use(
    pinoHttp({
      logger: ctx.log,
      genReqId: requestId,
      // One child logger per request, bound to the small req below (quietReqLogger made a second one).
      // pino-http binds every request's logger to its serialised request: the standard serialiser copies
      // every header (the bearer token among them) for each request, even when nothing is logged.
      // Method and URL are what a line about this internal API needs.
      wrapSerializers: false,
      serializers: {
        req: (req: IncomingMessage) => ({ method: req.method, url: req.url }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
        err: stdSerializers.err,
      },
      // Health probes arrive every few hundred ms from supervisors; logging them would drown the rest.
      autoLogging: { ignore: (req) => req.url === '/health' },
      customLogLevel: (_req, res, err) =>
        res.statusCode >= 500 || err ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    }),
  );
  app.use(httpMetrics(ctx.metrics));
  app.use(bearerAuth(ctx.config.ML_TOKEN));
  app.use(express.json({ limit: '256kb' }));
  app.use(systemRoutes(ctx));
  app.use(similarRoutes(ctx));
  app.use(predictRoutes(ctx));
  app.use(entitiesRoutes(ctx));
  app.use(notFoundRoute);
  app.use(errorHandler(ctx.log));
  return app;
}
