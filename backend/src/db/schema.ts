/**
 * The app database's tables as Kysely sees them, one interface per table. The same shape on SQLite and
 * PostgreSQL: times are ISO strings (TEXT) or epoch milliseconds (BIGINT, read back as numbers), flags are
 * 0/1 integers, JSON is TEXT. Migrations in ./migrations create exactly this.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { PlanId } from '@resemble/contracts';

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  email_verified: Generated<number>;
  role: Generated<'user' | 'admin'>;
  created_at: string;
  /** The name receipts are made out to (宛名); null: the e-mail address. */
  receipt_name: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  user_id: string;
  family_id: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface RevokedSessionsTable {
  session_id: string;
  expires_at: number;
}

export interface OneTimeTokensTable {
  token_hash: string;
  user_id: string;
  kind: 'reset' | 'verify';
  expires_at: number;
  used_at: number | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface UsageTable {
  user_id: string;
  day: string;
  searches: Generated<number>;
}

export interface SubscriptionsTable {
  id: string;
  user_id: string;
  plan: PlanId;
  provider: 'sandbox' | 'stripe' | 'amazonpay';
  status: 'active' | 'past_due' | 'canceled' | 'incomplete';
  provider_customer_id: string | null;
  provider_subscription_id: string | null;
  current_period_start: string;
  current_period_end: string;
  cancel_at_period_end: Generated<number>;
  provider_updated_at: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface CheckoutSessionsTable {
  id: string;
  user_id: string;
  provider: string;
  plan: PlanId;
  status: 'open' | 'completed' | 'declined' | 'expired';
  provider_ref: string | null;
  created_at: string;
}

export interface PaymentsTable {
  id: string;
  user_id: string | null;
  provider: string;
  amount_jpy: number;
  status: 'succeeded' | 'failed' | 'pending';
  period: string | null;
  idempotency_key: string | null;
  provider_ref: string | null;
  failure_reason: string | null;
  created_at: string;
}

export interface WebhookEventsTable {
  provider: string;
  event_id: string;
  type: string;
  received_at: string;
}

export interface JobsTable {
  id: string;
  user_id: string;
  kind: string;
  params: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: Generated<number>;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface PatternsTable {
  id: string;
  user_id: string;
  name: string;
  request: string;
  threshold: number;
  last_scanned_version: string | null;
  created_at: string;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  kind: string;
  payload: string;
  created_at: string;
  read_at: string | null;
}

export interface RecentSearchesTable {
  user_id: string;
  key: string;
  request: string;
  seq: number;
  created_at: string;
}

export interface MailOutboxTable {
  id: string;
  to_address: string;
  subject: string;
  body: string;
  link: string | null;
  seq: number;
  created_at: string;
}

/** Searches answered per API token per UTC day (the quota itself is the account's: `usage`). */
export interface TokenUsageTable {
  token_id: string;
  day: string;
  searches: number;
}

/** One per successful payment; issuer fields copied at issue time (null: a plain receipt). */
export interface ReceiptsTable {
  payment_id: string;
  user_id: string | null;
  number: string;
  plan: string;
  amount_jpy: number;
  tax_rate_percent: number;
  tax_jpy: number;
  issuer_name: string | null;
  registration_number: string | null;
  issued_at: string;
}

export interface IdempotencyKeysTable {
  user_id: string;
  /** The client's Idempotency-Key header. */
  key: string;
  /** The contract route it was sent to (createPattern, …). */
  operation: string;
  /** SHA-256 of the request body it came with: the same key with another body is refused. */
  request_hash: string;
  status: number;
  /** The JSON answer given, replayed to a retry. */
  response: string;
  /** Epoch ms; keys older than the retention are pruned. */
  created_at: number;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  revoked_sessions: RevokedSessionsTable;
  one_time_tokens: OneTimeTokensTable;
  api_tokens: ApiTokensTable;
  usage: UsageTable;
  token_usage: TokenUsageTable;
  subscriptions: SubscriptionsTable;
  checkout_sessions: CheckoutSessionsTable;
  payments: PaymentsTable;
  webhook_events: WebhookEventsTable;
  jobs: JobsTable;
  patterns: PatternsTable;
  notifications: NotificationsTable;
  recent_searches: RecentSearchesTable;
  mail_outbox: MailOutboxTable;
  receipts: ReceiptsTable;
  idempotency_keys: IdempotencyKeysTable;
}

export type TableName = keyof Database;

/**
 * Every table with the columns that identify a row, parents before children (a copy inserts in this
 * order, so foreign keys hold at every step).
 */
export const TABLES: readonly { name: TableName; key: readonly string[] }[] = [
  { name: 'users', key: ['id'] },
  { name: 'refresh_tokens', key: ['token_hash'] },
  { name: 'revoked_sessions', key: ['session_id'] },
  { name: 'one_time_tokens', key: ['token_hash'] },
  { name: 'api_tokens', key: ['id'] },
  { name: 'usage', key: ['user_id', 'day'] },
  { name: 'token_usage', key: ['token_id', 'day'] },
  { name: 'subscriptions', key: ['id'] },
  { name: 'checkout_sessions', key: ['id'] },
  { name: 'payments', key: ['id'] },
  { name: 'webhook_events', key: ['provider', 'event_id'] },
  { name: 'jobs', key: ['id'] },
  { name: 'patterns', key: ['id'] },
  { name: 'notifications', key: ['id'] },
  { name: 'recent_searches', key: ['user_id', 'key'] },
  { name: 'mail_outbox', key: ['id'] },
  { name: 'receipts', key: ['payment_id'] },
  { name: 'idempotency_keys', key: ['user_id', 'key'] },
];

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type SubscriptionRow = Selectable<SubscriptionsTable>;
export type NewSubscription = Insertable<SubscriptionsTable>;
export type SubscriptionUpdate = Updateable<SubscriptionsTable>;

/** The app database, as use cases receive it (they open transactions on it). */
export type Db = import('kysely').Kysely<Database>;

/** What a repository function runs on: the database, or a transaction a use case opened on it. */
export type Executor = import('kysely').Kysely<Database> | import('kysely').Transaction<Database>;
