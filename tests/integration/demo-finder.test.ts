/**
 * The bundled demo as a visitor meets it (issue 13, section 6): the store `./run.sh start` makes without a
 * data-provider key (`import --demo-if-empty`), served by the real ml-service behind backend. A Japanese
 * visitor types トヨタ (or とよた) and finds Toyota's listing with its Japanese name; "apple" finds Apple
 * with its GICS sector; every answer is dated by the demo's newest price, not by today.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entitiesResponseSchema } from '@resemble/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the demo: names and sectors a visitor can search', () => {
  let stack: Stack;
  let work: string;
  let cookie = '';
  const find = async (q: string) => {
    const res = await fetch(`${stack.backendUrl}/api/v1/entities?q=${encodeURIComponent(q)}&limit=5`, {
      headers: { cookie },
    });
    expect(res.status).toBe(200);
    return entitiesResponseSchema.parse(await res.json());
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'resemble-demo-finder-'));
    const dataDir = join(work, 'data');
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'scraper/src/import.cli.ts', '--demo-if-empty', '--data', dataDir],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: 'pipe' },
    );
    stack = await startStack({ dataDir });
    const res = await fetch(`${stack.backendUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'demo-finder@example.com', password: 'integration long secret' }),
    });
    expect(res.status).toBe(201);
    cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
  }, 600_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('finds Toyota by its Japanese name, in katakana and in hiragana, with prices up to the demo end', async () => {
    for (const q of ['トヨタ', 'とよた']) {
      const r = await find(q);
      expect(r.entities[0]).toMatchObject({
        code: 'TM',
        nameJa: 'トヨタ自動車',
        nameEn: 'Toyota Motor Corp (ADR)',
        kind: 'stock',
        hasPrices: true,
        match: 'namePrefix',
      });
      expect(r.entities[0]!.lastDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('finds Apple by name with its sector, and dates the answer by the demo data, not today', async () => {
    const r = await find('apple');
    expect(r.entities[0]).toMatchObject({
      code: 'AAPL',
      name: 'Apple Inc.',
      sector: 'Information Technology',
      market: 'US',
      firstDate: '2013-02-08',
      lastDate: '2018-02-07',
    });
    // The S&P 500 demo ends 2018-02-07; the Japan-related listings may reach later, never today.
    expect(r.asOf! >= '2018-02-07').toBe(true);
    expect(r.asOf! < new Date().toISOString().slice(0, 10)).toBe(true);
  });
});
