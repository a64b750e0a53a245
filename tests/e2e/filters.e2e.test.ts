/// <reference lib="dom" />
// Callbacks passed to page.evaluate/waitForFunction run in the browser, hence the DOM types.
/**
 * Issue 18, the similarity filters in the search form, in headless Debian Chromium against the real stack
 * (backend and ml-service) on the demo store (its companies carry GICS sectors and kinds): in Japanese and
 * English, on a desktop and a 390 px phone, a user picks a sector from the form's list (fed by
 * /entities/facets), runs the search and sees only matches of that sector; the link and the recent
 * searches carry the filter, so a reload runs the same filtered search; a link with a sector no stock is
 * filed under is named in the user's language and nothing runs; the API answers such a sector with a 400
 * `unknown_filter`. The app page stays at 0 serious/critical axe findings and never scrolls sideways on
 * the phone. Screenshots: artifacts/e2e/filters-*.png.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@resemble/contracts';
import { openBrowserSession, signUpThroughForm, type BrowserSession } from '../support/browser.js';
import { seriousAxeViolations } from '../support/axe.js';

const root = resolve(import.meta.dirname, '../..');
const shots = join(root, 'artifacts', 'e2e');
const ja = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/ja.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/en.json'), 'utf8'));
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true };
const DESKTOP = { width: 1280, height: 900 };
const LOCALES = [
  { lang: 'ja', prefix: '', m: ja },
  { lang: 'en', prefix: '/en', m: en },
] as const;

let session: BrowserSession | undefined;
let page: Page;
let base = '';
let work = '';

const shot = (name: string) => page.screenshot({ path: join(shots, `filters-${name}.png`), fullPage: true });
const bodyText = () => page.evaluate(() => document.body.innerText);
const fill = (s: string, vars: Record<string, string>) =>
  Object.entries(vars).reduce((acc, [k, v]) => acc.replaceAll(`{${k}}`, v), s);

async function orDump<T>(name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    await shot(`failed-${name}`).catch(() => undefined);
    console.log(`--- ${name}: ${page.url()}\n${await bodyText().catch(() => '')}`);
    console.log(session?.consoleErrors.join('\n'));
    throw e;
  }
}

/** The app page on `query`, once its chart, a selected window and the filters' choices are there. */
async function openApp(prefix: string, query: string) {
  await page.goto(`${base}${prefix}/app?${query}`, { waitUntil: 'load' });
  await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', {
    visible: true,
    timeout: 60_000,
  });
  await page.waitForFunction(
    () => document.querySelectorAll('select[name="filter-sector"] option').length > 1,
    { timeout: 30_000 },
  );
}

/** Waits for the answer whose link carries `sector`, and returns its cards' codes. */
async function cardsAfterSearch(sector: string): Promise<string[]> {
  await page.waitForFunction(
    (s) => new URL(location.href).searchParams.get('sector') === s,
    { timeout: 120_000 },
    sector,
  );
  await page.waitForFunction(() => !document.querySelector('.run .spinner'), { timeout: 120_000 });
  await page.waitForSelector('.matches figure', { timeout: 60_000 });
  return page.$$eval('.matches figure strong', (s) => s.map((x) => x.getAttribute('title') ?? ''));
}

async function sectorOf(code: string): Promise<string | null> {
  const r = await session!.api.entities({ query: { q: code, limit: 5 } });
  return r.entities.find((e) => e.code === code)?.sector ?? null;
}

async function noSideways() {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(sw).toBeLessThanOrEqual(w);
}

describe('market, sector and kind filters in the search form (issue 18)', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'resemble-e2e-filters-'));
    const dataDir = join(work, 'data');
    // The demo store `./run.sh start` makes without a data-provider key: companies with GICS sectors and kinds.
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'scraper/src/import.cli.ts', '--demo-if-empty', '--data', dataDir],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: 'pipe' },
    );
    session = await openBrowserSession('e2e-filters', { dataDir });
    ({ page, base } = session);
  }, 600_000);

  afterAll(async () => {
    await session?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  // One account per language: each does four searches, within Free's five a day.
  for (const { lang, prefix, m } of LOCALES) {
    describe(lang, () => {
      const sectors = { desktop: 'Energy', phone: 'Information Technology' } as const;

      it(`${lang}: signs up; the filters offer the facets' markets, sectors and kinds, open to Free`, async () => {
        await page.setViewport(DESKTOP);
        await page.deleteCookie(...(await page.cookies()));
        await page.goto(`${base}${prefix}/signup`, { waitUntil: 'networkidle0' });
        await signUpThroughForm(
          { base: `${base}${prefix}`, page },
          { email: `e2e-filters-${lang}-${Date.now()}@example.com`, password: 'correct horse battery' },
          m.auth.signupButton,
        );
        await orDump(`${lang}-open`, openApp(prefix, 'code=AAPL'));
        const facets = await session!.api.facets();
        expect(facets.sectors).toEqual(expect.arrayContaining(Object.values(sectors)));
        const options = (name: string) =>
          page.$$eval(`select[name="filter-${name}"] option`, (os) =>
            os.map((o) => ({
              value: (o as HTMLOptionElement).value,
              disabled: (o as HTMLOptionElement).disabled,
            })),
          );
        for (const [name, list] of [
          ['market', facets.markets],
          ['sector', facets.sectors],
          ['kind', facets.kinds],
        ] as const) {
          const opts = await options(name);
          expect(opts.map((o) => o.value)).toEqual(['', ...list]);
          // Not a Pro feature: the pricing page does not sell filters (decision 127).
          expect(opts.every((o) => !o.disabled)).toBe(true);
        }
        expect(await page.$eval('fieldset.filters legend', (l) => l.textContent!.trim())).toBe(m.app.filters);
        const kindTexts = await page.$$eval('select[name="filter-kind"] option', (os) =>
          os.map((o) => o.textContent!.trim()),
        );
        expect(kindTexts).toEqual([m.app.any, ...facets.kinds.map((k) => m.kinds[k])]);
      });

      for (const device of ['desktop', 'phone'] as const) {
        it(`${lang}, ${device}: picking a sector shows only that sector's matches; a reload runs it again`, async () => {
          const sector = sectors[device];
          await page.setViewport(device === 'phone' ? PHONE : DESKTOP);
          await orDump(`${lang}-${device}-open`, openApp(prefix, 'code=AAPL'));
          await page.select('select[name="filter-sector"]', sector);
          await page.locator(`button.run`).click();
          const cards = await orDump(`${lang}-${device}-run`, cardsAfterSearch(sector));
          expect(cards.length).toBeGreaterThan(0);
          for (const code of cards) expect(await sectorOf(code), code).toBe(sector);
          // The answer says what it was narrowed to.
          expect(await page.$eval('[data-testid="filters-applied"]', (e) => e.textContent!.trim())).toBe(
            fill(m.results.filteredBy, { filters: sector }),
          );
          if (device === 'phone') await noSideways();
          expect(await seriousAxeViolations(page)).toEqual([]);
          await shot(`${lang}-${device}-sector`);
          // The form alone, at its real size: the full-page shot is scaled down when looked at.
          await (await page.$('form.controls'))!.screenshot({
            path: join(shots, `filters-${lang}-${device}-form.png`),
          });

          // The link carries the filter: a reload opens the same filtered search and runs it.
          const url = page.url();
          expect(new URL(url).searchParams.get('sector')).toBe(sector);
          await page.goto('about:blank');
          await page.goto(url, { waitUntil: 'load' });
          const again = await orDump(`${lang}-${device}-reload`, cardsAfterSearch(sector));
          expect(again).toEqual(cards);
          expect(
            await page.$eval('select[name="filter-sector"]', (s) => (s as HTMLSelectElement).value),
          ).toBe(sector);
          // And the recent searches name it, linking to the same filtered search.
          await page.waitForSelector('[data-testid="recent-searches"] a');
          const recent = await page.$$eval('[data-testid="recent-searches"] a', (as) =>
            as.map((a) => ({ text: a.textContent!, href: (a as HTMLAnchorElement).href })),
          );
          const mine = recent.find((r) => new URL(r.href).searchParams.get('sector') === sector);
          expect(mine?.text).toContain(sector);
          if (device === 'phone') await noSideways();
        });
      }

      it(`${lang}: a link with a sector no stock is filed under is named, and nothing runs`, async () => {
        await page.setViewport(PHONE);
        const before = (await session!.api.me()).usage.searchesToday;
        await page.goto(
          `${base}${prefix}/app?code=AAPL&start=2017-01-03&end=2017-03-31&sector=Energie&kind=bond`,
          {
            waitUntil: 'load',
          },
        );
        await page.waitForSelector('[data-testid="url-problems"] li', { timeout: 30_000 });
        const problems = await page.$$eval('[data-testid="url-problems"] li', (l) =>
          l.map((x) => x.textContent!.trim()),
        );
        expect(problems).toEqual([
          fill(m.searchUrl.errors.filter, { param: 'sector', value: 'Energie' }),
          fill(m.searchUrl.errors.oneOf, { param: 'kind', allowed: 'stock, etf, reit, fund' }),
        ]);
        await noSideways();
        await shot(`${lang}-phone-bad-link`);
        await page.setViewport(DESKTOP);
        expect(await page.$('.matches figure')).toBeNull();
        expect((await session!.api.me()).usage.searchesToday).toBe(before);
      });
    });
  }

  it('the API: a sector no stock is filed under is a 400 unknown_filter naming it and the choices', async () => {
    const err = await session!.api
      .similar({
        body: {
          query: { code: 'AAPL', start: '2017-01-03', end: '2017-03-31' },
          topK: 5,
          filters: { sector: 'Energie' },
        },
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect([e.status, e.code]).toEqual([400, 'unknown_filter']);
    expect(e.message).toContain('Energie');
    expect(e.details).toMatchObject({
      field: 'sector',
      value: 'Energie',
      allowed: expect.arrayContaining(['Energy']),
    });
  });
});
