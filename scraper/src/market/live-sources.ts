/**
 * Which sources a scrape without --source runs: the live ones whose key is in the environment (J-Quants
 * for Tokyo with JPX's monthly listing, the US bulk source), else the sources file's default (the demo's
 * fixture source) as before. So `./run.sh start`, compose's scheduled scrape and the GitLab schedule
 * switch to live data by setting a key, and back by removing it.
 */
import type pino from 'pino';
import type { ScraperConfig } from '../config.js';
import type {
  AnySourceConfig,
  JquantsSourceConfig,
  PolygonSourceConfig,
  SourcesFile,
} from '../scrape/source-config.js';
import { ApiClient } from './api-client.js';
import { JQuants } from './jquants.client.js';
import { jquantsSource } from './jquants.source.js';
import type { MarketDaySource } from './market-day.service.js';
import { polygonSource } from './polygon.source.js';

export function defaultSources(file: SourcesFile, env: ScraperConfig): AnySourceConfig[] {
  const live = file.sources.filter(
    (s) =>
      (s.kind === 'jquants' && env.JQUANTS_API_KEY) ||
      (s.kind === 'jpx-listings' && env.JQUANTS_API_KEY) ||
      (s.kind === 'polygon' && env.POLYGON_API_KEY),
  );
  // The listing first, so a new issue has its name before its first prices.
  live.sort((a, b) => Number(b.kind === 'jpx-listings') - Number(a.kind === 'jpx-listings'));
  return live.length > 0 ? live : file.sources.filter((s) => s.name === file.defaultSource);
}

export function marketDaySource(
  cfg: JquantsSourceConfig | PolygonSourceConfig,
  env: ScraperConfig,
  userAgent: string,
  log: pino.Logger,
): { source: MarketDaySource; api: ApiClient } {
  if (cfg.kind === 'jquants') {
    if (!env.JQUANTS_API_KEY) throw new Error(`source ${cfg.name} needs JQUANTS_API_KEY in the environment`);
    const api = new ApiClient({
      baseUrl: env.JQUANTS_BASE_URL ?? cfg.baseUrl,
      auth: { header: 'x-api-key', value: env.JQUANTS_API_KEY },
      requestsPerMinute: cfg.planRates[env.JQUANTS_PLAN],
      userAgent,
      log,
    });
    return { source: { ...jquantsSource(new JQuants(api)), name: cfg.name }, api };
  }
  if (!env.POLYGON_API_KEY) throw new Error(`source ${cfg.name} needs POLYGON_API_KEY in the environment`);
  const api = new ApiClient({
    baseUrl: env.POLYGON_BASE_URL ?? cfg.baseUrl,
    auth: { header: 'authorization', value: `Bearer ${env.POLYGON_API_KEY}` },
    requestsPerMinute: env.POLYGON_REQUESTS_PER_MINUTE,
    userAgent,
    log,
  });
  return { source: { ...polygonSource(api), name: cfg.name }, api };
}
