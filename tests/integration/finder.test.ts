/**
 * Finding a stock and "as of" through backend and the real ml-service (issue 13, sections 4 and 5): a
 * store made by the real importer — the 30-ticker price fixture, the demo's S&P 500 companies list and a
 * JPX listing sample (Tokyo issues known to the master, without prices yet).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entitiesResponseSchema, similarResponseSchema } from '@resemble/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFixture, startStack, type Stack } from '../support/stack.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function importListings(dataDir: string, file: string, market?: string): void {
  const args = ['--import', 'tsx', 'scraper/src/import.cli.ts', '--listings', file, '--data', dataDir];
  execFileSync(process.execPath, market ? [...args, '--market', market] : args, {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: 'pipe',
  });
}

describe('finding a stock, and the date of the data', () => {
  let stack: Stack;
  let work: string;
  let cookie = '';
  let csrf = '';
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { cookie };
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(stack.backendUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (k === 'csrf_token') csrf = v;
      cookie = [...cookie.split('; ').filter((x) => x && !x.startsWith(`${k}=`)), `${k}=${v}`].join('; ');
    }
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const find = async (q: string, limit = 5) =>
    entitiesResponseSchema.parse(
      (await call('GET', `/api/v1/entities?q=${encodeURIComponent(q)}&limit=${limit}`)).body,
    );

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'resemble-finder-'));
    const dataDir = join(work, 'data');
    await importFixture(dataDir);
    importListings(dataDir, join(repoRoot, 'scraper/demo/sandp500-5yr/companies.csv'), 'US');
    importListings(dataDir, join(repoRoot, 'scraper/fixtures/listings/data_j_2024-12-27.sample.csv'));
    stack = await startStack({ dataDir });
    expect(
      (
        await call('POST', '/api/v1/auth/register', {
          email: 'finder@example.com',
          password: 'integration long secret',
        })
      ).status,
    ).toBe(201);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('finds by exact code, name, Japanese name across kana and width, and a typo', async () => {
    const aapl = await find('AAPL');
    expect(aapl.entities[0]).toMatchObject({
      code: 'AAPL',
      name: 'Apple Inc.',
      sector: 'Information Technology',
      match: 'exactCode',
      hasPrices: true,
    });
    expect((await find('apple')).entities[0]).toMatchObject({ code: 'AAPL', match: 'namePrefix' });
    expect((await find('Appel')).entities[0]).toMatchObject({ code: 'AAPL', match: 'typo' });
    expect((await find('とよた')).entities[0]).toMatchObject({
      code: '7203',
      nameJa: 'トヨタ自動車',
      sector: '輸送用機器',
      match: 'namePrefix',
    });
    expect((await find('ｷｵｸｼｱ')).entities[0]).toMatchObject({
      code: '285A',
      name: 'キオクシアホールディングス',
    });
    expect((await find('7203')).entities[0]).toMatchObject({ code: '7203', match: 'exactCode' });
  });

  it('says a listed issue has no prices yet, and its prices answer is empty', async () => {
    const toyota = (await find('7203')).entities[0]!;
    expect(toyota).toMatchObject({
      hasPrices: false,
      firstDate: null,
      lastDate: null,
      rows: 0,
      status: 'listed',
      kind: 'stock',
    });
    expect((await call('GET', '/api/v1/entities/7203/prices')).body).toEqual({
      code: '7203',
      timeframe: 'D',
      rows: [],
      asOf: null,
    });
  });

  it('offers the closest names for a code that does not exist', async () => {
    const r = await find('APPL');
    expect(r.entities.some((e) => e.code === 'APPL')).toBe(false);
    expect(r.entities[0]).toMatchObject({ code: 'AAPL' });
  });

  it('dates every market-data answer by its newest price', async () => {
    const prices = await call('GET', '/api/v1/entities/AAPL/prices?from=2016-01-04&to=2016-01-08');
    const aapl = (await find('AAPL')).entities[0]!;
    expect(prices.body.asOf).toBe(aapl.lastDate);
    const list = await find('a');
    expect(list.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const query = { query: { code: 'AAPL', start: '2016-01-04', end: '2016-03-01' }, topK: 3, horizon: 20 };
    const sim = similarResponseSchema.parse((await call('POST', '/api/v1/similar', query)).body);
    expect(sim.asOf).toBe(list.asOf);
    expect(sim.matches[0]!.nameEn).toEqual(expect.any(String));
    const now = similarResponseSchema.parse(
      (await call('POST', '/api/v1/similar', { ...query, mode: 'now' })).body,
    );
    expect(now.asOf).toBe(list.asOf);
  });

  it('filters matches by sector and kind', async () => {
    const query = { query: { code: 'AAPL', start: '2016-01-04', end: '2016-03-01' }, topK: 5, horizon: 20 };
    const it = similarResponseSchema.parse(
      (await call('POST', '/api/v1/similar', { ...query, filters: { sector: 'Information Technology' } }))
        .body,
    );
    expect(it.matches.length).toBeGreaterThan(0);
    for (const m of it.matches)
      expect((await find(m.code, 1)).entities[0]!.sector).toBe('Information Technology');
    const reits = await call('POST', '/api/v1/similar', { ...query, filters: { kind: 'reit' } });
    expect(reits.status).toBe(200);
    expect(reits.body.matches).toEqual([]);
    expect(reits.body.asOf).toBeNull();
    const facets = (await call('GET', '/api/v1/entities/facets')).body;
    expect(facets.sectors).toEqual(expect.arrayContaining(['Information Technology', '輸送用機器']));
    expect(facets.kinds).toEqual(expect.arrayContaining(['stock', 'etf', 'reit']));
  });
});
