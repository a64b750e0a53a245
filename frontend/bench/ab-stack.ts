/**
 * What the two interleaved A/B benches (bench:ab, bench:cpu-ab) share: one stack (ml-service, backend,
 * demo tickers) serving the current frontend/.output, a second frontend process serving a base build
 * against the same backend, one Chromium and a signed-in browser context. Cookies are per host, not per
 * port, so the one user is signed in on both builds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer';
import { freePort, startProcess, stopProcess, waitForHealthy } from '../../scripts/processes.js';
import { startStack } from '../../tests/support/stack.js';

export interface AbRun {
  /** [name, origin]: the base build first, then the current one. */
  builds: [string, string][];
  browser: Browser;
  /** A context whose user is signed in (on both builds). */
  signedIn: BrowserContext;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Registers a fresh user from `page` (already on the frontend's origin); the browser keeps its cookies. */
export async function registerBenchUser(page: Page, prefix: string): Promise<void> {
  const status = await page.evaluate(async (p: string) => {
    const r = await fetch('/api/v1/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${p}-${Date.now()}@example.com`, password: 'bench password 123' }),
    });
    return r.status;
  }, prefix);
  if (status !== 201) throw new Error(`could not register the bench user (HTTP ${status})`);
}

/** Runs `fn` with both builds up and a signed-in context; stops everything afterwards. */
export async function withAbStack(baseDir: string, name: string, fn: (run: AbRun) => Promise<void>) {
  const stack = await startStack({ withFrontend: true });
  const port = await freePort();
  const baseFe = startProcess('frontend-base', process.execPath, [join(baseDir, 'server', 'index.mjs')], {
    HOST: '127.0.0.1',
    PORT: String(port),
    NITRO_HOST: '127.0.0.1',
    NITRO_PORT: String(port),
    NUXT_BACKEND_URL: stack.backendUrl,
  });
  const builds: [string, string][] = [
    ['base', `http://127.0.0.1:${port}`],
    ['current', stack.frontendUrl!],
  ];
  const profile = mkdtempSync(join(tmpdir(), `resemble-${name}-chrome-`));
  try {
    await waitForHealthy(baseFe, `${builds[0]![1]}/`);
    const browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${stack.frontendUrl}/`, { waitUntil: 'load' });
      await registerBenchUser(page, name);
      const signedIn = await browser.createBrowserContext();
      await signedIn.setCookie(...(await browser.cookies()));
      await fn({ builds, browser, signedIn });
    } finally {
      await browser.close();
    }
  } finally {
    await stopProcess(baseFe);
    await stack.stop();
    rmSync(profile, { recursive: true, force: true });
  }
}
