/**
 * Fixed-window request limits for the two that every search passes (per address, per user). They count,
 * answer and set headers as express-rate-limit 8 does with its MemoryStore and standardHeaders 'draft-8'
 * (test/rate-limit-compat.test.ts runs both side by side), but synchronously: express-rate-limit awaits
 * about eight times per request, re-hashes the key for the policy header on every request and runs its
 * debug and validation hooks, which together cost about a fifth of backend's CPU per proxied search.
 * The login limits stay on express-rate-limit (rare requests, and they need skipSuccessfulRequests).
 */
import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import { ipKeyGenerator } from 'express-rate-limit';

interface Client {
  hits: number;
  resetAt: number;
  /** The draft-8 partition key, a hash of the key: computed once per client, not per request. */
  pk: string;
}

/**
 * MemoryStore's algorithm: a client's window starts at its first hit; clients not seen for a whole
 * window are dropped in bulk when `current` becomes `previous` and the old `previous` goes.
 */
export class WindowCounter {
  private previous = new Map<string, Client>();
  private current = new Map<string, Client>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.rotate(), windowMs);
    this.timer.unref();
  }

  hit(key: string): Client {
    let client = this.current.get(key);
    if (!client) {
      client = this.previous.get(key);
      if (client) this.previous.delete(key);
      else client = { hits: 0, resetAt: this.now() + this.windowMs, pk: partitionKey(key) };
      this.current.set(key, client);
    }
    const now = this.now();
    if (client.resetAt <= now) {
      client.hits = 0;
      client.resetAt = now + this.windowMs;
    }
    client.hits++;
    return client;
  }

  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** As express-rate-limit's getPartitionKey: base64 of the first 12 hex digits of sha256(key). */
function partitionKey(key: string): string {
  return Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
}

/** As express-rate-limit's default identifier: "<limit>-in-<duration>". */
function policyName(limit: number, windowMs: number): string {
  const seconds = windowMs / 1e3;
  const minutes = windowMs / 6e4;
  const hours = windowMs / 3.6e6;
  const days = windowMs / 8.64e7;
  const duration = seconds < 60 ? `${seconds}sec` : minutes < 60 ? `${minutes}min` : hours < 24 ? `${hours}hr${hours > 1 ? 's' : ''}` : `${days}day${days > 1 ? 's' : ''}`;
  return `${limit}-in-${duration}`;
}

/** What Express's res.append does for a string value, without its res.get/res.set indirections. */
function append(res: ServerResponse, name: string, value: string): void {
  const prev = res.getHeader(name);
  res.setHeader(name, prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value]);
}

export interface WindowLimitOptions {
  windowMs: number;
  limit: number;
  /** Default: the caller's address, IPv6 grouped by /56 (express-rate-limit's default key). */
  key?: (req: Request) => string;
  skip?: (req: Request) => boolean;
  /** The error passed to next() once the limit is exceeded. */
  tooMany: () => Error;
  now?: () => number;
}

export function windowLimit(o: WindowLimitOptions): RequestHandler & { counter: WindowCounter } {
  const now = o.now ?? Date.now;
  const counter = new WindowCounter(o.windowMs, now);
  const key = o.key ?? ((req: Request) => ipKeyGenerator(req.ip!, 56));
  const name = policyName(o.limit, o.windowMs);
  const policy = `"${name}"; q=${o.limit}; w=${Math.ceil(o.windowMs / 1e3)}; pk=:`;
  const handler: RequestHandler = (req, res, next) => {
    if (o.skip?.(req)) return next();
    const client = counter.hit(key(req));
    const resetSeconds = Math.max(0, Math.ceil((client.resetAt - now()) / 1e3));
    if (!res.headersSent) {
      append(res, 'RateLimit', `"${name}"; r=${Math.max(o.limit - client.hits, 0)}; t=${resetSeconds}`);
      append(res, 'RateLimit-Policy', `${policy}${client.pk}:`);
    }
    if (client.hits > o.limit) {
      if (!res.headersSent) res.setHeader('Retry-After', String(resetSeconds));
      return next(o.tooMany());
    }
    next();
  };
  return Object.assign(handler, { counter });
}
