/**
 * The per-account brake on password guessing. Every way of proving a password (login, changing it,
 * deleting the account) goes through `attempt`, so guesses spread over those routes add up to one count
 * per account and a locked account stays locked for all of them.
 *
 * A guess takes its point before the password is checked and gets it back only when the password was
 * right: concurrent guesses cannot all slip past a check made before any of them failed. The counter is
 * rate-limiter-flexible's, so the in-process store can be swapped for a shared one (Redis) by passing
 * another limiter.
 */
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../platform/errors.js';

export class PasswordThrottle {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  /** In-process counter: `max` failed proofs per account within `windowSeconds`. */
  static inMemory(max: number, windowSeconds: number): PasswordThrottle {
    return new PasswordThrottle(
      new RateLimiterMemory({ keyPrefix: 'pwd', points: max, duration: windowSeconds }),
    );
  }

  /**
   * Runs `prove` (true when the password was right) unless the account is locked, which is a 429.
   * `account` is the normalised email, the one key every route knows before it knows the user.
   */
  async attempt(account: string, prove: () => Promise<boolean>): Promise<boolean> {
    const key = account.trim().toLowerCase();
    try {
      await this.limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw new AppError(
        429,
        'too_many_attempts',
        'too many password attempts for this account; try again later',
        {
          retryAfterSeconds: Math.ceil(err.msBeforeNext / 1000),
        },
      );
    }
    const ok = await prove();
    if (ok) await this.limiter.reward(key);
    return ok;
  }
}
