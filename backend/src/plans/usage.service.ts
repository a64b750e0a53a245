/**
 * Daily search quota (UTC day) in the app database. The increment returns the new count and a count
 * past the quota throws inside the transaction, which rolls the increment back: exact under concurrent
 * searches (on PostgreSQL the second increment of a user's day waits for the first's row lock).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../platform/errors.js';
import type { QuotaOf } from '../shared/shared-state.js';
import { countSearch, searchesOn, uncountSearch } from './usage.repo.js';

export const utcDay = (now: number) => new Date(now).toISOString().slice(0, 10);
export const nextUtcMidnight = (now: number) => {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
};

export class UsageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  searchesToday(userId: string): Promise<number> {
    return searchesOn(this.db, userId, utcDay(this.now()));
  }

  /**
   * Takes one search from today's quota or throws 429; null quota means unlimited (still counted).
   * A function quota runs inside the same transaction (and is handed it), so a caller's plan lookup
   * and checks see the same state as the count.
   */
  async consume(userId: string, quotaOf: number | null | QuotaOf): Promise<string> {
    const day = utcDay(this.now());
    await this.db.transaction().execute(async (trx) => {
      const quota = typeof quotaOf === 'function' ? await quotaOf(trx) : quotaOf;
      const used = (await countSearch(trx, userId, day)) - 1;
      if (quota !== null && used >= quota) {
        // Thrown inside the transaction: the increment above is rolled back with it.
        throw new AppError(
          429,
          'quota_exceeded',
          `the free plan allows ${quota} searches a day; upgrade to Pro for more`,
          {
            resetsAt: nextUtcMidnight(this.now()),
            upgradeUrl: '/pricing',
            quota,
            used,
          },
        );
      }
    });
    return day;
  }

  /** Gives a search back when the upstream failed, so an outage does not eat the user's quota. */
  async refund(userId: string, day: string): Promise<void> {
    await uncountSearch(this.db, userId, day);
  }
}
