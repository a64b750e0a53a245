/// <reference lib="dom" />
// Callbacks passed to page.evaluate/waitForFunction run in the browser, hence the DOM types.
/**
 * Issue 18, "results that lead somewhere", in headless Debian Chromium against the real stack (as
 * ./run.sh start runs it: development, no mail server, so the sandbox outbox is on): the outbox and the
 * "link sent" note, a search as a link (reload, a bad parameter, recent searches), a match card's own
 * chart, editing / re-running / deleting a saved pattern, and a backtest's result page — in Japanese and
 * English, on a desktop and a 390 px phone. Screenshots go to artifacts/e2e/results-*.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserSession, signUpThroughForm, type BrowserSession } from '../support/browser.js';

const root = resolve(import.meta.dirname, '../..');
const shots = join(root, 'artifacts', 'e2e');
const ja = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/ja.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/en.json'), 'utf8'));

let session: BrowserSession | undefined;
let page: Page;
let base = '';
let consoleErrors: string[] = [];
const pending = new Map<unknown, string>();
const email = `e2e-results-${Date.now()}@example.com`;
const password = 'correct horse battery';
/** A window of AAPL's daily bars with enough history after it, and the link that searches it. */
let win = { start: '', end: '' };

const shot = (name: string) => page.screenshot({ path: join(shots, `results-${name}.png`), fullPage: true });
const byText = (tag: string, text: string) =>
  page.locator(`${tag}::-p-text(${JSON.stringify(text).slice(1, -1)})`);
const waitForText = (text: string, timeout = 30_000) =>
  page.waitForFunction((t) => document.body.innerText.includes(t), { timeout }, text);
const bodyText = () => page.evaluate(() => document.body.innerText);
/** The page's own API, as the signed-in browser (the typed client; cookies and the CSRF header). */
const api = () => session!.api;
async function waitForResults() {
  await page.waitForFunction(() => !document.querySelector('.run .spinner'), { timeout: 60_000 });
  await page.waitForSelector('.matches figure svg', { timeout: 60_000 });
}
/** On a failed wait, the screen and its text are what tell why. */
async function orDump<T>(name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    await shot(`failed-${name}`).catch(() => undefined);
    console.log(
      `--- ${name}: ${page.url()}\n${await bodyText().catch(() => '')}\n${consoleErrors.join('\n')}`,
    );
    throw e;
  }
}
/** Opens a page and waits for what it must show (the screen and pending requests are dumped if not). */
async function open(url: string, selector: string, name: string) {
  await page.goto(url, { waitUntil: 'load' });
  await orDump(name, page.waitForSelector(selector, { timeout: 30_000 }));
}
async function noSideways() {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(sw).toBeLessThanOrEqual(w);
}

describe('results that lead somewhere (issue 18)', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    session = await openBrowserSession('e2e-results');
    ({ base, page, consoleErrors } = session);
    page.on('request', (r) => pending.set(r, `${Date.now()} ${r.method()} ${r.url()}`));
    page.on('requestfinished', (r) => pending.delete(r));
    page.on('requestfailed', (r) => pending.delete(r));
  }, 300_000);

  afterAll(async () => {
    await session?.close();
  });

  it('signs up; the sandbox outbox shows the verification mail', async () => {
    await signUpThroughForm({ base, page }, { email, password }, ja.auth.signupButton);
    const res = await page.goto(`${base}/dev/outbox`, { waitUntil: 'networkidle0' });
    expect(res?.status()).toBe(200);
    await waitForText(ja.outbox.title);
    const mail = await page.$eval('[data-testid="outbox-mail"]', (e) => (e as HTMLElement).innerText);
    expect(mail).toContain('Resemble: confirm your email');
    expect(mail).toContain(email);
    await shot('01-ja-outbox');
  });

  it('the "link sent" page says where the mail went in sandbox mode', async () => {
    await page.goto(`${base}/forgot`, { waitUntil: 'networkidle0' });
    await page.locator('input[name="email"]').fill(email);
    await byText('button', ja.auth.forgotButton).click();
    await waitForText(ja.auth.forgotSent);
    await page.waitForSelector('[data-testid="sandbox-mail-note"]');
    expect(await page.$eval('[data-testid="sandbox-mail-note"]', (e) => e.textContent)).toContain(
      ja.outbox.sentNote,
    );
    await shot('02-ja-forgot-sandbox');
    await page.click('[data-testid="sandbox-mail-note"] a');
    await page.waitForFunction(() => location.pathname === '/dev/outbox');
    await waitForText('Resemble: reset your password');
    // The reset link in the outbox works: it opens the reset page.
    const link = await page.$eval(
      '[data-testid="outbox-mail"] .link a',
      (a) => (a as HTMLAnchorElement).href,
    );
    expect(new URL(link).pathname).toBe('/reset-password');
  });

  it('becomes Pro (sandbox checkout) and picks a window with history after it', async () => {
    await page.goto(`${base}/app`, { waitUntil: 'load' });
    const co = await api().checkout({ body: { plan: 'pro', provider: 'sandbox' } });
    const checkout = new URL(co.redirectUrl, base).searchParams.get('session')!;
    expect((await api().sandboxComplete({ body: { session: checkout, outcome: 'success' } })).plan).toBe(
      'pro',
    );
    const { rows } = await api().prices({ params: { code: 'AAPL' } });
    win = { start: rows[rows.length - 260]!.date, end: rows[rows.length - 200]!.date };
  });

  it('a search is a link: opening it runs the search; a reload runs it again', async () => {
    const link = `${base}/app?code=AAPL&start=${win.start}&end=${win.end}&topK=10&horizon=10`;
    await page.goto(link, { waitUntil: 'load' });
    await waitForResults();
    expect((await page.$$('.matches figure')).length).toBe(10);
    expect(await page.$eval('select[name="horizon"]', (s) => (s as HTMLSelectElement).value)).toBe('10');
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      code: 'AAPL',
      start: win.start,
      end: win.end,
      topK: '10',
      horizon: '10',
    });
    await shot('03-ja-search-link');
    await page.reload({ waitUntil: 'load' });
    await waitForResults();
    expect((await page.$$('.matches figure')).length).toBe(10);
    // Changing an option and searching writes it into the URL.
    await page.select('select[name="metric"]', 'dtw');
    await byText('button', ja.app.run).click();
    await waitForResults();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('metric') === 'dtw');
  });

  it('a bad parameter in the link says what is wrong and runs nothing', async () => {
    await page.goto(`${base}/app?code=AAPL&start=${win.start}&end=${win.end}&tf=Y&topK=lots`, {
      waitUntil: 'load',
    });
    await page.waitForSelector('[data-testid="url-problems"]');
    const text = await page.$eval('[data-testid="url-problems"]', (e) => (e as HTMLElement).innerText);
    expect(text).toContain(ja.searchUrl.badLink);
    expect(text).toContain(
      ja.searchUrl.errors.oneOf.replace('{param}', 'tf').replace('{allowed}', 'D, W, M'),
    );
    expect(text).toContain(ja.searchUrl.errors.int.replace('{param}', 'topK'));
    expect(await page.$('.matches figure')).toBeNull();
    await shot('04-ja-bad-link');
  });

  it('recent searches: listed on the app page, newest first, and clickable', async () => {
    await open(`${base}/app`, '[data-testid="recent-searches"] a', 'recent');
    const items = await page.$$eval('[data-testid="recent-searches"] a', (as) =>
      as.map((a) => (a as HTMLAnchorElement).href),
    );
    // The DTW search and the first one (the reload was the same search: one entry).
    expect(items).toHaveLength(2);
    expect(new URL(items[0]!).searchParams.get('metric')).toBe('dtw');
    await shot('05-ja-recent');
    await page.click('[data-testid="recent-searches"] li:nth-child(2) a');
    await waitForResults();
    expect(new URL(page.url()).searchParams.get('start')).toBe(win.start);
    expect((await page.$$('.matches figure')).length).toBe(10);
  });

  it("a match card opens that stock's chart with the match highlighted and what followed shaded", async () => {
    const href = await page.$eval('[data-testid="match-open"]', (a) => (a as HTMLAnchorElement).href);
    await page.click('[data-testid="match-open"]');
    await page.waitForFunction(() => location.pathname.startsWith('/app/chart/'), { timeout: 30_000 });
    expect(new URL(href).searchParams.get('h')).toBe('10');
    await page.waitForSelector('.host canvas', { visible: true, timeout: 30_000 });
    await page.waitForSelector('.band:not(.shade)', { visible: true });
    await page.waitForSelector('[data-testid="chart-shade"]', { visible: true });
    const [sel, shade] = await page.$$eval('.band', (bs) =>
      bs.map((b) => b.getBoundingClientRect().toJSON()),
    );
    // The shaded horizon starts where the highlighted match ends.
    expect(shade!.left).toBeGreaterThanOrEqual(sel!.right - 2);
    const legend = await page.$eval('[data-testid="match-legend"]', (e) => (e as HTMLElement).innerText);
    expect(legend).toContain(ja.matchChart.matched);
    expect(legend).toContain(ja.matchChart.after.replace('{n}', '10'));
    await shot('06-ja-match-chart');
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('[data-testid="chart-shade"]', { visible: true, timeout: 30_000 });
    await noSideways();
    await shot('07-ja-match-chart-phone');
    await page.setViewport({ width: 1280, height: 900 });
  });

  it('saved patterns: rename, change the alert distance, re-run, delete after a confirmation', async () => {
    await page.goto(`${base}/app?code=AAPL&start=${win.start}&end=${win.end}&topK=10&horizon=10`, {
      waitUntil: 'load',
    });
    await waitForResults();
    await byText('button', ja.app.savePattern).click();
    await waitForText(ja.app.patternSaved);
    await open(`${base}/app/patterns`, 'table.data tbody tr', 'patterns');
    await byText('button', ja.patterns.edit).click();
    await page.locator('input[name="pattern-name"]').fill('ブレイク前');
    await page.locator('input[name="pattern-threshold"]').fill('4.25');
    await byText('button', ja.patterns.save).click();
    await waitForText(ja.patterns.saved2);
    await page.waitForFunction(() =>
      document.querySelector('table.data tbody tr')?.textContent?.includes('ブレイク前'),
    );
    const row = await page.$eval('table.data tbody tr', (e) => (e as HTMLElement).innerText);
    expect(row).toContain('ブレイク前');
    expect(row).toContain('4.25');
    expect((await api().listPatterns()).patterns[0]).toMatchObject({ name: 'ブレイク前', threshold: 4.25 });
    await shot('08-ja-pattern-edited');
    // Re-run: the pattern's own search link.
    await byText('a', ja.patterns.rerun).click();
    await waitForResults();
    expect(new URL(page.url()).searchParams.get('start')).toBe(win.start);
    await open(`${base}/app/patterns`, 'table.data tbody tr', 'patterns-again');
    await byText('button', ja.common.delete).click();
    await waitForText(ja.patterns.confirmDelete.replace('{name}', 'ブレイク前'));
    await shot('09-ja-pattern-confirm-delete');
    // Cancel keeps it; confirming deletes it.
    await byText('button', ja.patterns.cancel).click();
    expect((await api().listPatterns()).patterns).toHaveLength(1);
    await byText('button', ja.common.delete).click();
    await byText('button', ja.patterns.confirmYes).click();
    await waitForText(ja.patterns.empty);
    expect((await api().listPatterns()).patterns).toHaveLength(0);
  });

  it("a backtest job's result opens a page: hit rate and Brier score beside the base rate, a chart, the settings", async () => {
    await page.goto(`${base}/app/jobs`, { waitUntil: 'load' });
    await byText('button', ja.jobs.start).click();
    await page.waitForSelector('[data-testid="job-open"]', { timeout: 120_000 });
    await page.click('[data-testid="job-open"]');
    await page.waitForFunction(() => location.pathname.startsWith('/app/backtest/'), { timeout: 30_000 });
    await page.waitForSelector('[data-testid="backtest-scores"]', { timeout: 30_000 });
    const scores = await page.$eval('[data-testid="backtest-scores"]', (e) => (e as HTMLElement).innerText);
    for (const k of ['hitRate', 'brier', 'forecast', 'baseline']) expect(scores).toContain(ja.backtest[k]);
    expect(scores).toMatch(/0\.\d{3}/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const job = (await api().job({ params: { id } })) as {
      result: { samples: unknown[]; asOf?: string | null };
      params: { windowLength: number };
    };
    // Dated by the stock's newest price, in the reader's words (issue 13).
    expect(job.result.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const [y, m, d] = job.result.asOf!.split('-').map(Number);
    expect(await page.$eval('[data-testid="backtest-as-of"]', (e) => e.textContent?.trim())).toBe(
      `データ: ${y}年${m}月${d}日時点`,
    );
    expect(await bodyText()).toContain(ja.backtest.baseRate.split('{p}')[0]);
    expect((await page.$$('svg[viewBox="0 0 720 220"] rect')).length).toBe(job.result.samples.length);
    const settings = await page.$eval(
      '[data-testid="backtest-settings"]',
      (e) => (e as HTMLElement).innerText,
    );
    expect(settings).toContain('AAPL');
    expect(settings).toContain(String(job.params.windowLength));
    await shot('10-ja-backtest-result');
    // English, and on a phone.
    await page.goto(`${base}/en/app/backtest/${id}`, { waitUntil: 'load' });
    await page.waitForSelector('[data-testid="backtest-scores"]', { timeout: 30_000 });
    // textContent: innerText follows the table headers' CSS upper-casing.
    expect(await page.$eval('main', (e) => e.textContent)).toContain(en.backtest.brier);
    await shot('11-en-backtest-result');
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('[data-testid="backtest-scores"]', { timeout: 30_000 });
    await noSideways();
    await shot('12-en-backtest-phone');
    await page.setViewport({ width: 1280, height: 900 });
  }, 300_000);

  it('in English: the search link, the match chart and the outbox', async () => {
    await page.goto(`${base}/en/app?code=AAPL&start=${win.start}&end=${win.end}&topK=10&horizon=10`, {
      waitUntil: 'load',
    });
    await orDump('en-search', waitForResults());
    await page.waitForSelector('[data-testid="recent-searches"]');
    expect(await bodyText()).toContain(en.searchUrl.recentTitle);
    await page.click('[data-testid="match-open"]');
    await page.waitForFunction(() => location.pathname.startsWith('/en/app/chart/'), { timeout: 30_000 });
    await page.waitForSelector('[data-testid="chart-shade"]', { visible: true, timeout: 30_000 });
    expect(await bodyText()).toContain(en.matchChart.matched);
    await shot('13-en-match-chart');
    await page.goto(`${base}/en/app?code=AAPL&start=${win.end}&end=${win.start}`, {
      waitUntil: 'load',
    });
    await page.waitForSelector('[data-testid="url-problems"]');
    expect(await bodyText()).toContain(en.searchUrl.errors.order.replace('{param}', 'end'));
    await page.goto(`${base}/en/dev/outbox`, { waitUntil: 'networkidle0' });
    await waitForText(en.outbox.lead);
    await shot('14-en-outbox');
  });

  it('raised no browser errors', () => {
    // ERR_NETWORK_CHANGED: Chromium noticed the shared machine's network interfaces change (other
    // services' containers), which aborts open streams; it is not a page error.
    expect(consoleErrors.filter((e) => !/status of 4(01|29)|net::ERR_NETWORK_CHANGED/.test(e))).toEqual([]);
  });
});
