/// <reference lib="dom" />
// Callbacks passed to page.evaluate run in the browser, hence the DOM types.
/**
 * What every browser end-to-end test starts with: the stack with the built frontend (or the one at
 * E2E_FRONTEND_URL), headless Debian Chromium on a throw-away profile with one page, the page's console
 * errors collected, the sign-up form filled in, and the typed API client (contracts' createApiClient)
 * whose requests the page itself makes, so they carry its session cookies and CSRF header.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createApiClient, type ApiClient } from '@resemble/contracts';
import type { Stack, StackOptions } from './stack.js';

export interface BrowserSession {
  /** The frontend's origin. */
  base: string;
  browser: Browser;
  page: Page;
  /** console.error lines and uncaught errors of the page, in order. */
  consoleErrors: string[];
  /** The stack this session started (absent with E2E_FRONTEND_URL). */
  stack?: Stack;
  /** The typed client, its calls made by the page (same origin, its cookies, its CSRF header). */
  api: ApiClient;
  close(): Promise<void>;
}

/**
 * Debian's Chromium, headless, on the given throw-away profile, with nothing that reaches the internet
 * (no component updates, sync or background networking): the one launch every browser test uses.
 */
export function launchChromium(profileDir: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${profileDir}`,
    ],
  });
}

/** `stackOptions` go to startStack (the frontend is always started), e.g. a short poll interval. */
export async function openBrowserSession(
  name: string,
  stackOptions: StackOptions = {},
): Promise<BrowserSession> {
  let stack: Stack | undefined;
  let base = process.env.E2E_FRONTEND_URL ?? '';
  if (!base) {
    const { startStack } = await import('./stack.js');
    stack = await startStack({ ...stackOptions, withFrontend: true });
    base = stack.frontendUrl!;
  }
  const profileDir = mkdtempSync(join(tmpdir(), `resemble-${name}-chrome-`));
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await stack?.stop();
    rmSync(profileDir, { recursive: true, force: true });
  };
  try {
    browser = await launchChromium(profileDir);
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    return { base, browser, page, consoleErrors, stack, api: pageApiClient(page), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The typed client over a fetch that the page runs: the page must be on the frontend's origin (any of
 * its pages) for the relative /api/v1 calls and its cookies. The CSRF header comes from the page's own
 * csrf_token cookie, read at each call as the app reads it.
 */
export function pageApiClient(page: Page): ApiClient {
  const fetchInPage = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const r = await page.evaluate(
      async (url, method, h, body) => {
        const csrf = /(?:^|; )csrf_token=([^;]*)/.exec(document.cookie)?.[1];
        if (csrf && method !== 'GET') h['x-csrf-token'] = decodeURIComponent(csrf);
        const res = await fetch(url, { method, headers: h, body });
        const out: [string, string][] = [];
        res.headers.forEach((v, k) => out.push([k, v]));
        return { status: res.status, statusText: res.statusText, headers: out, text: await res.text() };
      },
      String(input),
      init.method ?? 'GET',
      headers,
      typeof init.body === 'string' ? init.body : undefined,
    );
    const empty = r.status === 204 || r.status === 304;
    return new Response(empty ? null : r.text, {
      status: r.status,
      statusText: r.statusText,
      headers: r.headers,
    });
  }) as typeof globalThis.fetch;
  return createApiClient({ fetch: fetchInPage, baseUrl: '/api/v1' });
}

/** Signs up through the form, as a person does, and waits for the app to open (/app, or /en/app). */
export async function signUpThroughForm(
  s: Pick<BrowserSession, 'base' | 'page'>,
  account: { email: string; password: string },
  buttonText: string,
): Promise<void> {
  const { page } = s;
  if (!page.url().startsWith(`${s.base}/signup`))
    await page.goto(`${s.base}/signup`, { waitUntil: 'networkidle0' });
  const fields = { email: account.email, password: account.password, confirm: account.password };
  for (const [name, value] of Object.entries(fields)) await page.locator(`input[name="${name}"]`).fill(value);
  await page.locator('input[name="terms"]').click();
  await page.locator(`button::-p-text(${JSON.stringify(buttonText).slice(1, -1)})`).click();
  await page.waitForFunction(() => /^(\/[a-z]{2})?\/app$/.test(location.pathname), { timeout: 30_000 });
}
