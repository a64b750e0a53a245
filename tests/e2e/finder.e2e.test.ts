/// <reference lib="dom" />
// Callbacks passed to page.evaluate/waitForFunction run in the browser, hence the DOM types.
/**
 * Finding a stock in the demo, in headless Debian Chromium against the real stack (issue 13, sections 4
 * and 6): the store `./run.sh start` makes without a data-provider key (`import --demo-if-empty`), plus a
 * JPX listing sample (issues without prices yet). A Japanese visitor types トヨタ; the list shows names
 * and sectors, and says when an issue has no prices yet; the chart names the company; a search
 * filtered by sector shows match cards with names, every one of that sector; a kind filter likewise.
 * Screenshots in artifacts/e2e/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer';
import { launchChromium } from '../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const shots = join(root, 'artifacts', 'e2e');
const ja = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/ja.json'), 'utf8'));

let browser: Browser;
let page: Page;
let base = '';
let stop: (() => Promise<void>) | undefined;
let work = '';
let profileDir = '';

async function shot(name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Drag across the middle of the chart, as a person selecting a stretch would. */
async function dragOnChart(fromFrac: number, toFrac: number) {
  const host = await page.waitForSelector('.host canvas', { visible: true });
  const box = (await (await host!.evaluateHandle((c) => c.closest('.host')!)).asElement()!.boundingBox())!;
  const y = box.y + box.height * 0.45;
  await page.mouse.move(box.x + box.width * fromFrac, y);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++)
    await page.mouse.move(box.x + box.width * (fromFrac + ((toFrac - fromFrac) * i) / 8), y);
  await page.mouse.up();
}

/** Runs the search with the filters set and returns each match card's code and shown name. */
async function searchWith(
  filter: { name: string; value: string },
  before: readonly string[] = [],
): Promise<{ code: string; name: string }[]> {
  for (const f of ['sector', 'kind', 'market']) await page.select(`select[name="filter-${f}"]`, '');
  await page.select(`select[name="filter-${filter.name}"]`, filter.value);
  await page.locator(`button::-p-text(${ja.app.run})`).click();
  await page.waitForFunction(() => !document.querySelector('.run .spinner'), { timeout: 120_000 });
  // The new answer, not the cards of the previous search still on screen (the two filters share no stock).
  await page.waitForFunction(
    (prev) => {
      const first = document.querySelector('.matches figure strong')?.getAttribute('title');
      return !!first && !prev.includes(first);
    },
    { timeout: 60_000 },
    [...before],
  );
  return page.$$eval('.matches figure', (cards) =>
    cards.map((c) => {
      const strong = c.querySelector('strong')!;
      const name = strong.querySelector('.name')?.textContent?.trim() ?? '';
      return { code: strong.getAttribute('title') ?? '', name };
    }),
  );
}

/** The entity summary of one code, through the app's own API (the browser's session). */
async function summary(code: string): Promise<{ code: string; sector: string | null; kind: string }> {
  return page.evaluate(async (c) => {
    const r = await fetch(`/api/v1/entities?q=${encodeURIComponent(c)}&limit=1`);
    return (await r.json()).entities[0];
  }, code);
}

describe('finding a stock in the demo, end to end', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'resemble-finder-e2e-'));
    const dataDir = join(work, 'data');
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'scraper/src/import.cli.ts', '--demo-if-empty', '--data', dataDir],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: 'pipe' },
    );
    // And a JPX listing: Tokyo issues known to the master, without prices yet.
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scraper/src/import.cli.ts',
        '--listings',
        'scraper/fixtures/listings/data_j_2024-12-27.sample.csv',
        '--data',
        dataDir,
      ],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: 'pipe' },
    );
    const { startStack } = await import('../support/stack.js');
    const stack = await startStack({ withFrontend: true, dataDir });
    base = stack.frontendUrl!;
    stop = stack.stop;
    profileDir = mkdtempSync(join(tmpdir(), 'resemble-finder-e2e-chrome-'));
    browser = await launchChromium(profileDir);
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${base}/signup`, { waitUntil: 'networkidle0' });
    for (const [name, value] of Object.entries({
      email: `finder-${Date.now()}@example.com`,
      password: 'correct horse battery',
      confirm: 'correct horse battery',
    }))
      await page.locator(`input[name="${name}"]`).fill(value);
    await page.locator('input[name="terms"]').click();
    await page.locator(`button::-p-text(${ja.auth.signupButton})`).click();
    await page.waitForFunction(() => location.pathname === '/app', { timeout: 30_000 });
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await stop?.();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('トヨタ in the search box lists Toyota with its Japanese name and sector, and the chart names it', async () => {
    await page.locator('input[role="combobox"]').fill('トヨタ');
    await page.waitForFunction(
      () => document.querySelector('[role="option"][aria-selected="true"] strong')?.textContent === 'TM',
      { timeout: 30_000 },
    );
    const option = await page.$eval('[role="option"][aria-selected="true"]', (o) => ({
      name: o.querySelector('.name')?.textContent ?? '',
      meta: o.querySelector('.meta')?.textContent ?? '',
    }));
    expect(option.name).toContain('トヨタ自動車');
    expect(option.name).toContain('Toyota Motor Corp (ADR)');
    expect(option.meta).toContain('Consumer Discretionary');
    await shot('finder-01-ja-toyota');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.entity .code')?.textContent === 'TM');
    await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', { visible: true });
    expect(await page.$eval('.entity', (e) => e.textContent)).toContain('トヨタ自動車');
  });

  it('half-width ｷｵｸｼｱ finds キオクシア, listed without prices yet, and the list says so', async () => {
    await page.locator('input[role="combobox"]').fill('ｷｵｸｼｱ');
    await page.waitForFunction(
      () => document.querySelector('[role="option"][aria-selected="true"] strong')?.textContent === '285A',
      { timeout: 30_000 },
    );
    const option = await page.$eval('[role="option"][aria-selected="true"]', (o) => o.textContent ?? '');
    expect(option).toContain('キオクシアホールディングス');
    expect(option).toContain('電気機器');
    expect(option).toContain(ja.app.noPricesShort);
    await page.keyboard.press('Escape');
  });

  it('a sector filter: match cards name each company, every one of that sector', async () => {
    await page.locator('input[role="combobox"]').fill('apple');
    await page.waitForFunction(
      () => document.querySelector('[role="option"][aria-selected="true"] strong')?.textContent === 'AAPL',
      { timeout: 30_000 },
    );
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.entity .code')?.textContent === 'AAPL');
    await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', { visible: true });
    await dragOnChart(0.45, 0.7);
    const cards = await searchWith({ name: 'sector', value: 'Energy' });
    expect(cards.length).toBeGreaterThan(0);
    for (const c of cards) {
      expect(c.name).not.toBe('');
      expect((await summary(c.code)).sector).toBe('Energy');
    }
    await shot('finder-02-ja-sector-filter');
  });

  it('a kind filter: only ETFs among the matches', async () => {
    const energy = await page.$$eval('.matches figure strong', (e) => e.map((x) => x.getAttribute('title')!));
    const cards = await searchWith({ name: 'kind', value: 'etf' }, energy);
    expect(cards.length).toBeGreaterThan(0);
    for (const c of cards) expect((await summary(c.code)).kind).toBe('etf');
  });
});
