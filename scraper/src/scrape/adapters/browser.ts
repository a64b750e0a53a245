import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';

/** Debian's chromium (scripts/setup.sh installs it); puppeteer's own download cannot work offline. */
const CHROMIUM = '/usr/bin/chromium';
const profiles = new WeakMap<Browser, string>();

/** Debian's chromium with the project's flags and a throwaway profile; close it with closeBrowser(). */
export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'resemble-scrape-chrome-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${userDataDir}`,
    ],
  });
  profiles.set(browser, userDataDir);
  return browser;
}

/** Closes the browser, then removes its profile (chromium may still be flushing it, hence the retries). */
export async function closeBrowser(browser: Browser): Promise<void> {
  await browser.close();
  const dir = profiles.get(browser);
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
