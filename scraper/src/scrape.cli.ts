/**
 * npm run scrape -- [--source NAME] [--codes A,B] [--since YYYY-MM-DD] [--data DIR] [--sources FILE]
 *                   [--schedule "<cron>"] [--timezone Asia/Tokyo]
 * One-shot by default (exit 0 = every stock succeeded, 1 = some failed, 2 = bad usage or a critical
 * error); with --schedule it stays up and runs on the cron schedule.
 */
import { parseArgs } from 'node:util';
import { Cron } from 'croner';
import { entityCodeSchema, isoDateSchema } from '@resemble/contracts';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { runScrape } from './scrape/scrape.service.js';
import { DEFAULT_SOURCES_FILE, loadSources, pickSource } from './scrape/source-config.js';

export const DEFAULT_SCHEDULE = '30 16 * * 1-5';
export const DEFAULT_TIMEZONE = 'Asia/Tokyo';

function usage(message: string): never {
  console.error(`scrape: ${message}`);
  console.error(
    'usage: npm run scrape -- [--source NAME] [--codes A,B] [--since YYYY-MM-DD] [--data DIR] [--sources FILE] [--schedule "<cron>"] [--timezone TZ]',
  );
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

let config;
let sources;
let source;
try {
  config = loadConfig();
  sources = loadSources(args.sources ?? DEFAULT_SOURCES_FILE);
  source = pickSource(sources, args.source);
} catch (err) {
  usage((err as Error).message);
}
const codes = args.codes
  ?.split(',')
  .map((c) => c.trim())
  .filter(Boolean);
const badCodes = (codes ?? []).filter((c) => !entityCodeSchema.safeParse(c).success);
if (badCodes.length > 0)
  usage(
    `invalid code(s) ${badCodes.map((c) => JSON.stringify(c)).join(', ')}: codes must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`,
  );
if (codes && codes.length === 0) usage('--codes is empty');
if (args.since !== undefined && !isoDateSchema.safeParse(args.since).success)
  usage(`--since must be a real date YYYY-MM-DD, got "${args.since}"`);

const log = createLogger(config.LOG_LEVEL, 'scrape');
const dataDir = args.data ?? config.DATA_DIR;
const controller = new AbortController();

async function once(): Promise<number> {
  try {
    const { report, reportPath, stoppedBy } = await runScrape({
      dataDir,
      source: source!,
      userAgent: sources!.userAgent,
      codes,
      since: args.since,
      log,
      signal: controller.signal,
    });
    console.log(
      JSON.stringify({
        report: reportPath,
        ok: report.ok.length,
        failed: report.failed.length,
        skipped: report.skipped.length,
        rowsAdded: report.rowsAdded,
        success: report.success,
      }),
    );
    if (stoppedBy && stoppedBy !== 'interrupted') return 2;
    return report.success ? 0 : 1;
  } catch (err) {
    log.error({ reason: (err as Error).message }, 'run failed');
    console.error(`scrape: ${(err as Error).message}`);
    return 2;
  }
}

if (args.schedule === undefined && args.timezone === undefined) {
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  process.exitCode = await once();
} else {
  const timezone = args.timezone ?? DEFAULT_TIMEZONE;
  let job: Cron;
  try {
    // protect: a run still going when the next tick comes is not started twice.
    job = new Cron(args.schedule ?? DEFAULT_SCHEDULE, { timezone, protect: true }, async () => {
      const code = await once();
      log.info({ exitCode: code, next: job.nextRun()?.toISOString() }, 'scheduled run done');
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
