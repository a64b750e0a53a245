import type { Browser, Page } from 'puppeteer';
import { errorForStatus, NonRetryableError } from '../errors.js';
import type { PoliteClient } from '../polite-client.js';
import { sourceUrl, type HtmlSourceConfig } from '../source-config.js';
import { closeBrowser, launchBrowser } from './browser.js';
import { columnIndexes, onOrAfter, toRow } from './cells.js';
import type { SourceAdapter } from './source-adapter.js';

interface Extracted {
  complete: boolean;
  found: boolean;
  headers: string[];
  rows: string[][];
  links: string[];
}

/**
 * Runs inside the page. Kept as source text rather than a function so the TypeScript loader's helpers
 * (which exist only in Node) never end up in the browser.
 */
function extractor(tableSelector: string, completeSelector: string, linkSelector: string): string {
  return `(() => {
    const text = (el) => (el.textContent || '').replace(/\\s+/g, ' ').trim();
    const complete = document.querySelector(${JSON.stringify(completeSelector)}) !== null;
    const links = ${JSON.stringify(linkSelector)} ? [...document.querySelectorAll(${JSON.stringify(linkSelector)})].map(text) : [];
    const table = ${JSON.stringify(tableSelector)} ? document.querySelector(${JSON.stringify(tableSelector)}) : null;
    if (!table) return { complete, found: false, headers: [], rows: [], links };
    const headRow = table.querySelector('thead tr') || table.querySelector('tr');
    const headers = headRow ? [...headRow.querySelectorAll('th,td')].map(text) : [];
    const rows = [...table.querySelectorAll('tbody tr')].filter((tr) => tr !== headRow)
      .map((tr) => [...tr.querySelectorAll('td')].map(text)).filter((cells) => cells.length > 0);
    return { complete, found: true, headers, rows, links };
  })()`;
}

/**
 * Per-stock, per-year HTML price tables read with one shared headless browser: a stock's index page
 * lists its years, then each year page from the `from` year on is loaded and its table read.
 */
export class HtmlTableAdapter implements SourceAdapter {
  private browser: Promise<Browser> | undefined;
  private readonly idle: Page[] = [];
  private readonly waiting: ((p: Page) => void)[] = [];
  private opened = 0;

  constructor(
    private readonly source: HtmlSourceConfig,
    private readonly client: PoliteClient,
    /** A browser owned by the caller (tests, benchmarks); otherwise one is launched on first use. */
    private readonly sharedBrowser?: Browser,
  ) {}

  private getBrowser(): Promise<Browser> {
    this.browser ??= this.sharedBrowser ? Promise.resolve(this.sharedBrowser) : launchBrowser();
    return this.browser;
  }

  /** A pool of at most `concurrency` tabs, reused across pages and stocks. */
  private async withTab<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    let page = this.idle.pop();
    if (!page) {
      if (this.opened < this.source.limits.concurrency) {
        this.opened++;
        page = await (await this.getBrowser()).newPage();
        page.setDefaultNavigationTimeout(this.source.limits.timeoutMs);
      } else {
        page = await new Promise<Page>((ok) => this.waiting.push(ok));
      }
    }
    try {
      return await fn(page);
    } finally {
      const next = this.waiting.shift();
      if (next) next(page);
      else this.idle.push(page);
    }
  }

  private load(url: string, code: string, linkSelector: string, tableSelector: string): Promise<Extracted> {
    return this.client.request(url, code, () =>
      this.withTab(async (page) => {
        const res = await page.goto(url, { waitUntil: 'domcontentloaded' });
        if (!res) throw new Error(`no response for ${url}`);
        if (!res.ok()) throw errorForStatus(res.status(), url, res.headers()['retry-after']);
        const got = (await page.evaluate(
          extractor(tableSelector, this.source.completeSelector, linkSelector),
        )) as Extracted;
        // A cut-off page is a transport problem (retry); a complete page without our table is a redesign.
        if (!got.complete) throw new Error(`page truncated (no ${this.source.completeSelector}): ${url}`);
        return got;
      }),
    );
  }

  async fetchRows(code: string, from: string) {
    const indexUrl = sourceUrl(this.source.baseUrl, this.source.indexUrl, { code });
    const index = await this.load(indexUrl, code, this.source.yearLinkSelector, '');
    const years = index.links.filter((t) => /^\d{4}$/.test(t)).map(Number);
    if (years.length === 0) {
      throw new NonRetryableError(
        `layout changed: no year links (${this.source.yearLinkSelector}) on ${indexUrl}`,
      );
    }
    const fromYear = Number(from.slice(0, 4));
    const wanted = [...new Set(years)].filter((y) => y >= fromYear).sort((a, b) => a - b);
    const rows = [];
    for (const year of wanted) {
      const url = sourceUrl(this.source.baseUrl, this.source.pageUrl, { code, year: String(year) });
      const page = await this.load(url, code, '', this.source.tableSelector);
      if (!page.found)
        throw new NonRetryableError(`layout changed: no table ${this.source.tableSelector} on ${url}`);
      const idx = columnIndexes(page.headers, this.source.columns, `table on ${url}`);
      for (const cells of page.rows) rows.push(toRow(cells, idx));
    }
    return { rows: onOrAfter(rows, from), pages: 1 + wanted.length };
  }

  async close() {
    for (const page of this.idle.splice(0)) await page.close().catch(() => undefined);
    if (this.browser && !this.sharedBrowser) await closeBrowser(await this.browser);
    this.browser = undefined;
    this.opened = 0;
  }
}
