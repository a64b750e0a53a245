import { describe, expect, it } from 'vitest';
import express, { type RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { rateLimit } from 'express-rate-limit';
import { WindowCounter, windowLimit } from '../src/platform/rate-limit.js';

/** One request after another through a limiter; status and the rate-limit headers of each answer. */
async function trace(limiter: RequestHandler, paths: string[], headers: Record<string, string> = {}) {
  const app = express();
  app.set('trust proxy', 1);
  app.use(limiter);
  app.get('/{*rest}', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(((err, _req, res, _next) => res.status(429).json({ error: (err as Error).message })) as express.ErrorRequestHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((ok) => server.once('listening', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const out = [];
  try {
    for (const p of paths) {
      const r = await fetch(url + p, { headers });
      // t= counts seconds to the reset: equal unless the two runs straddle a second boundary.
      out.push({ status: r.status, rl: r.headers.get('ratelimit')?.replace(/t=\d+/, 't=?'), policy: r.headers.get('ratelimit-policy'), retry: r.headers.get('retry-after') !== null });
    }
  } finally {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
  return out;
}

describe('windowLimit matches express-rate-limit (MemoryStore, draft-8)', () => {
  const tooMany = () => new Error('too many');

  it('per address, with skip: same statuses and headers request by request', async () => {
    const paths = ['/a', '/skip/x', '/b', '/c', '/d', '/skip/y', '/e'];
    const skip = (req: express.Request) => req.path.startsWith('/skip/');
    const theirs = rateLimit({ windowMs: 60_000, limit: 3, standardHeaders: 'draft-8', legacyHeaders: false, skip, handler: (_q, _s, next) => next(tooMany()) });
    const ours = windowLimit({ windowMs: 60_000, limit: 3, skip, tooMany });
    const expected = await trace(theirs, paths);
    expect(await trace(ours, paths)).toEqual(expected);
    expect(expected.map((e) => e.status)).toEqual([200, 200, 200, 200, 429, 200, 429]);
    ours.counter.stop();
  });

  it('keyed by a header, forwarded IPv6 grouped by /56, two limiters stacked', async () => {
    const paths = ['/1', '/2', '/3'];
    const headers = { 'x-user': 'u1', 'x-forwarded-for': '2001:db8:abcd:12ff::1' };
    const key = (req: express.Request) => `user:${String(req.headers['x-user'])}`;
    const stack = (a: RequestHandler, b: RequestHandler): RequestHandler => (req, res, next) => a(req, res, (err?: unknown) => (err ? next(err) : b(req, res, next)));
    const theirs = stack(
      rateLimit({ windowMs: 60_000, limit: 5, standardHeaders: 'draft-8', legacyHeaders: false, handler: (_q, _s, next) => next(tooMany()) }),
      rateLimit({ windowMs: 900_000, limit: 2, standardHeaders: 'draft-8', legacyHeaders: false, keyGenerator: key, handler: (_q, _s, next) => next(tooMany()) }),
    );
    const a = windowLimit({ windowMs: 60_000, limit: 5, tooMany });
    const b = windowLimit({ windowMs: 900_000, limit: 2, key, tooMany });
    const expected = await trace(theirs, paths, headers);
    expect(await trace(stack(a, b), paths, headers)).toEqual(expected);
    expect(expected[2]).toMatchObject({ status: 429, retry: true });
    expect(expected[0].rl).toContain('"5-in-1min"');
    a.counter.stop();
    b.counter.stop();
  });

  it('counts per client in windows that start at its first hit; idle clients are dropped after two rotations', () => {
    let now = 1_000_000;
    const c = new WindowCounter(60_000, () => now);
    c.stop();
    expect(c.hit('a')).toMatchObject({ hits: 1, resetAt: 1_060_000 });
    now += 30_000;
    expect(c.hit('b')).toMatchObject({ hits: 1, resetAt: 1_090_000 });
    expect(c.hit('a').hits).toBe(2);
    now = 1_060_000;
    expect(c.hit('a')).toMatchObject({ hits: 1, resetAt: 1_120_000 });
    c.rotate();
    expect(c.hit('b').hits).toBe(2);
    c.rotate();
    c.rotate();
    expect(c.hit('b').hits).toBe(1);
  });
});
