/**
 * Shared state in Redis (REDIS_URL), so several backend replicas behave as one: a free user's daily
 * searches, every rate limit and the password-guess count hold across replicas; a session revoked on one
 * is refused by all at once; a job's progress reaches the user's stream on whichever replica holds it.
 * Counters are Lua scripts (the quota, below), rate-limiter-flexible's (password guesses) and rate-limit-redis
 * (express-rate-limit's limits): each one atomic in Redis.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisStore } from 'rate-limit-redis';
import { AppError } from '../platform/errors.js';
import { nextUtcMidnight, utcDay } from '../plans/usage.service.js';
import { EventHub } from './event-hub.js';
import { endRedis } from './redis-close.js';
import type {
  EventBus,
  QuotaOf,
  QuotaStore,
  RevocationStore,
  SharedState,
  UserEvent,
} from './shared-state.js';

const PREFIX = 'resemble:';
const EVENTS_CHANNEL = `${PREFIX}events`;
const REVOKED_KEY = `${PREFIX}revoked`;
const DAY_S = 86_400;

/**
 * Takes one search: the day's count after it, or 0 when the quota (ARGV[2], -1 for none) was already
 * used up, in which case nothing is written. The check and the increment are one script, so concurrent
 * searches on any replicas never pass the quota; a new day's key gets its expiry in the same step.
 */
const TAKE_SEARCH = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local quota = tonumber(ARGV[2])
if quota >= 0 and n >= quota then return 0 end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** Gives one search back, never below zero. */
const GIVE_BACK = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0`;

/**
 * One counter per user and UTC day, a plain integer at `resemble:quota:<user>:<day>` (the key and
 * value rate-limiter-flexible kept before, so replicas of either version share the count). Each step is
 * one Lua script sent with EVAL on the auto-pipelined connection: one command a search, batched with
 * the other requests' commands (the library's own consume was a custom command on a connection of its
 * own, then a second round trip to give back a count past the quota).
 */
class RedisQuota implements QuotaStore {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number,
  ) {}
  private key(userId: string, day: string): string {
    return `${PREFIX}quota:${userId}:${day}`;
  }
  async searchesToday(userId: string): Promise<number> {
    return Number((await this.redis.get(this.key(userId, utcDay(this.now())))) ?? 0);
  }
  async consume(userId: string, quotaOf: QuotaOf): Promise<string> {
    const quota = await quotaOf();
    const now = this.now();
    const day = utcDay(now);
    const n = Number(await this.redis.eval(TAKE_SEARCH, 1, this.key(userId, day), 2 * DAY_S, quota ?? -1));
    if (n === 0) {
      throw new AppError(
        429,
        'quota_exceeded',
        `the free plan allows ${quota} searches a day; upgrade to Pro for more`,
        {
          resetsAt: nextUtcMidnight(now),
          upgradeUrl: '/pricing',
          quota,
          used: quota,
        },
      );
    }
    return day;
  }
  async refund(userId: string, day: string): Promise<void> {
    await this.redis.eval(GIVE_BACK, 1, this.key(userId, day));
  }
}

/** A sorted set: member = session id, score = revoked until (ms). Checked on every request. */
class RedisRevocations implements RevocationStore {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number,
  ) {}
  async isRevoked(sessionId: string): Promise<boolean> {
    const until = await this.redis.zscore(REVOKED_KEY, sessionId);
    return until !== null && Number(until) >= this.now();
  }
  async revoke(sessionId: string, untilMs: number): Promise<void> {
    // GT: a later revocation of the same session never shortens an earlier one; old entries go as we pass.
    await this.redis
      .multi()
      .zadd(REVOKED_KEY, 'GT', untilMs, sessionId)
      .zremrangebyscore(REVOKED_KEY, '-inf', this.now() - 1)
      .exec();
  }
}

/** Publishes to one channel; every replica's subscriber hands each event to its own open streams. */
class RedisEventBus implements EventBus {
  private readonly hub = new EventHub();
  constructor(
    private readonly pub: Redis,
    sub: Redis,
    private readonly log: Logger,
  ) {
    sub.on('message', (_channel: string, message: string) => {
      try {
        const { userId, event } = JSON.parse(message) as { userId: string; event: UserEvent };
        this.hub.publish(userId, event);
      } catch (err) {
        this.log.warn({ err }, 'unreadable event on the events channel');
      }
    });
  }
  subscribe(userId: string, res: Parameters<EventHub['subscribe']>[1]): () => void {
    return this.hub.subscribe(userId, res);
  }
  publish(userId: string, event: UserEvent): void {
    // Progress is best effort (the job row holds the truth): a failed publish is logged, not thrown.
    this.pub
      .publish(EVENTS_CHANNEL, JSON.stringify({ userId, event }))
      .catch((err: unknown) => this.log.warn({ err }, 'event publish failed'));
  }
  closeAll(): void {
    this.hub.closeAll();
  }
}

/**
 * Connects and subscribes before returning, so the first request already shares state.
 *
 * Two command connections. Every search sends two rate-limit scripts, a revocation lookup and the quota
 * script; profiled under the replicas bench (issue 15), writing each one to its own socket was 14 % of a
 * replica's CPU
 * (a write syscall per command, and the wake-up of redis-server that comes with it). `hot` batches the
 * commands all requests issue in one event-loop turn into one write (ioredis auto-pipelining: each
 * command still gets its own reply, in order). rate-limiter-flexible stays on the plain connection: its
 * script is a defineCommand'd custom command, the case where auto-pipelining is known to crash
 * (redis/ioredis#1931).
 */
export async function redisState(url: string, now: () => number, log: Logger): Promise<SharedState> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
  const redis = new Redis(url, options);
  const hot = new Redis(url, { ...options, enableAutoPipelining: true });
  const sub = redis.duplicate({ lazyConnect: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  hot.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  sub.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber connection error'));
  await redis.connect();
  await hot.connect();
  await sub.connect();
  await sub.subscribe(EVENTS_CHANNEL);
  const events = new RedisEventBus(redis, sub, log);
  return {
    kind: 'redis',
    quota: new RedisQuota(hot, now),
    revocations: new RedisRevocations(hot, now),
    events,
    rateLimitStore: (name) =>
      new RedisStore({
        prefix: `${PREFIX}rl:${name}:`,
        sendCommand: (command: string, ...args: string[]) => hot.call(command, ...args) as Promise<number>,
      }),
    limiter: (name, points, duration) =>
      new RateLimiterRedis({ storeClient: redis, keyPrefix: `${PREFIX}${name}`, points, duration }),
    async close() {
      events.closeAll();
      await Promise.allSettled([endRedis(sub), endRedis(hot), endRedis(redis)]);
    },
  };
}
