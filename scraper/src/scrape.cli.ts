/**
 * The daily scraper's command line. One-shot by default (exit 0 = every stock succeeded, 1 = some
 * failed, 2 = bad usage or a critical error); with --schedule it stays up and runs on the cron schedule.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Cron } from 'croner';
import { entityCodeSchema, isoDateSchema } from '@resemble/contracts';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { runScrape } from './scrape/scrape.service.js';
import {
  DEFAULT_SOURCES_FILE,
  loadSources,
  pickSource,
  type AnySourceConfig,
} from './scrape/source-config.js';
import { runJpxListings } from './market/jpx-listings.source.js';
import { defaultSources, marketDaySource } from './market/live-sources.js';
import { runMarketDays } from './market/market-day.service.js';

export const DEFAULT_SCHEDULE = '30 16 * * 1-5';
export const DEFAULT_TIMEZONE = 'Asia/Tokyo';

const USAGE = `usage: npm run scrape -- [--source NAME] [--codes A,B] [--since YYYY-MM-DD] [--data DIR]
                          [--sources FILE] [--schedule "<cron>"] [--timezone TZ]
  --source    a source name from the sources file (default: the live sources whose key is set,
              JQUANTS_API_KEY → jpx-listings + jquants, POLYGON_API_KEY → polygon; else defaultSource)
  --codes     stocks to scrape (default: every code in the catalog)
  --since     fetch from this date instead of (last stored date - overlap)
  --data      store directory (default: $DATA_DIR or <repo>/data)
  --sources   sources file (default: scraper/sources.config.json)
  --schedule  keep running and scrape on this cron schedule (default "${DEFAULT_SCHEDULE}" when only
              --timezone is given); --timezone defaults to ${DEFAULT_TIMEZONE}`;

function usage(message: string): never {
  process.stderr.write(`scrape: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseCli() {
  return parseArgs({
    options: {
      source: { type: 'string' },
      codes: { type: 'string' },
      since: { type: 'string' },
      data: { type: 'string' },
      sources: { type: 'string' },
      schedule: { type: 'string' },
      timezone: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
}

let args: ReturnType<typeof parseCli>;
try {
  args = parseCli();
} catch (err) {
  usage((err as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

let setup;
try {
  const config = loadConfig();
  const sources = loadSources(args.sources ? resolve(args.sources) : DEFAULT_SOURCES_FILE);
  const chosen: AnySourceConfig[] = args.source
    ? [pickSource(sources, args.source)]
    : defaultSources(sources, config);
  setup = { config, sources, chosen };
} catch (err) {
  usage((err as Error).message);
}
const { config, sources, chosen } = setup;
const codes = args.codes
  ?.split(',')
  .map((c) => c.trim())
  .filter(Boolean);
const badCodes = (codes ?? []).filter((c) => !entityCodeSchema.safeParse(c).success);
if (badCodes.length > 0) {
  usage(
    `invalid code(s) ${badCodes.map((c) => JSON.stringify(c)).join(', ')}: codes must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`,
  );
}
if (codes && codes.length === 0) usage('--codes is empty');
if (args.since !== undefined && !isoDateSchema.safeParse(args.since).success) {
  usage(`--since must be a real date YYYY-MM-DD, got "${args.since}"`);
}

const log = createLogger(config.LOG_LEVEL, 'scrape');
const dataDir = resolve(args.data ?? config.DATA_DIR);
const controller = new AbortController();

/** One run of a source; exit code 0 ok, 1 some stocks failed, 2 the run failed. */
async function runOne(source: AnySourceConfig): Promise<number> {
  if (source.kind === 'jpx-listings') {
    const r = await runJpxListings({
      dataDir,
      source: config.JPX_LISTINGS_URL ? { ...source, baseUrl: config.JPX_LISTINGS_URL } : source,
      userAgent: sources.userAgent,
      log,
    });
    process.stdout.write(
      `${JSON.stringify({ source: source.name, skipped: r.skipped, success: r.report?.success ?? true })}\n`,
    );
    return r.report && !r.report.success ? 2 : 0;
  }
  if (source.kind === 'jquants' || source.kind === 'polygon') {
    const { source: src, api } = marketDaySource(source, config, sources.userAgent, log);
    try {
      const r = await runMarketDays({
        dataDir,
        source: src,
        log,
        codes,
        since: args.since,
        initialDays: config.SCRAPE_INITIAL_DAYS,
      });
      process.stdout.write(
        `${JSON.stringify({ source: source.name, report: r.reportPath, days: r.days.length, ok: r.report.ok.length, failed: r.report.failed.length, rowsAdded: r.report.rowsAdded, dataThrough: r.report.dataThrough, requests: api.requests, success: r.report.success })}\n`,
      );
      if (r.report.failed.some((f) => f.code === '*')) return 2;
      return r.report.success ? 0 : 1;
    } finally {
      await api.close();
    }
  }
  return runHttp(source);
}

async function once(): Promise<number> {
  let worst = 0;
  for (const s of chosen) {
    if (controller.signal.aborted) break;
    try {
      worst = Math.max(worst, await runOne(s));
    } catch (err) {
      log.error({ source: s.name, reason: (err as Error).message }, 'run failed');
      process.stderr.write(`scrape: ${s.name}: ${(err as Error).message}\n`);
      worst = 2;
    }
  }
  return worst;
}

async function runHttp(
  source: Extract<AnySourceConfig, { kind: 'csv-http' | 'html-table' }>,
): Promise<number> {
  try {
    const { report, reportPath, stoppedBy } = await runScrape({
      dataDir,
      source,
      userAgent: sources.userAgent,
      codes,
      since: args.since,
      log,
      signal: controller.signal,
    });
    process.stdout.write(
      `${JSON.stringify({ report: reportPath, ok: report.ok.length, failed: report.failed.length, skipped: report.skipped.length, rowsAdded: report.rowsAdded, success: report.success })}\n`,
    );
    if (stoppedBy && stoppedBy !== 'interrupted') return 2;
    return report.success ? 0 : 1;
  } catch (err) {
    log.error({ reason: (err as Error).message }, 'run failed');
    process.stderr.write(`scrape: ${(err as Error).message}\n`);
    return 2;
  }
}

if (args.schedule === undefined && args.timezone === undefined) {
  // SIGTERM/SIGINT: stop taking stocks, commit what is done, keep the checkpoint for the next start.
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  process.exitCode = await once();
} else {
  const timezone = args.timezone ?? DEFAULT_TIMEZONE;
  let job: Cron;
  try {
    // protect: a run still going when the next tick comes is not started twice.
    job = new Cron(args.schedule ?? DEFAULT_SCHEDULE, { timezone, protect: true }, async () => {
      const exitCode = await once();
      log.info({ exitCode, next: job.nextRun()?.toISOString() }, 'scheduled run done');
    });
  } catch (err) {
    usage(`invalid --schedule/--timezone: ${(err as Error).message}`);
  }
  log.info({ schedule: job.getPattern(), timezone, next: job.nextRun()?.toISOString() }, 'scheduler started');
  const stop = () => {
    job.stop();
    controller.abort();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
