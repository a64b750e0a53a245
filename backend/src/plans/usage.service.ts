/**
 * Daily search quota (UTC day) in the app database. The count is taken by one conditional upsert that
 * writes nothing once the quota is reached: exact under concurrent searches (on PostgreSQL the second
 * increment of a user's day waits for the first's row lock and re-checks the count), with no transaction
 * around it, so a search costs two statements (the plan, the count) and on PostgreSQL two round trips.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../platform/errors.js';
import type { QuotaOf } from '../shared/shared-state.js';
import { countSearch, countSearchWithin, searchesOn, uncountSearch } from './usage.repo.js';

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
   * A function quota (the caller's plan lookup and checks) runs first and may throw: nothing is counted
   * then. Its read and the count are two statements: a plan change landing between them is the same as
   * one landing just after the search, which the search would not have seen either.
   */
  async consume(userId: string, quotaOf: number | null | QuotaOf): Promise<string> {
    const now = this.now();
    const day = utcDay(now);
    const quota = typeof quotaOf === 'function' ? await quotaOf() : quotaOf;
    if (quota === null) {
      await countSearch(this.db, userId, day);
      return day;
    }
    if (quota >= 1 && (await countSearchWithin(this.db, userId, day, quota)) !== undefined) return day;
    // Refused: nothing was written. The real count (a downgraded user may be past the new quota).
    const used = await searchesOn(this.db, userId, day);
    throw new AppError(
      429,
      'quota_exceeded',
      `the free plan allows ${quota} searches a day; upgrade to Pro for more`,
      { resetsAt: nextUtcMidnight(now), upgradeUrl: '/pricing', quota, used },
    );
  }

  /** Gives a search back when the upstream failed, so an outage does not eat the user's quota. */
  async refund(userId: string, day: string): Promise<void> {
    await uncountSearch(this.db, userId, day);
  }
}
