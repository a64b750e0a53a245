/**
 * Daily search quota (UTC day). The increment returns the new count and a count past the quota throws
 * inside the transaction, which rolls the increment back: exact, in one statement per search.
 */
import type { Db } from '../db/db.js';
import { AppError } from '../platform/errors.js';

export const utcDay = (now: number) => new Date(now).toISOString().slice(0, 10);
export const nextUtcMidnight = (now: number) => {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
};

export class UsageService {
  private readonly read;
  private readonly bump;
  private readonly refundStmt;
  // Built once: better-sqlite3 transaction wrappers are cheap to call but not free to create per request.
  private readonly consumeTx;

  constructor(
    db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.read = db.prepare<[string, string], { searches: number }>('SELECT searches FROM usage WHERE user_id = ? AND day = ?');
    this.bump = db
      .prepare<[string, string], number>('INSERT INTO usage (user_id, day, searches) VALUES (?, ?, 1) ON CONFLICT(user_id, day) DO UPDATE SET searches = searches + 1 RETURNING searches')
      .pluck();
    this.refundStmt = db.prepare('UPDATE usage SET searches = MAX(searches - 1, 0) WHERE user_id = ? AND day = ?');
    this.consumeTx = db.transaction((userId: string, quota: number | null | (() => number | null), day: string) => this.consumeTxImpl(userId, quota, day));
  }

  searchesToday(userId: string): number {
    return this.read.get(userId, utcDay(this.now()))?.searches ?? 0;
  }

  /**
   * Takes one search from today's quota or throws 429; null quota means unlimited (still counted).
   * A function quota runs inside the same transaction, so a caller's plan lookup and checks share one
   * SQLite transaction with the count: on every search that saves a lock round of its own.
   */
  consume(userId: string, quota: number | null | (() => number | null)): string {
    const day = utcDay(this.now());
    this.consumeTx(userId, quota, day);
    return day;
  }

  private consumeTxImpl(userId: string, quotaOf: number | null | (() => number | null), day: string): void {
    const quota = typeof quotaOf === 'function' ? quotaOf() : quotaOf;
    const used = this.bump.get(userId, day)! - 1;
    if (quota !== null && used >= quota) {
      // Thrown inside consumeTx: the increment above is rolled back with it.
      throw new AppError(429, 'quota_exceeded', `the free plan allows ${quota} searches a day; upgrade to Pro for more`, {
        resetsAt: nextUtcMidnight(this.now()),
        upgradeUrl: '/pricing',
        quota,
        used,
      });
    }
  }

  /** Gives a search back when the upstream failed, so an outage does not eat the user's quota. */
  refund(userId: string, day: string): void {
    this.refundStmt.run(userId, day);
  }
}
