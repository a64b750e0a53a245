/// <reference lib="dom" />
// Callbacks passed to page.evaluate/waitForFunction run in the browser, hence the DOM types.
/**
 * The subscriber's whole journey in headless Debian Chromium against the real stack (ml-service,
 * backend, built frontend on loopback): sign up, search a demo stock, drag-select, read matches and
 * the fan chart, hit the free quota, upgrade through the sandbox, search again, log out — in
 * Japanese — then the key pages in English, an API token used and revoked, and account deletion.
 * Every step leaves a screenshot in artifacts/e2e/.
 * E2E_FRONTEND_URL runs the same flow against an already running stack instead.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { HTTPRequest, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '@resemble/contracts';
import { openBrowserSession, signUpThroughForm, type BrowserSession } from '../support/browser.js';

const root = resolve(import.meta.dirname, '../..');
const shots = join(root, 'artifacts', 'e2e');
const ja = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/ja.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/en.json'), 'utf8'));

let session: BrowserSession | undefined;
let page: Page;
let base = '';
let appDb: string | undefined;
let dataDir: string | undefined;
let consoleErrors: string[] = [];
const email = `e2e-${Date.now()}@example.com`;
const password = 'correct horse battery';

async function shot(name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

const byText = (tag: string, text: string) =>
  page.locator(`${tag}::-p-text(${JSON.stringify(text).slice(1, -1)})`);

async function waitForText(text: string, timeout = 30_000) {
  await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout }, text);
}

async function fillForm(fields: Record<string, string>) {
  for (const [name, value] of Object.entries(fields)) {
    await page.locator(`input[name="${name}"]`).fill(value);
  }
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

async function runSearch(t: typeof ja) {
  await byText('button', t.app.run).click();
  await page.waitForFunction(() => !document.querySelector('.run .spinner'), { timeout: 60_000 });
}

describe('frontend end to end', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    session = await openBrowserSession('e2e');
    ({ base, page, consoleErrors } = session);
    if (session.stack) {
      appDb = join(dirname(session.stack.dataDir), 'app.sqlite');
      dataDir = session.stack.dataDir;
    }
  }, 300_000);

  afterAll(async () => {
    await session?.close();
  });

  it('lands in Japanese with a plain not-investment-advice statement', async () => {
    const res = await page.goto(`${base}/`, { waitUntil: 'networkidle0' });
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("object-src 'none'");
    expect(await page.$eval('html', (h) => h.lang)).toBe('ja-JP');
    await waitForText(ja.legal.notAdviceTitle);
    await shot('01-ja-landing');
  });

  it('signs up and lands on a real demo chart', async () => {
    await page.goto(`${base}/signup`, { waitUntil: 'networkidle0' });
    await byText('button', ja.auth.signupButton).click();
    await waitForText(ja.form.errors.required);
    await shot('02-ja-signup-validation');
    await signUpThroughForm({ base, page }, { email, password }, ja.auth.signupButton);
    await page.waitForSelector('.host canvas', { visible: true, timeout: 30_000 });
    // No unnamed library-logo link inside the chart (a stray tab stop); the licence credit is in the footer.
    expect(await page.$('.host a')).toBeNull();
    expect(await page.$('footer a[href="https://www.tradingview.com/"]')).not.toBeNull();
    await shot('03-ja-app-chart');
  });

  it('searches a demo stock with the autocomplete', async () => {
    // For "M" the list shows MA first; typing "SF" and Enter before the debounce fires must pick from the
    // results for "MSF", not from the list still on screen.
    await page.locator('input[role="combobox"]').fill('M');
    await page.waitForFunction(
      () => document.querySelector('[role="option"][aria-selected="true"] strong')?.textContent === 'MA',
    );
    // Hold MSFT's prices (a stock not loaded yet, so no cache answers): meanwhile the window controls and
    // Run, which still describe the previous stock's rows, are off.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const hold = (req: HTTPRequest) => {
      if (req.isInterceptResolutionHandled()) return;
      if (req.url().includes('/entities/MSFT/prices')) void held.then(() => req.continue());
      else void req.continue();
    };
    await page.setRequestInterception(true);
    page.on('request', hold);
    try {
      await page.keyboard.type('SF');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.chart-card[aria-busy="true"]');
      expect(await page.$eval('.entity .code', (e) => e.textContent)).toBe('MSFT');
      expect(await page.$eval('fieldset.presets', (f) => (f as HTMLFieldSetElement).disabled)).toBe(true);
      expect(await page.$eval('input.len', (i) => (i as HTMLInputElement).matches(':disabled'))).toBe(true);
      expect(await page.$eval('button.run', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    } finally {
      release();
      page.off('request', hold);
      await page.setRequestInterception(false);
    }
    await waitForText('MSFT');
    await page.waitForSelector('.host canvas', { visible: true });
    expect(await page.$eval('.entity .code', (e) => e.textContent)).toBe('MSFT');
    await page.locator('input[role="combobox"]').fill('AAPL');
    await page.waitForSelector('[role="option"]', { visible: true });
    await shot('04-ja-autocomplete');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.entity .code')?.textContent === 'AAPL');
    // The new stock's prices land after its name and reset the selection to the preset: type only after.
    await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', { visible: true });
    // Keyboard alternative to dragging: type a length (and keep the end date).
    await page.locator('input.len').fill('40');
    await page.keyboard.press('Tab');
    await waitForText(ja.timeframe.bars.D.replace('{n}', '40'));
  });

  it('drag-selects a window and shows matches and the fan chart', async () => {
    const before = await page.$eval('.sel', (e) => e.textContent);
    await dragOnChart(0.45, 0.7);
    const after = await page.$eval('.sel', (e) => e.textContent);
    expect(after).not.toBe(before);
    expect(after).toContain(ja.app.selected);
    // The highlighted band covers the dragged stretch (a quarter of the chart), not a sliver.
    const bandWidth = await page.$eval('.band', (e) => e.getBoundingClientRect().width);
    const chartWidth = await page.$eval('.host', (e) => e.getBoundingClientRect().width);
    expect(bandWidth / chartWidth).toBeGreaterThan(0.15);
    expect(bandWidth / chartWidth).toBeLessThan(0.35);
    // Free plan: DTW and brain.js are visible but disabled with a Pro hint.
    expect(
      await page.$eval('select[name="metric"] option[value="dtw"]', (o) => (o as HTMLOptionElement).disabled),
    ).toBe(true);
    expect(
      await page.$eval(
        'select[name="model"] option[value="brainjs"]',
        (o) => (o as HTMLOptionElement).disabled,
      ),
    ).toBe(true);
    await shot('05-ja-drag-selected');
    await runSearch(ja);
    await page.waitForSelector('.matches figure svg', { timeout: 60_000 });
    await page.waitForSelector('.fan svg path');
    expect((await page.$$('.matches figure')).length).toBeGreaterThan(0);
    expect(await page.$eval('.summary', (e) => e.textContent)).toContain(ja.results.baseRate);
    // The chart and the results name the date of their newest price (the demo ends 2018-02-07).
    expect(await page.$eval('[data-testid="chart-as-of"]', (e) => e.textContent)).toMatch(
      /^データ: \d{4}年\d{1,2}月\d{1,2}日時点$/,
    );
    expect(await page.$eval('[data-testid="results-as-of"]', (e) => e.textContent)).toMatch(
      /^データ: \d{4}年\d{1,2}月\d{1,2}日時点$/,
    );
    await shot('06-ja-results');
  });

  it('switches to weekly bars: weekly candles, a drag in weeks, a search and its forecast in weeks', async () => {
    const title = (tf: string) => ja.timeframe.chartTitle.replace('{code}', 'AAPL').replace('{tf}', tf);
    await byText('button', ja.timeframe.W).click();
    await waitForText(title(ja.timeframe.W));
    await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', { visible: true });
    // Presets and the look-ahead are in weeks now, and the results of daily bars are gone.
    await byText('button', ja.timeframe.span.W.replace('{n}', '52')).wait();
    expect(await page.$('.matches figure')).toBeNull();
    await dragOnChart(0.5, 0.75);
    const sel = await page.$eval('.sel', (e) => e.textContent ?? '');
    const weeks = Number(/(\d+)週（週足）/.exec(sel)?.[1]);
    // A quarter of ~260 weekly candles (5 years of AAPL), not a quarter of ~1,260 days.
    expect(weeks).toBeGreaterThan(30);
    expect(weeks).toBeLessThan(110);
    await runSearch(ja);
    await page.waitForSelector('.matches figure svg', { timeout: 60_000 });
    expect(await page.$eval('.summary', (e) => e.textContent)).toContain(
      ja.timeframe.over.W.replace('{n}', '8'),
    );
    await shot('06b-ja-weekly-results');
    await byText('button', ja.timeframe.D).click();
    await waitForText(title(ja.timeframe.D));
    await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', { visible: true });
  });

  it('says a code in the URL does not exist and offers the closest names, not another stock', async () => {
    await page.goto(`${base}/app?code=APPL`, { waitUntil: 'load' });
    await waitForText(ja.app.unknownCode.replace('{code}', 'APPL'));
    expect(await page.$('.entity .code')).toBeNull();
    await shot('06b-ja-unknown-code');
    await page.locator('.suggest button::-p-text(AAPL)').click();
    await page.waitForFunction(() => document.querySelector('.entity .code')?.textContent === 'AAPL');
    await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', { visible: true });
    await dragOnChart(0.45, 0.7);
  });

  it('hits the free quota with a clear message', async () => {
    await page.locator(`button[aria-pressed]::-p-text(${ja.timeframe.span.D.replace('{n}', '30')})`).click();
    for (let i = 0; i < 6 && !(await page.$('.quota')); i++) await runSearch(ja);
    await page.waitForSelector('.quota', { timeout: 30_000 });
    expect(await page.$eval('.quota', (e) => e.textContent)).toContain(ja.errors.quota_exceeded);
    await shot('07-ja-quota');
  });

  it('upgrades through the sandbox checkout and searches again', async () => {
    await page.locator('.quota a').click();
    await page.waitForFunction(() => location.pathname === '/app/account');
    await waitForText('TEST MODE');
    await shot('08-ja-account-free');
    await byText('button', ja.billing.payWithSandbox).click();
    await page.waitForFunction(() => location.pathname === '/billing/sandbox', { timeout: 30_000 });
    await waitForText(ja.billing.sandboxTitle);
    await page.waitForFunction(() => /[¥￥]/.test(document.querySelector('.line .price')?.textContent ?? ''));
    await shot('09-ja-sandbox-checkout');
    await byText('button', ja.billing.pay).click();
    await waitForText(ja.billing.success);
    await shot('10-ja-sandbox-paid');
    await byText('a', ja.billing.startSearching).click();
    await page.waitForSelector('.host canvas', { visible: true, timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('.header-plan, .badge.pro') !== null, {
      timeout: 15_000,
    });
    await dragOnChart(0.3, 0.55);
    // Pro unlocks DTW and more matches; the free plan showed them disabled.
    expect(
      await page.$eval('select[name="metric"] option[value="dtw"]', (o) => (o as HTMLOptionElement).disabled),
    ).toBe(false);
    await page.select('select[name="metric"]', 'dtw');
    await runSearch(ja);
    await page.waitForSelector('.matches figure svg', { timeout: 60_000 });
    expect(await page.$('.quota')).toBeNull();
    expect((await page.$$('.matches figure')).length).toBe(20);
    await shot('11-ja-pro-results');
  });

  it('saves a pattern and runs a backtest with live progress and a toast (Pro)', async () => {
    await byText('button', ja.app.savePattern).click();
    await waitForText(ja.app.patternSaved);
    await byText('a', ja.nav.patterns).click();
    await page.waitForSelector('table.data tbody tr', { timeout: 30_000 });
    expect(await page.$eval('table.data tbody', (e) => e.textContent)).toContain('AAPL');
    await shot('12-ja-patterns');
    await byText('a', ja.nav.jobs).click();
    await page.waitForFunction(() => location.pathname === '/app/jobs');
    await byText('button', ja.jobs.start).click();
    // The toast comes from the SSE stream (job.done), not from polling.
    await waitForText(ja.toast.jobDone.replace('{kind}', ja.jobs.kinds.backtest), 90_000);
    // The toast's 「表示」 stays on one line (it used to wrap one character per line).
    const link = await page.$eval('.toast .link', (a) => {
      const r = a.getBoundingClientRect();
      return { w: r.width, h: r.height };
    });
    expect(link.w).toBeGreaterThan(link.h);
    await page.waitForFunction(
      (done) => document.querySelector('table.data tbody')?.textContent?.includes(done),
      { timeout: 30_000 },
      ja.jobs.statuses.succeeded,
    );
    // A finished job shows its outcome, never a progress bar stopped short of 100 %.
    expect(
      await page.$$eval(
        'table.data tbody tr',
        (rows) =>
          rows.filter((r) => r.querySelector('.badge.succeeded') && r.querySelector('[role="progressbar"]'))
            .length,
      ),
    ).toBe(0);
    await shot('13-ja-jobs-done');
  }, 150_000);

  it('logs out', async () => {
    await byText('a', ja.nav.logout).click();
    await waitForText(ja.auth.loggedOut);
    await shot('14-ja-logged-out');
    await page.goto(`${base}/app`, { waitUntil: 'load' });
    await page.waitForFunction(() => location.pathname === '/login');
  });

  it('a stale session cookie on the server-rendered search page ends on the login page (decision 142)', async () => {
    // The server only sees that a session cookie is there and renders the user-free page; the browser's
    // session check then fails and sends it to the login page with the way back.
    await page.setCookie({ name: 'csrf_token', value: 'stale', url: base });
    await page.goto(`${base}/app?code=AAPL`, { waitUntil: 'load' });
    await page.waitForFunction(() => location.pathname === '/login', { timeout: 30_000 });
    expect(new URL(page.url()).searchParams.get('next')).toBe('/app?code=AAPL');
    expect(await page.evaluate(() => document.querySelector('.acct') === null)).toBe(true);
    await page.deleteCookie({ name: 'csrf_token', url: base });
  });

  it('shows the key pages in English', async () => {
    await page.goto(`${base}/en`, { waitUntil: 'networkidle0' });
    expect(await page.$eval('html', (h) => h.lang)).toBe('en-US');
    await waitForText(en.legal.notAdviceTitle);
    await shot('15-en-landing');
    await page.goto(`${base}/en/pricing`, { waitUntil: 'networkidle0' });
    await waitForText(en.pricing.title);
    await waitForText('JPY');
    await shot('16-en-pricing');
    await page.goto(`${base}/en/forgot`, { waitUntil: 'networkidle0' });
    await fillForm({ email });
    await byText('button', en.auth.forgotButton).click();
    await waitForText(en.auth.forgotSent);
    await page.goto(`${base}/en/login`, { waitUntil: 'networkidle0' });
    await fillForm({ email, password: 'wrong password 123' });
    await byText('button', en.auth.loginButton).click();
    await page.waitForSelector('.alert.error', { timeout: 30_000 });
    await shot('17-en-login-error');
    await fillForm({ email, password });
    await byText('button', en.auth.loginButton).click();
    await page.waitForFunction(() => location.pathname === '/en/app', { timeout: 30_000 });
    await page.waitForSelector('.host canvas', { visible: true, timeout: 30_000 });
    await dragOnChart(0.5, 0.8);
    await runSearch(en);
    await page.waitForSelector('.matches figure svg', { timeout: 60_000 });
    await waitForText(en.results.forecastTitle);
    await shot('18-en-results');
    if (appDb) {
      // Operator pages: promote this user with backend's CLI, then log in again for a fresh role.
      const { runToEnd, tsxBin } = await import('../../scripts/processes.js');
      await runToEnd(tsxBin, ['backend/src/cli/create-admin.ts', '--email', email], {
        APP_DB: appDb,
        LOG_LEVEL: 'warn',
      });
      await page.goto(`${base}/en/logout`, { waitUntil: 'load' });
      await waitForText(en.auth.loggedOut);
      await page.goto(`${base}/en/login`, { waitUntil: 'networkidle0' });
      await fillForm({ email, password });
      await byText('button', en.auth.loginButton).click();
      await page.waitForFunction(() => location.pathname === '/en/app', { timeout: 30_000 });
      // A J-Quants run that last succeeded on 2024-12-27: the operator sees it behind and flagged stale.
      mkdirSync(join(dataDir!, 'runs'), { recursive: true });
      writeFileSync(
        join(dataDir!, 'runs', '20241227T100000Z-jquants-e2e000.json'),
        JSON.stringify({
          id: '20241227T100000Z-jquants-e2e000',
          source: 'jquants',
          startedAt: '2024-12-27T10:00:00.000Z',
          finishedAt: '2024-12-27T10:05:00.000Z',
          durationMs: 300_000,
          ok: ['7203'],
          failed: [],
          skipped: [],
          rowsAdded: 1,
          rowsRejected: [],
          success: true,
          market: 'JP',
          dataThrough: '2024-12-27',
          upcomingTradingDays: ['2024-12-30'],
        }),
      );
      await byText('a', en.nav.admin).click();
      await page.waitForSelector('.stats .stat', { timeout: 30_000 });
      expect(await page.$eval('main', (e) => e.textContent)).toContain(en.admin.tables.revenueByMonth);
      const source = await page.$$eval('tr', (rows) =>
        rows.map((r) => r.textContent ?? '').find((t) => t.includes('jquants')),
      );
      expect(source).toContain('2024-12-27');
      expect(source).toContain(`${en.admin.sources.stale}: `);
      expect(source).toMatch(/\d+ trading days behind/);
      // The last-run card agrees with the table: the run succeeded, but its data is stale, not "OK".
      expect(await page.$eval('[data-testid="last-run-status"]', (e) => e.textContent!.trim())).toBe(
        en.admin.sources.stale,
      );
      expect(await page.$eval('main', (e) => e.textContent)).toContain(en.admin.runStale);
      await shot('19-en-admin');
    }
    await page.goto(`${base}/en/app/account`, { waitUntil: 'load' });
    await waitForText(en.account.title);
    await waitForText(en.billing.statuses.active);
    await waitForText(en.account.payments);
    await shot('20-en-account-pro');
    const newPassword = 'another horse battery';
    await fillForm({ currentPassword: password, newPassword, confirmNew: newPassword });
    await byText('button', en.account.changePassword).click();
    await waitForText(en.account.passwordChanged);
    // Cancelling keeps Pro until the period ends; the confirm() dialog is accepted like a user would.
    page.once('dialog', (d) => void d.accept());
    await byText('button', en.account.cancelPlan).click();
    await waitForText(en.account.cancelled);
    await waitForText(en.account.endsOn);
    await shot('21-en-account-cancelled');
  });

  it('creates an API token that works as a Bearer token, revokes it, then deletes the account', async () => {
    const newPassword = 'another horse battery';
    await page.goto(`${base}/en/app/account`, { waitUntil: 'load' });
    await waitForText(en.tokens.title);
    await page.locator(`input[placeholder="${en.tokens.name}"]`).fill('e2e script');
    await byText('button', en.tokens.create).click();
    const token = (
      await (await page.waitForSelector('.alert.success.token code'))!.evaluate((c) => c.textContent ?? '')
    ).trim();
    expect(token.length).toBeGreaterThan(20);
    await shot('22-en-api-token');
    // The token is what a script would use: same origin, no cookies, no CSRF header.
    // Tokens carry scopes (search, patterns, jobs): account routes need a signed-in session instead.
    const script = createApiClient({
      fetch,
      baseUrl: `${base}/api/v1`,
      headers: () => ({ authorization: `Bearer ${token}` }),
    });
    const asScript = () => script.$response('entities', { query: { q: 'AA' } });
    const ok = await asScript();
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { entities: { code: string }[] }).entities.map((e) => e.code)).toContain(
      'AAPL',
    );
    expect((await script.$response('me')).status).toBe(403);
    await byText('button', en.tokens.revoke).click();
    await page.waitForFunction(() => !document.querySelector('table.data button.link'), { timeout: 30_000 });
    expect((await asScript()).status).toBe(401);

    await page.locator('input[name="deletePassword"]').fill(newPassword);
    page.once('dialog', (d) => void d.accept());
    await byText('button', en.account.deleteButton).click();
    await page.waitForFunction(() => location.pathname === '/en' || location.pathname === '/en/', {
      timeout: 30_000,
    });
    // The account is gone: its password no longer logs in.
    await page.goto(`${base}/en/login`, { waitUntil: 'networkidle0' });
    await fillForm({ email, password: newPassword });
    await byText('button', en.auth.loginButton).click();
    await page.waitForSelector('.alert.error', { timeout: 30_000 });
    await shot('23-en-deleted-login-refused');
  });

  it('raised no browser errors (CSP, hydration, scripts)', () => {
    expect(
      consoleErrors.filter(
        (e) => !/Failed to load resource: the server responded with a status of 4(01|29)/.test(e),
      ),
    ).toEqual([]);
  });
});
