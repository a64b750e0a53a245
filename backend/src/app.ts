/**
 * Builds the app and its services; server.ts listens. Tests call createApp with their own config. Async:
 * with REDIS_URL the shared state connects first, so the first request already shares it.
 */
import express, { type Express } from 'express';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import { stdSerializers, type Logger } from 'pino';
import type Stripe from 'stripe';
import type { Api } from '@resemble/contracts';
import type { Config } from './config.js';
import { openDatabase, type AppDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { Checkpointer } from './db/checkpointer.js';
import { createLogger } from './platform/logger.js';
import { AppError, errorHandler, notFoundHandler } from './platform/errors.js';
import { requestId } from './platform/request-id.js';
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import { serverClasses } from './platform/server-classes.js';
import { PasswordHasher } from './auth/password.js';
import { SessionService } from './auth/sessions.js';
import { PasswordThrottle } from './auth/password-throttle.js';
import { authenticate, csrfProtect } from './auth/auth.middleware.js';
import { authRoutes } from './auth/auth.routes.js';
import { Mailer } from './mail/mailer.js';
import { storeOutboxMail } from './mail/outbox.repo.js';
import { outboxRoutes } from './mail/outbox.routes.js';
import { buildPlans } from './plans/plans.js';
import { MlClient } from './search/ml.client.js';
import { UserLanes } from './search/user-lanes.js';
import { searchRoutes } from './search/search.routes.js';
import { BillingService, type BillingProviders } from './billing/billing.service.js';
import { SandboxProvider } from './billing/sandbox.provider.js';
import { StripeProvider } from './billing/stripe.provider.js';
import { AmazonPayProvider, type AmazonPayOptions } from './billing/amazonpay.provider.js';
import { billingRoutes, webhookRoutes } from './billing/billing.routes.js';
import { tokensRoutes } from './tokens/tokens.routes.js';
import { inProcessState } from './shared/in-process.state.js';
import { redisState } from './shared/redis.state.js';
import type { EventBus } from './shared/shared-state.js';
import { createJobQueue } from './jobs/job-queues.js';
import type { JobQueue } from './jobs/job-queue.js';
import { registerJobHandlers } from './jobs/job-handlers.js';
import { jobsRoutes } from './jobs/jobs.routes.js';
import { patternsRoutes } from './patterns/patterns.routes.js';
import { AlertScanner } from './patterns/alert-scanner.js';
import { adminRoutes } from './admin/admin.routes.js';
import { mountRoutes, type Impls } from './platform/contract-router.js';
import { platformRoutes } from './platform/platform.routes.js';

export interface AppOverrides {
  logger?: Logger;
  now?: () => number;
  /** Keep sent mail in memory (tests read reset/verify links from it). */
  keepMail?: boolean;
  stripeClient?: Stripe;
  amazonPay?: Partial<AmazonPayOptions>;
}

export interface BuiltApp {
  app: Express;
  /** For http.createServer: requests and responses built with this app's prototypes (server-classes.ts). */
  serverOptions: ServerOptions;
  /**
   * What the process around the app drives or looks into: server.ts runs the renewals and the alert
   * poll and closes the streams; tests read the database, the kept mail and the queue. Nothing inside
   * the app receives this object (each part gets its own dependencies in createApp).
   */
  services: {
    config: Config;
    database: AppDatabase;
    billing: BillingService;
    jobs: JobQueue;
    mailer: Mailer;
    events: EventBus;
    /** The pattern-alert poller; server.ts starts it, tests call tick(). */
    alerts: AlertScanner;
  };
  /** Stops everything in order; `onStep` hears each step's name as it starts (shutdown logs the slow one). */
  close(onStep?: (step: string) => void): Promise<void>;
}

export async function createApp(config: Config, o: AppOverrides = {}): Promise<BuiltApp> {
  const log = o.logger ?? createLogger(config.logLevel);
  const now = o.now ?? Date.now;
  // SQLite (APP_DB) or PostgreSQL (DATABASE_URL), migrated before anything reads it; replicas starting
  // together take turns on PostgreSQL's advisory lock (db/migrate.ts).
  const database = openDatabase(config.storage.database, undefined, (err) =>
    log.error({ module: 'db', err: err.message }, 'idle database connection failed; the pool replaces it'),
  );
  await migrateToLatest(database).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  const db = database.kysely;
  const checkpointer =
    database.sqlite && config.storage.appDb !== ':memory:'
      ? new Checkpointer(database.sqlite, config.storage.appDb, log.child({ module: 'db' }))
      : null;
  const plans = buildPlans(config);
  const ml = new MlClient({
    baseUrl: config.ml.url,
    token: config.ml.token,
    timeoutMs: config.ml.timeoutMs,
    logger: log,
  });

  const providers: BillingProviders = {};
  const { stripe, amazonPay } = config.billing;
  if (stripe) {
    providers.stripe = new StripeProvider(
      db,
      { ...stripe, publicUrl: config.server.publicUrl, client: o.stripeClient },
      log.child({ module: 'stripe' }),
      now,
    );
  }
  if (amazonPay) {
    providers.amazonpay = new AmazonPayProvider(
      db,
      plans,
      { ...amazonPay, publicUrl: config.server.publicUrl, ...o.amazonPay },
      log.child({ module: 'amazonpay' }),
      now,
    );
  }
  if (config.billing.sandbox) providers.sandbox = new SandboxProvider(db, plans, now);

  // One backend keeps the shared state in process; several replicas share it through Redis.
  const shared = config.redis
    ? await redisState(config.redis.url, now, log.child({ module: 'redis' }))
    : inProcessState(db, now);
  const { events, rateLimitStore } = shared;
  const usage = shared.quota;
  const heavyLanes = new UserLanes(config.ml.heavyPerUser, config.ml.heavyQueuedPerUser);
  const hasher = new PasswordHasher(config.auth.scryptLogN, config.auth.hashConcurrency);
  const sessions = await SessionService.open(database, config.auth.jwtSecret, now, shared.revocations);
  const passwords = new PasswordThrottle(
    shared.limiter('pwd', config.auth.maxPasswordFailures, config.auth.windowMinutes * 60),
  );
  const mailer = new Mailer(
    config.mail.smtpUrl,
    config.mail.from,
    log.child({ module: 'mail' }),
    o.keepMail,
    config.mail.sandbox ? (mail) => storeOutboxMail(db, mail, new Date(now()).toISOString()) : undefined,
  );
  const billing = new BillingService(db, providers, now, config.billing.invoiceIssuer);
  const jobs = await createJobQueue(config, db, events, log.child({ module: 'jobs' }), now);
  // The composition root: every part below receives exactly what it uses, named here, and nothing
  // else (practica's explicit dependencies; the AppContext bag that hid who calls whom is gone).
  const planLookup = { db, plans, now };
  const accountDeps = {
    ...planLookup,
    hasher,
    sessions,
    passwords,
    mailer,
    usage,
    billing,
    publicUrl: config.server.publicUrl,
  };
  const searchDeps = { ...planLookup, usage, ml, heavyLanes };
  registerJobHandlers(jobs, searchDeps);
  jobs.start();
  const alerts = new AlertScanner(
    { ...planLookup, ml, events, mailer, log, publicUrl: config.server.publicUrl },
    config.alerts.pollSeconds,
  );

  const app = express();
  app.disable('x-powered-by');
  // Only the listed proxies may name the client; a hop count trusted whoever connected directly.
  app.set('trust proxy', config.server.trustProxy.length > 0 ? config.server.trustProxy : false);
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: log,
      // Every line logged during a request carries the request (id, method, path: the serialiser below).
      // One child logger per request: a separate reqId-only one (quietReqLogger) cost a second child.
      genReqId: (req, res) => {
        const id = requestId(req);
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
      // pino-http binds each request's logger to its serialised request at the start: the standard
      // serialiser copies every header (cookies, tokens: then redacted) on every request, logged or not.
      // Method and path (no query string, which may carry a reset or verification token) are enough.
      wrapSerializers: false,
      serializers: {
        req: (req: IncomingMessage & { id?: unknown }) => ({
          id: req.id,
          method: req.method,
          url: req.url?.split('?')[0],
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
        err: stdSerializers.err,
      },
    }),
  );
  // The API only ever answers JSON, so nothing may load from it or frame it.
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
        },
      },
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }),
  );
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: config.rateLimits.perIpPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      skip: (req) => req.path.startsWith('/api/v1/webhooks/'),
      store: rateLimitStore('ip'),
      handler: (_req, _res, next) =>
        next(
          new AppError(429, 'rate_limited', 'too many requests from this address; slow down for a minute'),
        ),
    }),
  );

  const v1 = express.Router();
  const webhooks = webhookRoutes(billing);
  const routes = {
    // Searches first: they are most of the traffic, and no other route shares their paths, so they need
    // not be matched against every route listed before them.
    ...searchRoutes({
      ...searchDeps,
      perUserPerMinute: config.rateLimits.perUserPerMinute,
      rateLimitStore,
    }),
    ...platformRoutes({ ml, plans, billing }),
    ...authRoutes({
      ...accountDeps,
      cookieSecure: config.server.cookieSecure,
      limits: config.auth,
      rateLimitStore,
    }),
    ...billingRoutes({ db, billing }),
    ...tokensRoutes({ ...planLookup, usage }),
    ...adminRoutes({ db, ml, billing, dataDir: config.storage.dataDir, now }),
    ...jobsRoutes({ ...planLookup, jobs, events }),
    ...patternsRoutes({ ...planLookup, ml }),
  };
  // Every route of the contract has exactly one handler: a route left out fails typecheck here.
  const outbox = outboxRoutes(db);
  const _every: Impls<keyof Api> = { ...webhooks, ...routes, ...outbox };
  void _every;
  // Webhooks come first: they need the raw bytes that the provider signed, not parsed JSON.
  mountRoutes(v1, webhooks);
  v1.use(express.json({ limit: '100kb' }));
  v1.use(cookieParser());
  v1.use(authenticate({ ...planLookup, sessions }));
  v1.use(csrfProtect(sessions));
  mountRoutes(v1, routes);
  // Development only (the contract marks it sandboxOnly): elsewhere /dev/outbox is an ordinary 404.
  if (config.mail.sandbox) mountRoutes(v1, outbox);

  app.use('/api/v1', v1);
  app.use(notFoundHandler);
  app.use(errorHandler);

  return {
    app,
    serverOptions: serverClasses(app),
    services: { config, database, billing, jobs, mailer, events, alerts },
    async close(onStep = () => {}) {
      alerts.stop();
      events.closeAll();
      onStep('jobs');
      await jobs.stop();
      onStep('shared state');
      await shared.close();
      onStep('checkpointer');
      await checkpointer?.stop();
      onStep('ml-service connections');
      await ml.close();
      onStep('database');
      await database.close();
    },
  };
}
