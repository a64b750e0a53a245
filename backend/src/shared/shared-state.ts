/**
 * The state replicas must agree on: daily search quotas, rate-limit and password-guess counters, the
 * list of revoked sessions, and the stream of user events (job progress, alerts). Each is a port here;
 * `in-process.state.ts` keeps them in this process (one backend, `./run.sh start`), `redis.state.ts` in
 * Redis (several replicas, REDIS_URL). app.ts picks one and hands each part to the code that needs it.
 */
import type { Response } from 'express';
import type { Store } from 'express-rate-limit';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

export interface UserEvent {
  type: 'job.progress' | 'job.done' | 'alert.fired';
  data: unknown;
}

/** Server-sent events to a user's open streams, wherever the streams and the publisher run. */
export interface EventBus {
  subscribe(userId: string, res: Response): () => void;
  publish(userId: string, event: UserEvent): void;
  closeAll(): void;
}

/** The quota of a user's plan (null: unlimited); it may throw (a plan check), and then nothing is counted. */
export type QuotaOf = () => number | null | Promise<number | null>;

/** Daily search counts (UTC day). */
export interface QuotaStore {
  searchesToday(userId: string): Promise<number>;
  /**
   * Takes one search from today's quota, or throws 429 quota_exceeded; `quotaOf` (null: unlimited, still
   * counted) runs first and may throw, e.g. a plan check. Returns the day charged, for a refund.
   */
  consume(userId: string, quotaOf: QuotaOf): Promise<string>;
  refund(userId: string, day: string): Promise<void>;
}

/** Sessions revoked before their access tokens expire (logout, password change, refresh reuse). */
export interface RevocationStore {
  /** Synchronous in process, so the hot path of a known token stays free of promises there. */
  isRevoked(sessionId: string): boolean | Promise<boolean>;
  /** Resolves once every replica will see it. */
  revoke(sessionId: string, untilMs: number): Promise<void>;
}

export interface SharedState {
  readonly kind: 'in-process' | 'redis';
  quota: QuotaStore;
  revocations: RevocationStore;
  events: EventBus;
  /** The store of one express-rate-limit limiter; undefined: its own in-memory store. */
  rateLimitStore(name: string): Store | undefined;
  /** A counter of `points` per key per `durationSeconds` (rate-limiter-flexible). */
  limiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
  close(): Promise<void>;
}
