import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { ensureDemoData, formatSummary, ImportError, importFile } from './import/index.js';
import { StoreError } from './store/index.js';
import { formatListingSummary, importListings } from './listings/import-listings.js';

const USAGE = `usage: npm run import -- <file> [--market M] [--currency C] [--data DIR] [--json]
       npm run import -- --listings FILE [--market M] [--data DIR] [--json]
       npm run import -- --demo-if-empty [--data DIR]
  <file>   CSV, CSV.gz or XLSX with columns ticker,date,open,high,low,close,volume
           (or 銘柄コード,日付,始値,高値,安値,終値,出来高); header names are case-insensitive
  --listings FILE
           a listing into the company master (names, sectors, segments, listing status; prices are
           not touched): JPX's 東証上場銘柄一覧 data_j.xls (or the same table as CSV, UTF-8 or
           Shift_JIS), or a companies CSV ticker,name,sector[,name_ja] (--market, default US)
  --data   store directory (default: $DATA_DIR or <repo>/data)
  --json   print the summary as JSON on stdout`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        market: { type: 'string' },
        currency: { type: 'string' },
        data: { type: 'string' },
        json: { type: 'boolean', default: false },
        'demo-if-empty': { type: 'boolean', default: false },
        listings: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'import');
  // `npm run import` runs in scraper/; npm's INIT_CWD is where the user typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const dataDir = resolve(cwd, values.data ?? config.DATA_DIR);

  if (values['demo-if-empty']) {
    const summary = await ensureDemoData(dataDir, { logger });
    if (!summary) process.stdout.write(`store ${dataDir} already has data: nothing to do\n`);
    else process.stdout.write(`${values.json ? JSON.stringify(summary) : formatSummary(summary)}\n`);
    return 0;
  }
  if (values.listings !== undefined) {
    if (positionals.length > 0) {
      process.stderr.write(
        `--listings takes its file as its value; unexpected ${positionals.join(' ')}\n${USAGE}\n`,
      );
      return 2;
    }
    const s = await importListings(resolve(cwd, values.listings), { dataDir, market: values.market, logger });
    process.stdout.write(`${values.json ? JSON.stringify(s) : formatListingSummary(s)}\n`);
    // Some refused rows are reported and the rest kept (exit 0); a listing of which no row could be
    // used is a wrong file, and a job or script running the import must see that.
    if (s.accepted === 0) {
      process.stderr.write(
        `import failed: no row of ${s.file} could be used (${s.rows} data rows, ${s.bad.length} refused)\n`,
      );
      return 1;
    }
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`expected exactly one file to import\n${USAGE}\n`);
    return 2;
  }
  const summary = await importFile(resolve(cwd, positionals[0]), {
    dataDir,
    market: values.market,
    currency: values.currency,
    logger,
  });
  process.stdout.write(`${values.json ? JSON.stringify(summary) : formatSummary(summary)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const known = err instanceof ImportError || err instanceof StoreError;
    process.stderr.write(
      `import failed: ${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`,
    );
    process.exitCode = 1;
  },
);
