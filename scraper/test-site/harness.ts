import { Writable } from 'node:stream';
import pino from 'pino';
import { sourceSchema, type CsvSourceConfig, type HtmlSourceConfig } from '../src/scrape/source-config.js';

/** Test/bench configurations of the two fixture sources, pointing at a running fixture site. */
export function csvSource(
  baseUrl: string,
  limits: Partial<CsvSourceConfig['limits']> = {},
  extra: Partial<CsvSourceConfig> = {},
): CsvSourceConfig {
  return sourceSchema.parse({
    name: 'fixture-csv',
    kind: 'csv-http',
    baseUrl,
    market: 'US',
    currency: 'USD',
    url: '/csv/{code}.csv?from={from}',
    columns: { date: 'Date', open: 'Open', high: 'High', low: 'Low', close: 'Close', volume: 'Volume' },
    limits: {
      concurrency: 4,
      perHostConcurrency: 4,
      minTimeMs: 0,
      timeoutMs: 5000,
      retries: 3,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      ...limits,
    },
    ...extra,
  }) as CsvSourceConfig;
}

export function htmlSource(
  baseUrl: string,
  limits: Partial<HtmlSourceConfig['limits']> = {},
  extra: Partial<HtmlSourceConfig> = {},
): HtmlSourceConfig {
  return sourceSchema.parse({
    name: 'fixture-html',
    kind: 'html-table',
    baseUrl,
    market: 'US',
    currency: 'USD',
    indexUrl: '/html/{code}/',
    yearLinkSelector: 'ul.years a',
    pageUrl: '/html/{code}/{year}.html',
    tableSelector: 'table.stock_table',
    completeSelector: '#page-end',
    columns: { date: '日付', open: '始値', high: '高値', low: '安値', close: '終値', volume: '出来高' },
    limits: {
      concurrency: 4,
      perHostConcurrency: 4,
      minTimeMs: 0,
      timeoutMs: 10000,
      retries: 3,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      ...limits,
    },
    ...extra,
  }) as HtmlSourceConfig;
}

export interface LogLine {
  level: number;
  msg: string;
  code?: string;
  [key: string]: unknown;
}

/** A pino logger whose JSON lines are kept in memory, so tests can check what was logged. */
export function captureLogger(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

export const USER_AGENT = 'ResembleBot-test/1.0';
