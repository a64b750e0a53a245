import robotsParser from 'robots-parser';
import { NonRetryableError } from './errors.js';

type Robots = ReturnType<typeof robotsParser>;

/**
 * robots.txt per origin, fetched once per run. Per RFC 9309: 4xx means no rules (allowed), while an
 * unreachable file (5xx or network) means we may not assume anything, so the host is treated as closed.
 */
export class RobotsGuard {
  private readonly byOrigin = new Map<string, Promise<Robots | Error>>();

  constructor(
    private readonly userAgent: string,
    private readonly fetchRobots: (url: string) => Promise<{ status: number; body: string }>,
  ) {}

  private load(origin: string): Promise<Robots | Error> {
    let entry = this.byOrigin.get(origin);
    if (!entry) {
      const url = `${origin}/robots.txt`;
      entry = this.fetchRobots(url).then(
        ({ status, body }) => {
          if (status >= 500) return new Error(`robots.txt unreachable (HTTP ${status}) at ${url}`);
          return robotsParser(url, status >= 400 ? '' : body);
        },
        (err: unknown) => new Error(`robots.txt unreachable at ${url}: ${(err as Error).message}`),
      );
      this.byOrigin.set(origin, entry);
    }
    return entry;
  }

  /** Resolves when `url` may be fetched; throws NonRetryableError if robots.txt cannot be read. */
  async isAllowed(url: string): Promise<boolean> {
    const robots = await this.load(new URL(url).origin);
    if (robots instanceof Error) throw new NonRetryableError(robots.message);
    return robots.isAllowed(url, this.userAgent) !== false;
  }

  /** Crawl-delay in ms for the origin, if robots.txt sets one. */
  async crawlDelayMs(url: string): Promise<number | undefined> {
    const robots = await this.load(new URL(url).origin);
    if (robots instanceof Error) return undefined;
    const delay = robots.getCrawlDelay(this.userAgent);
    return delay === undefined ? undefined : delay * 1000;
  }
}
