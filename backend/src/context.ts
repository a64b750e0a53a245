import type { Logger } from 'pino';
import type { PlanId } from '@resemble/contracts';
import type { Config } from './config.js';
import type { AppDatabase } from './db/database.js';
import type { PasswordHasher } from './auth/password.js';
import type { SessionService } from './auth/sessions.js';
import type { PasswordThrottle } from './auth/password-throttle.js';
import type { Mailer } from './mail/mailer.js';
import type { Plan } from './plans/plans.js';
import type { MlClient } from './search/ml.client.js';
import type { UserLanes } from './search/user-lanes.js';
import type { BillingService } from './billing/billing.service.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { EventBus, QuotaStore, SharedState } from './shared/shared-state.js';

/** Everything a route or service needs, built once in app.ts; tests build it with their own config. */
export interface AppContext {
  config: Config;
  /** The app database through Kysely, on SQLite or PostgreSQL; repositories take it. */
  database: AppDatabase;
  log: Logger;
  ml: MlClient;
  /** Per-user limit of long (DTW) searches running at once (search.service.ts). */
  heavyLanes: UserLanes;
  plans: Record<PlanId, Plan>;
  hasher: PasswordHasher;
  sessions: SessionService;
  /** The per-account count of wrong passwords, shared by every route that checks one. */
  passwords: PasswordThrottle;
  /** Daily search counts (SQLite in process, or Redis). */
  usage: QuotaStore;
  mailer: Mailer;
  billing: BillingService;
  jobs: JobQueue;
  events: EventBus;
  /** The store each express-rate-limit limiter counts in (undefined: its own memory). */
  rateLimitStore: SharedState['rateLimitStore'];
  now: () => number;
}

export type Scope = 'search' | 'patterns' | 'jobs';

export interface AuthInfo {
  userId: string;
  role: 'user' | 'admin';
  via: 'cookie' | 'token';
  sessionId?: string;
  /** The API token's id (via 'token'): its searches are counted per token too. */
  tokenId?: string;
  scopes?: Scope[];
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthInfo;
  }
}
