/**
 * Shared state in Redis (REDIS_URL), so several backend replicas behave as one: a free user's daily
 * searches, every rate limit and the password-guess count hold across replicas; a session revoked on one
 * is refused by all at once; a job's progress reaches the user's stream on whichever replica holds it.
 * Counters are rate-limiter-flexible's (atomic Lua in Redis) and rate-limit-redis for express-rate-limit.
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
 * One counter per user and UTC day. The increment is atomic and a count past the quota is given back
 * at once, so concurrent searches on any replicas never exceed it (the same shape as UsageService).
 */
class RedisQuota implements QuotaStore {
  private readonly counter: RateLimiterRedis;
  constructor(
    redis: Redis,
    private readonly now: () => number,
  ) {
    // The limiter's own refusal is never used (points unreachable): the quota depends on the plan.
    this.counter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${PREFIX}quota`,
      points: Number.MAX_SAFE_INTEGER,
      duration: 2 * DAY_S,
    });
  }
  async searchesToday(userId: string): Promise<number> {
    return (await this.counter.get(`${userId}:${utcDay(this.now())}`))?.consumedPoints ?? 0;
  }
  async consume(userId: string, quotaOf: QuotaOf): Promise<string> {
    const quota = await quotaOf();
    const now = this.now();
    const day = utcDay(now);
    const res = await this.counter.consume(`${userId}:${day}`);
    if (quota !== null && res.consumedPoints > quota) {
      await this.counter.reward(`${userId}:${day}`);
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
    const key = `${userId}:${day}`;
    if (((await this.counter.get(key))?.consumedPoints ?? 0) > 0) await this.counter.reward(key);
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

/** Connects and subscribes before returning, so the first request already shares state. */
export async function redisState(url: string, now: () => number, log: Logger): Promise<SharedState> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  const sub = redis.duplicate({ lazyConnect: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  sub.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber connection error'));
  await redis.connect();
  await sub.connect();
  await sub.subscribe(EVENTS_CHANNEL);
  const events = new RedisEventBus(redis, sub, log);
  return {
    kind: 'redis',
    quota: new RedisQuota(redis, now),
    revocations: new RedisRevocations(redis, now),
    events,
    rateLimitStore: (name) =>
      new RedisStore({
        prefix: `${PREFIX}rl:${name}:`,
        sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<number>,
      }),
    limiter: (name, points, duration) =>
      new RateLimiterRedis({ storeClient: redis, keyPrefix: `${PREFIX}${name}`, points, duration }),
    async close() {
      events.closeAll();
      await Promise.allSettled([endRedis(sub), endRedis(redis)]);
    },
  };
}
