/**
 * The answers of repeated /v1/similar requests: the same request on the same data is answered from the
 * cache with the same text; another request, or the same one after a data reload, is searched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema, similarResponseSchema } from '@resemble/contracts';
import { ResultCache } from '../src/search/result-cache.js';
import { market, start, type Running } from './support/http-service.js';
import { writeStore, type FixtureEntity } from './support/write-store.js';

describe('the result cache of /v1/similar', () => {
  let dir: string;
  let fx: FixtureEntity[];
  let svc: Running;
  const post = (body: unknown) =>
    fetch(`${svc.url}/v1/similar`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ml-cache-'));
    fx = market(11, 8, 600);
    writeStore(dir, fx, 'v1');
    svc = await start(dir, { resultCacheBytes: 8 * 2 ** 20 });
  });
  afterAll(async () => {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a repeat of the same request from the cache, with the same text', async () => {
    const query = { code: 'S003', start: fx[3]!.dates[100], end: fx[3]!.dates[159] };
    const first = await post({ query, topK: 7 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await first.text();
    expect(similarResponseSchema.parse(JSON.parse(text)).matches).toHaveLength(7);

    const again = await post({ query, topK: 7 });
    expect(again.headers.get('x-cache')).toBe('hit');
    expect(await again.text()).toBe(text);
    // The key is the parsed request: other key order and spelled-out defaults are the same request.
    const same = await post({
      horizon: 20,
      topK: 7,
      query: { end: query.end, start: query.start, code: 'S003' },
    });
    expect(same.headers.get('x-cache')).toBe('hit');
    expect(await same.text()).toBe(text);

    const other = await post({ query, topK: 6 });
    expect(other.headers.get('x-cache')).toBe('miss');
    expect(similarResponseSchema.parse(await other.json()).matches).toHaveLength(6);

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain('ml_similar_result_cache_total{outcome="hit"} 2');
    expect(metrics).toContain('ml_similar_result_cache_total{outcome="miss"} 2');
  });

  it('searches again after a data reload (the key holds the data version)', async () => {
    const query = { code: 'S001', start: fx[1]!.dates[10], end: fx[1]!.dates[49] };
    const before = await post({ query });
    expect(similarResponseSchema.parse(await before.json()).dataVersion).toBe('v1');
    expect((await post({ query })).headers.get('x-cache')).toBe('hit');

    fx = market(12, 8, 600); // new closes on the same dates
    writeStore(dir, fx, 'v2');
    await svc.state.checkVersion();
    const after = await post({ query });
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(similarResponseSchema.parse(await after.json()).dataVersion).toBe('v2');
  });

  it('answers bad input 400 and keeps nothing for it', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await post({ query: { code: 'S001' }, topK: 0 });
      expect(res.status).toBe(400);
      expect(res.headers.get('x-cache')).toBeNull();
      expect(errorBodySchema.parse(await res.json()).error.code).toBe('invalid_request');
    }
  });
});

describe('ResultCache', () => {
  it('keeps answers within its bytes, dropping the least recently used first', () => {
    const cache = new ResultCache(100);
    const answer = (c: string) => c.repeat(30);
    cache.set('a', answer('a')); // 31 bytes with its key
    cache.set('b', answer('b'));
    cache.set('c', answer('c'));
    expect(cache.bytes).toBe(93);
    expect(cache.get('a')).toBe(answer('a')); // a is now the most recently used
    cache.set('d', answer('d')); // 124 > 100: b goes
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([answer('a'), answer('c'), answer('d')]);
    expect(cache.bytes).toBe(93);
  });

  it('does not keep an answer larger than the whole cache', () => {
    const cache = new ResultCache(100);
    cache.set('big', 'x'.repeat(200));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('keys a request by data version and request', () => {
    expect(ResultCache.key('v1', { a: 1 })).not.toBe(ResultCache.key('v2', { a: 1 }));
    expect(ResultCache.key('v1', { a: 1 })).not.toBe(ResultCache.key('v1', { a: 2 }));
    expect(ResultCache.key('v1', { a: 1 })).toBe(ResultCache.key('v1', { a: 1 }));
  });
});
