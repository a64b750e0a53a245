/**
 * The one place that reads the environment. A bad env stops start-up with every bad key listed, so an
 * operator fixes them all in one go instead of one per restart.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { dbTarget, type DbTarget } from './db/db-target.js';

const repoRoot = resolve(import.meta.dirname, '../..');

const intFrom = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
/** "true" or "false" only: anything else is a typo an operator should hear about, not a silent false. */
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Who may tell backend the client's address (X-Forwarded-For): addresses, subnets or Express's names
   * for them (loopback, linklocal, uniquelocal), comma-separated; empty trusts no one.
   */
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .transform((v, c) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const item of list) {
        if (/^\d+$/.test(item)) {
          c.addIssue({
            code: 'custom',
            message: `a hop count (${item}) trusts X-Forwarded-For from anyone who reaches backend directly; list the proxy addresses or subnets instead (e.g. loopback or 10.0.0.0/8)`,
          });
        } else if (!isTrustedProxySpec(item)) {
          c.addIssue({
            code: 'custom',
            message: `"${item}" is not an IP address, a subnet (address/prefix) or one of loopback, linklocal, uniquelocal`,
          });
        }
      }
      return list;
    }),
  ML_URL: z.url().default('http://127.0.0.1:8001'),
  ML_TOKEN: optionalString,
  ML_TIMEOUT_MS: intFrom(10_000, 100),
  /** Time budget of one search (similar, predict) by plan, in ms: past it the search is stopped, 504. */
  SEARCH_BUDGET_FREE_MS: intFrom(10_000, 100),
  SEARCH_BUDGET_PRO_MS: intFrom(30_000, 100),
  /** Long (DTW) searches of one user running at once; more wait in the user's own queue, up to the max. */
  HEAVY_SEARCHES_PER_USER: intFrom(2, 1),
  HEAVY_SEARCHES_QUEUED_PER_USER: intFrom(20, 0),
  APP_DB: z.string().min(1).default(resolve(repoRoot, 'data/app.sqlite')),
  /** postgres://… moves the app database to PostgreSQL (several replicas); unset, the APP_DB SQLite file. */
  DATABASE_URL: optionalString.refine(
    (v) => v === undefined || /^postgres(ql)?:\/\//.test(v),
    'DATABASE_URL must be a postgres:// or postgresql:// URL',
  ),
  /**
   * PostgreSQL connections one backend process may hold (DATABASE_URL only). Replicas x this must stay
   * under the server's max_connections (100 by default) with room for migrations and the operator.
   */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  DATA_DIR: z.string().min(1).default(resolve(repoRoot, 'data')),
  PUBLIC_URL: z.url().default('http://127.0.0.1:3000'),
  JWT_SECRET: optionalString.refine(
    (v) => v === undefined || v.length >= 32,
    'JWT_SECRET must be at least 32 characters',
  ),
  SCRYPT_LOG_N: intFrom(15, 10),
  HASH_CONCURRENCY: intFrom(2, 1),
  SMTP_URL: optionalString,
  MAIL_FROM: z.string().default('Resemble <no-reply@resemble.local>'),
  /**
   * Keep sent mail in the app database and show it at /dev/outbox: on by default in development without
   * SMTP_URL (./run.sh start has no mail server); never allowed in production.
   */
  MAIL_SANDBOX: flag.optional(),
  FREE_SEARCHES_PER_DAY: intFrom(5, 0),
  PRO_PRICE_JPY: intFrom(1480, 1),
  RATE_LIMIT_IP_PER_MIN: intFrom(600, 1),
  RATE_LIMIT_USER_PER_MIN: intFrom(120, 1),
  LOGIN_MAX_PER_ACCOUNT: intFrom(10, 1),
  LOGIN_MAX_PER_IP: intFrom(50, 1),
  LOGIN_WINDOW_MIN: intFrom(15, 1),
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_PRICE_PRO: optionalString,
  AMAZON_PAY_PUBLIC_KEY_ID: optionalString,
  AMAZON_PAY_PRIVATE_KEY: optionalString,
  AMAZON_PAY_MERCHANT_ID: optionalString,
  AMAZON_PAY_STORE_ID: optionalString,
  AMAZON_PAY_SANDBOX: flag.default(true),
  /** The test-mode provider that grants Pro without payment: on by default outside production only. */
  BILLING_SANDBOX: flag.optional(),
  /** Shared state for several replicas (quotas, limits, revocations, events); unset: in this process. */
  REDIS_URL: optionalString.refine(
    (v) => v === undefined || /^rediss?:\/\/[^\s]+$/.test(v),
    'REDIS_URL must be a redis:// or rediss:// URL',
  ),
  /** With REDIS_URL: false makes this replica serve the API only and leave jobs to the others. */
  JOBS_WORKER: flag.default(true),
  /**
   * BullMQ's stalled-job handling (REDIS_URL): a job's lock lives JOB_LOCK_MS unless its worker renews
   * it; every JOB_STALLED_CHECK_MS a worker looks for jobs whose lock lapsed (their process died) and
   * runs them again, JOB_MAX_STALLED times at most, after which the job fails.
   */
  JOB_LOCK_MS: intFrom(30_000, 1_000),
  JOB_STALLED_CHECK_MS: intFrom(30_000, 500),
  JOB_MAX_STALLED: intFrom(1, 0),
  ALERT_POLL_SECONDS: intFrom(300, 1),
  RENEWAL_CRON: z.string().default('17 * * * *'),
  /**
   * Receipts become qualified invoices (適格請求書) when both are set: the issuer's name and its
   * 登録番号 (T and 13 digits, as the National Tax Agency assigns it). Unset, receipts are plain 領収書.
   */
  INVOICE_ISSUER_NAME: optionalString.refine(
    (v) => v === undefined || v.trim().length <= 120,
    'INVOICE_ISSUER_NAME must be at most 120 characters',
  ),
  INVOICE_REGISTRATION_NUMBER: optionalString.refine(
    (v) => v === undefined || /^T\d{13}$/.test(v),
    'INVOICE_REGISTRATION_NUMBER must be T followed by 13 digits (e.g. T1234567890123)',
  ),
});

function isTrustedProxySpec(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [address, prefix, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export type Env = z.infer<typeof envSchema>;

export interface StripeConfig {
  secretKey: string;
  webhookSecret: string;
  pricePro: string;
}

export interface AmazonPayConfig {
  publicKeyId: string;
  /** PEM text or a path to it. */
  privateKey: string;
  merchantId: string;
  storeId: string;
  /** Amazon's sandbox environment (test buyers), not our test-mode provider. */
  sandbox: boolean;
}

/** Who issues qualified invoices (適格請求書 発行事業者): both fields or none. */
export interface InvoiceIssuerConfig {
  name: string;
  /** 登録番号: T + 13 digits. */
  registrationNumber: string;
}

/** What the environment says, grouped by the part that uses it; an optional part is its block or null. */
export interface Config {
  nodeEnv: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  server: {
    host: string;
    port: number;
    /** The browser-facing origin: links in mail, payment return URLs. */
    publicUrl: string;
    /** Express's "trust proxy" list (TRUST_PROXY); empty: X-Forwarded-For is never read. */
    trustProxy: string[];
    cookieSecure: boolean;
  };
  storage: {
    /** backend's own SQLite file (':memory:' in some tests); unused when `database` is PostgreSQL. */
    appDb: string;
    /** Which engine holds the app database: DATABASE_URL's PostgreSQL (pool size DATABASE_POOL_MAX), else the APP_DB file. */
    database: DbTarget;
    /** The market data directory (catalog and run reports for the operator view). */
    dataDir: string;
  };
  ml: {
    url: string;
    token: string | undefined;
    timeoutMs: number;
    /** DTW searches of one user running at once, and waiting in that user's queue (search/user-lanes.ts). */
    heavyPerUser: number;
    heavyQueuedPerUser: number;
  };
  auth: {
    jwtSecret: Uint8Array;
    scryptLogN: number;
    hashConcurrency: number;
    /** Wrong passwords per account per window, counted over every route that checks one. */
    maxPasswordFailures: number;
    /** Requests per IP per window to login, register, forgot and reset. */
    maxAuthRequestsPerIp: number;
    windowMinutes: number;
  };
  mail: {
    smtpUrl: string | undefined;
    from: string;
    /** Sent mail is kept and listed at /api/v1/dev/outbox (the sandbox outbox); never in production. */
    sandbox: boolean;
  };
  plans: {
    freeSearchesPerDay: number;
    proPriceJpy: number;
    searchBudgetFreeMs: number;
    searchBudgetProMs: number;
  };
  rateLimits: { perIpPerMinute: number; perUserPerMinute: number };
  billing: {
    stripe: StripeConfig | null;
    amazonPay: AmazonPayConfig | null;
    /** The test-mode provider that grants Pro without payment (never beside a real provider). */
    sandbox: boolean;
    renewalCron: string;
    /** Set: receipts carry the 適格請求書 fields; null: plain receipts (領収書). */
    invoiceIssuer: InvoiceIssuerConfig | null;
  };
  alerts: { pollSeconds: number };
  /** Where replicas share quotas, limits, revocations, events and the job queue; null: in this process. */
  redis: { url: string } | null;
  /** How the BullMQ worker of this replica runs (used with redis only). */
  jobs: { worker: boolean; lockMs: number; stalledCheckMs: number; maxStalled: number };
}

export class ConfigError extends Error {
  constructor(public readonly issues: string[]) {
    super(`invalid environment:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  const issues: string[] = [];
  if (!parsed.success) {
    for (const i of parsed.error.issues) issues.push(`${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(issues);
  }
  const env = parsed.data;
  if (env.NODE_ENV === 'production' && !env.JWT_SECRET)
    issues.push('JWT_SECRET: required when NODE_ENV=production');
  const stripe = stripeBlock(env, issues);
  const amazonPay = amazonPayBlock(env, issues);
  const invoiceIssuer = invoiceIssuerBlock(env, issues);
  const sandboxWanted = env.BILLING_SANDBOX ?? env.NODE_ENV !== 'production';
  if (!stripe && !amazonPay && !sandboxWanted) {
    // Without this, production with no keys fell back to the sandbox: anyone could take Pro for free.
    issues.push(
      'billing: no payment provider is configured; set STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_PRICE_PRO ' +
        '(Stripe) or AMAZON_PAY_PUBLIC_KEY_ID, AMAZON_PAY_PRIVATE_KEY, AMAZON_PAY_MERCHANT_ID and AMAZON_PAY_STORE_ID ' +
        `(Amazon Pay), or BILLING_SANDBOX=true to run test-mode billing on purpose${env.NODE_ENV === 'production' ? ' (NODE_ENV=production)' : ''}`,
    );
  }
  if (env.MAIL_SANDBOX && env.NODE_ENV === 'production')
    issues.push(
      'MAIL_SANDBOX: the sandbox outbox shows every sent mail to anyone; not allowed when NODE_ENV=production',
    );
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    server: {
      host: env.HOST,
      port: env.PORT,
      publicUrl: env.PUBLIC_URL,
      trustProxy: env.TRUST_PROXY,
      cookieSecure: env.NODE_ENV !== 'development',
    },
    storage: {
      appDb: env.APP_DB,
      database: dbTarget(env.DATABASE_URL, env.APP_DB, env.DATABASE_POOL_MAX),
      dataDir: env.DATA_DIR,
    },
    ml: {
      url: env.ML_URL,
      token: env.ML_TOKEN,
      timeoutMs: env.ML_TIMEOUT_MS,
      heavyPerUser: env.HEAVY_SEARCHES_PER_USER,
      heavyQueuedPerUser: env.HEAVY_SEARCHES_QUEUED_PER_USER,
    },
    auth: {
      jwtSecret: new TextEncoder().encode(env.JWT_SECRET ?? devJwtSecret(env.APP_DB)),
      scryptLogN: env.SCRYPT_LOG_N,
      hashConcurrency: env.HASH_CONCURRENCY,
      maxPasswordFailures: env.LOGIN_MAX_PER_ACCOUNT,
      maxAuthRequestsPerIp: env.LOGIN_MAX_PER_IP,
      windowMinutes: env.LOGIN_WINDOW_MIN,
    },
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM,
      sandbox: env.MAIL_SANDBOX ?? (env.NODE_ENV === 'development' && !env.SMTP_URL),
    },
    plans: {
      freeSearchesPerDay: env.FREE_SEARCHES_PER_DAY,
      proPriceJpy: env.PRO_PRICE_JPY,
      searchBudgetFreeMs: env.SEARCH_BUDGET_FREE_MS,
      searchBudgetProMs: env.SEARCH_BUDGET_PRO_MS,
    },
    rateLimits: { perIpPerMinute: env.RATE_LIMIT_IP_PER_MIN, perUserPerMinute: env.RATE_LIMIT_USER_PER_MIN },
    billing: {
      stripe,
      amazonPay,
      sandbox: !stripe && !amazonPay && sandboxWanted,
      renewalCron: env.RENEWAL_CRON,
      invoiceIssuer,
    },
    alerts: { pollSeconds: env.ALERT_POLL_SECONDS },
    redis: env.REDIS_URL ? { url: env.REDIS_URL } : null,
    jobs: {
      worker: env.JOBS_WORKER,
      lockMs: env.JOB_LOCK_MS,
      stalledCheckMs: env.JOB_STALLED_CHECK_MS,
      maxStalled: env.JOB_MAX_STALLED,
    },
  };
}

function stripeBlock(env: Env, issues: string[]): StripeConfig | null {
  const {
    STRIPE_SECRET_KEY: secretKey,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    STRIPE_PRICE_PRO: pricePro,
  } = env;
  if (!secretKey) return null;
  if (!webhookSecret || !pricePro) {
    issues.push('STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_PRO: required when STRIPE_SECRET_KEY is set');
    return null;
  }
  return { secretKey, webhookSecret, pricePro };
}

function amazonPayBlock(env: Env, issues: string[]): AmazonPayConfig | null {
  const {
    AMAZON_PAY_PUBLIC_KEY_ID: publicKeyId,
    AMAZON_PAY_PRIVATE_KEY: privateKey,
    AMAZON_PAY_MERCHANT_ID: merchantId,
    AMAZON_PAY_STORE_ID: storeId,
  } = env;
  if (publicKeyId && privateKey && merchantId && storeId) {
    return { publicKeyId, privateKey, merchantId, storeId, sandbox: env.AMAZON_PAY_SANDBOX };
  }
  if (publicKeyId || privateKey || merchantId || storeId) {
    issues.push(
      'AMAZON_PAY_PUBLIC_KEY_ID, AMAZON_PAY_PRIVATE_KEY, AMAZON_PAY_MERCHANT_ID, AMAZON_PAY_STORE_ID: set all or none',
    );
  }
  return null;
}

function invoiceIssuerBlock(env: Env, issues: string[]): InvoiceIssuerConfig | null {
  const { INVOICE_ISSUER_NAME: name, INVOICE_REGISTRATION_NUMBER: registrationNumber } = env;
  if (name && registrationNumber) return { name: name.trim(), registrationNumber };
  if (name || registrationNumber)
    issues.push(
      'INVOICE_ISSUER_NAME, INVOICE_REGISTRATION_NUMBER: set both (a qualified invoice needs the issuer and its registration number) or neither',
    );
  return null;
}

/** Outside production a secret is generated once and kept beside the database, so sessions survive restarts. */
function devJwtSecret(appDb: string): string {
  const file = appDb === ':memory:' ? undefined : resolve(dirname(appDb), '.jwt-secret');
  if (file && existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(48).toString('base64url');
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, secret, { mode: 0o600 });
  }
  return secret;
}
