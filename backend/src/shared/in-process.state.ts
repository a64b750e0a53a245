/** Shared state kept in this process: right for one backend, and what runs when REDIS_URL is unset. */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { UsageService } from '../plans/usage.service.js';
import { EventHub } from './event-hub.js';
import type { QuotaOf, QuotaStore, RevocationStore, SharedState } from './shared-state.js';

/** The daily counts in the app database's usage table (UsageService), behind the async port. */
class DatabaseQuota implements QuotaStore {
  constructor(private readonly usage: UsageService) {}
  async searchesToday(userId: string): Promise<number> {
    return this.usage.searchesToday(userId);
  }
  async consume(userId: string, quotaOf: QuotaOf): Promise<string> {
    return this.usage.consume(userId, quotaOf);
  }
  async refund(userId: string, day: string): Promise<void> {
    await this.usage.refund(userId, day);
  }
}

/** session id → revoked until (ms); the sessions table keeps them across restarts (SessionService). */
export class MemoryRevocations implements RevocationStore {
  private readonly until = new Map<string, number>();
  constructor(private readonly now: () => number) {}
  isRevoked(sessionId: string): boolean {
    const until = this.until.get(sessionId);
    if (until === undefined) return false;
    if (until < this.now()) {
      this.until.delete(sessionId);
      return false;
    }
    return true;
  }
  async revoke(sessionId: string, untilMs: number): Promise<void> {
    this.until.set(sessionId, untilMs);
  }
}

export function inProcessState(db: Kysely<Database>, now: () => number): SharedState {
  const events = new EventHub();
  return {
    kind: 'in-process',
    quota: new DatabaseQuota(new UsageService(db, now)),
    revocations: new MemoryRevocations(now),
    events,
    rateLimitStore: () => undefined,
    limiter: (name, points, duration) => new RateLimiterMemory({ keyPrefix: name, points, duration }),
    async close() {
      events.closeAll();
    },
  };
}
