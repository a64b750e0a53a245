/// <reference lib="dom" />
// Callbacks passed to page.evaluate/waitForFunction run in the browser, hence the DOM types.
/**
 * Cancel, resume and receipts in headless Debian Chromium against the real stack (sandbox billing, an
 * issuer of qualified invoices configured), in Japanese on a desktop and on a 390 px phone:
 *  - cancel shows 「DATEまで有効」 with 再開する, resume brings renewal back;
 *  - each payment links its receipt; the receipt page carries the 適格請求書 fields and prints alone;
 *  - axe-core finds no serious or critical violation on the account page in either state, nor on the
 *    receipt, and neither page scrolls sideways on the phone.
 * Screenshots go to artifacts/e2e/billing-*.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer';
import { launchChromium } from '../support/browser.js';
import { seriousAxeViolations } from '../support/axe.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const shots = join(root, 'artifacts', 'e2e');
const ja = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/ja.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/en.json'), 'utf8'));
const ISSUER = { INVOICE_ISSUER_NAME: '株式会社レゼンブル', INVOICE_REGISTRATION_NUMBER: 'T1234567890123' };
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };

let browser: Browser;
let page: Page;
let base = '';
let stop: (() => Promise<void>) | undefined;
let profileDir = '';
const password = 'correct horse battery';

const shot = (name: string) => page.screenshot({ path: join(shots, `billing-${name}.png`), fullPage: true });

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return page.evaluate(
    async (m, p, b) => {
      const csrf = /(?:^|; )csrf_token=([^;]*)/.exec(document.cookie)?.[1];
      const r = await fetch(`/api/v1${p}`, {
        method: m,
        headers: {
          'content-type': 'application/json',
          ...(csrf ? { 'x-csrf-token': decodeURIComponent(csrf) } : {}),
        },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
    method,
    path,
    body,
  ) as Promise<{ status: number; body: T }>;
}

/** A new Pro user (sandbox checkout through the API the app uses), signed in on `page`. */
async function proUser(): Promise<void> {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  const email = `billing-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@example.com`;
  expect((await api('POST', '/auth/register', { email, password })).status).toBe(201);
  const checkout = await api<{ redirectUrl: string }>('POST', '/billing/checkout', {
    plan: 'pro',
    provider: 'sandbox',
  });
  const session = new URL(checkout.body.redirectUrl, base).searchParams.get('session');
  expect((await api('POST', '/billing/sandbox/complete', { session, outcome: 'success' })).status).toBe(200);
}

async function openAccount(prefix = '') {
  await page.goto(`${base}${prefix}/app/account`, { waitUntil: 'load' });
  await page.waitForSelector('[data-testid="payments"] tbody tr', { timeout: 30_000 });
}

const text = (sel: string) => page.$eval(sel, (e) => (e as HTMLElement).innerText);

async function sideways(): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

describe('cancel → active until → resume, and receipts (ja, desktop and 390 px)', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    if (process.env.E2E_FRONTEND_URL) base = process.env.E2E_FRONTEND_URL;
    else {
      const { startStack } = await import('../support/stack.js');
      const stack = await startStack({ withFrontend: true, env: ISSUER });
      base = stack.frontendUrl!;
      stop = stack.stop;
    }
    profileDir = mkdtempSync(join(tmpdir(), 'resemble-billing-chrome-'));
    browser = await launchChromium(profileDir);
    page = await browser.newPage();
    // The cancel button asks for confirmation.
    page.on('dialog', (d) => void d.accept());
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stop?.();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  for (const [device, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    it(`cancels, shows when Pro ends with a way back, and resumes (${device})`, async () => {
      await page.setViewport(viewport);
      await proUser();
      await openAccount();
      const sub = await api<{ subscription: { currentPeriodEnd: string } }>('GET', '/billing/subscription');
      expect(await page.$('[data-testid="active-until"]')).toBeNull();

      await page.locator(`button::-p-text(${ja.account.cancelPlan})`).click();
      await page.waitForSelector('[data-testid="active-until"]', { timeout: 15_000 });
      const until = await text('[data-testid="active-until"]');
      // 「2027/01/07 15:50まで有効」: the date the paid period ends, in the page's own format.
      const end = new Date(sub.body.subscription.currentPeriodEnd);
      const day = new Intl.DateTimeFormat('ja-JP', { dateStyle: 'medium' }).format(end);
      expect(until).toContain(`${day}`);
      expect(until).toMatch(/まで有効/);
      expect(until).toContain(ja.account.resume);
      expect(await page.$(`::-p-text(${ja.account.cancelPlan})`)).toBeNull();
      expect(await seriousAxeViolations(page)).toEqual([]);
      if (device === 'phone') expect(await sideways()).toBeLessThanOrEqual(0);
      await shot(`ja-account-cancelled-${device}`);

      await page.locator(`[data-testid="active-until"] button::-p-text(${ja.account.resume})`).click();
      await page.waitForFunction(() => !document.querySelector('[data-testid="active-until"]'), {
        timeout: 15_000,
      });
      await page.waitForSelector(`::-p-text(${ja.account.cancelPlan})`);
      const after = await api<{ plan: string; subscription: { cancelAtPeriodEnd: boolean } }>(
        'GET',
        '/billing/subscription',
      );
      expect(after.body).toMatchObject({ plan: 'pro', subscription: { cancelAtPeriodEnd: false } });
      expect(await text('.sub dl')).toContain(ja.account.renewsOn);
      await shot(`ja-account-resumed-${device}`);
    }, 120_000);

    it(`opens a printable qualified-invoice receipt from the payments list (${device})`, async () => {
      await page.setViewport(viewport);
      await proUser();
      await openAccount();
      await page.locator('[data-testid="payments"] input[name="receiptName"]').fill('株式会社 類似商事');
      await page.locator(`button::-p-text(${ja.account.receiptNameSave})`).click();
      await page.waitForFunction(() => document.querySelector('.toasts')?.textContent?.includes('宛名'), {
        timeout: 10_000,
      });
      await page.locator(`[data-testid="payments"] a::-p-text(${ja.account.receipt})`).click();
      await page.waitForSelector('[data-testid="receipt"]', { timeout: 30_000 });
      const receipt = await text('[data-testid="receipt"]');
      expect(await text('h1')).toBe(ja.receipt.titleQualified);
      expect(await text('[data-testid="receipt-issuer"]')).toBe(ISSUER.INVOICE_ISSUER_NAME);
      expect(await text('[data-testid="receipt-registration"]')).toBe(ISSUER.INVOICE_REGISTRATION_NUMBER);
      expect(await text('[data-testid="receipt-recipient"]')).toBe('株式会社 類似商事 様');
      expect(await text('[data-testid="receipt-number"]')).toMatch(/^R-\d{8}-[0-9A-F]{10}$/);
      // Amount, tax per rate and what was bought, as a qualified invoice must show them.
      const rates = await text('[data-testid="receipt-rates"]');
      expect(rates).toMatch(/10%対象\s+[￥¥]1,480\s+[￥¥]1,346\s+[￥¥]134/);
      expect(receipt).toMatch(/うち消費税 [￥¥]134（10%）/);
      expect(receipt).toContain('Resemble Pro プラン（月額）');
      expect(receipt).toContain(ja.billing.providers.sandbox);
      expect(receipt).toContain(ja.receipt.paidOn);
      expect(await seriousAxeViolations(page)).toEqual([]);
      if (device === 'phone') expect(await sideways()).toBeLessThanOrEqual(0);
      await shot(`ja-receipt-${device}`);

      // Printed, the receipt stands alone: no site header, footer or buttons.
      await page.emulateMediaType('print');
      const hidden = await page.evaluate(() =>
        ['.hdr', '.ftr', '.no-print'].map((s) =>
          Array.from(document.querySelectorAll(s)).every((e) => getComputedStyle(e).display === 'none'),
        ),
      );
      expect(hidden).toEqual([true, true, true]);
      await shot(`ja-receipt-print-${device}`);
      await page.emulateMediaType('screen');
    }, 120_000);
  }

  it('speaks English too: the same receipt in en', async () => {
    await page.setViewport(DESKTOP);
    await proUser();
    await openAccount('/en');
    await page.locator(`[data-testid="payments"] a::-p-text(${en.account.receipt})`).click();
    await page.waitForSelector('[data-testid="receipt"]', { timeout: 30_000 });
    expect(await text('h1')).toBe(en.receipt.titleQualified);
    expect(await text('[data-testid="receipt-rates"]')).toMatch(
      // innerText follows the headers' CSS upper case, so the case is not compared.
      /10% rate\s+JPY\s1,480\s+JPY\s1,346\s+JPY\s134/i,
    );
    await shot('en-receipt-desktop');
  }, 120_000);
});
