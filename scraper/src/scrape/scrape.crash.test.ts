import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, csvSource, USER_AGENT } from '../../test-site/harness.js';
import { startTestSite, type TestSite } from '../../test-site/site.js';
import { checkpointPath, checkpointSchema } from './checkpoint.js';
import { runScrape } from './scrape.service.js';

const CLI = resolve(import.meta.dirname, '../scrape.cli.ts');
const OLD_AS_OF = '2016-12-30';
const NEW_AS_OF = '2017-12-29';
const STOCKS = 100;
const KILLS = 12;

/** Deterministic delays, so a failure can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI; with `killAfterMs`, SIGKILLs it that long after it logs that the run started (tsx
 * start-up time varies a lot on a loaded machine, so the clock starts when the real work does).
 */
function runCli(args: string[], env: Record<string, string>, killAfterMs?: number): Promise<Exit> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, LOG_LEVEL: killAfterMs === undefined ? 'warn' : 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (killAfterMs !== undefined && !timer && /"msg":"(run started|resuming run)"/.test(stderr)) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      ok({ code, signal, stdout, stderr });
    });
  });
}

type Row = [string, number, number, number, number, number];

function fileRows(path: string): { integrity: string; rows: Row[]; distinct: number } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? '';
    const rows = db
      .prepare('SELECT date, open, high, low, close, volume FROM raw_prices ORDER BY date')
      .raw()
      .all() as Row[];
    const distinct = (db.prepare('SELECT count(DISTINCT date) AS n FROM raw_prices').get() as { n: number })
      .n;
    return { integrity, rows, distinct };
  } finally {
    db.close();
  }
}

describe('crash safety: SIGKILL the scraper at random moments', () => {
  let site: TestSite;
  let dataDir: string;
  let sourcesFile: string;
  let env: Record<string, string>;
  const oldRows = new Map<string, Row[]>();
  const newRows = new Map<string, Row[]>();
  const asRows = (rs: ReturnType<TestSite['published']>): Row[] =>
    rs.map((r) => [r.date, r.open, r.high, r.low, r.close, r.volume]);

  beforeAll(async () => {
    site = await startTestSite({ synthetic: STOCKS, asOf: OLD_AS_OF });
    dataDir = mkdtempSync(join(tmpdir(), 'resemble-scrape-kill-'));
    // A slow-ish polite source, so every run is still busy when the kill lands.
    const source = csvSource(site.url, { minTimeMs: 25, concurrency: 4, perHostConcurrency: 2 });
    sourcesFile = join(dataDir, 'sources.json');
    writeFileSync(
      sourcesFile,
      JSON.stringify({ defaultSource: source.name, userAgent: USER_AGENT, sources: [source] }),
    );
    env = { DATA_DIR: dataDir };
    const baseline = await runScrape({
      dataDir,
      source: csvSource(site.url),
      userAgent: USER_AGENT,
      codes: site.codes,
      log: captureLogger().log,
    });
    expect(baseline.report.success).toBe(true);
    for (const code of site.codes) oldRows.set(code, asRows(site.published(code)));
    site.setAsOf(NEW_AS_OF);
    for (const code of site.codes) newRows.set(code, asRows(site.published(code)));
  });
  afterAll(async () => {
    await site.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function checkEveryFile(): { old: number; new: number } {
    const counts = { old: 0, new: 0 };
    for (const code of site.codes) {
      const f = fileRows(join(dataDir, 'entities', `${code}.sqlite`));
      expect(f.integrity, code).toBe('ok');
      expect(f.distinct, code).toBe(f.rows.length);
      const isOld = f.rows.length === oldRows.get(code)!.length;
      expect(f.rows, code).toEqual(isOld ? oldRows.get(code) : newRows.get(code));
      counts[isOld ? 'old' : 'new']++;
    }
    return counts;
  }

  it(`leaves every file old or new after ${KILLS} kills, and a re-run completes without duplicates`, async () => {
    const rand = mulberry32(20261122);
    let killed = 0;
    let mixed = 0;
    const seen: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      const exit = await runCli(['--sources', sourcesFile], env, Math.floor(rand() * 1500));
      if (exit.signal === 'SIGKILL') killed++;
      const c = checkEveryFile();
      seen.push(`${exit.signal ?? exit.code}:${c.old}/${c.new}`);
      if (c.old > 0 && c.new > 0) mixed++;
    }
    console.log(`kill loop (signal or exit code: old/new files): ${seen.join(' ')}`);
    expect(killed).toBeGreaterThanOrEqual(10);
    // The kills really landed mid-run: some stocks already new, others still old.
    expect(mixed).toBeGreaterThan(0);

    // Resume: the run picks up the killed run's checkpoint and fetches only the stocks it had not done.
    const cpFile = checkpointPath(dataDir, 'fixture-csv');
    const checkpoint = existsSync(cpFile)
      ? checkpointSchema.parse(JSON.parse(readFileSync(cpFile, 'utf8')))
      : null;
    const hitsBefore = site.hits.length;
    const final = await runCli(['--sources', sourcesFile], env);
    expect(final.code, final.stderr).toBe(0);
    const summary = JSON.parse(final.stdout.trim().split('\n').at(-1)!) as { report: string };
    expect(summary).toMatchObject({ success: true, failed: 0, ok: STOCKS });
    if (checkpoint) {
      expect(summary.report).toBe(join(dataDir, 'runs', `${checkpoint.id}.json`));
      const fetched = site.hits.slice(hitsBefore).filter((h) => h.path.startsWith('/csv/'));
      expect(fetched).toHaveLength(STOCKS - checkpoint.ok.length);
    }
    expect(checkEveryFile()).toEqual({ old: 0, new: STOCKS });
    expect(existsSync(checkpointPath(dataDir, 'fixture-csv'))).toBe(false);
    expect(readdirSync(join(dataDir, 'entities')).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const catalog = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
    try {
      const entries = catalog
        .prepare('SELECT code, row_count, last_date FROM entities ORDER BY code')
        .all() as { code: string; row_count: number; last_date: string }[];
      expect(entries).toHaveLength(STOCKS);
      for (const e of entries) {
        expect(e.row_count).toBe(newRows.get(e.code)!.length);
        expect(e.last_date).toBe(newRows.get(e.code)!.at(-1)![0]);
      }
    } finally {
      catalog.close();
    }
  }, 180_000);

  it('exits 1 when a stock fails and 2 on bad usage, with a clear message', async () => {
    const failed = await runCli(['--sources', sourcesFile, '--codes', 'S0001,NOPE'], env);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout.trim())).toMatchObject({ ok: 1, failed: 1, success: false });
    const bad = await runCli(['--sources', sourcesFile, '--codes', '../etc'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid code\(s\) "\.\.\/etc"/);
    const badDate = await runCli(['--sources', sourcesFile, '--since', '2017-02-30'], env);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/--since must be a real date/);
    const badSource = await runCli(['--sources', sourcesFile, '--source', 'nope'], env);
    expect(badSource.code).toBe(2);
    expect(badSource.stderr).toMatch(/unknown source "nope"/);
  }, 60_000);

  it('--schedule keeps running, scrapes on each cron tick and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        '--sources',
        sourcesFile,
        '--codes',
        'S0001,S0002',
        '--schedule',
        '*/2 * * * * *',
      ],
      {
        env: { ...process.env, LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    await new Promise<void>((ok) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.trim().split('\n').length >= 2) ok();
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const runs = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { report: string; success: boolean });
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(new Set(runs.map((r) => r.report)).size).toBe(runs.length);
    expect(runs.every((r) => r.success)).toBe(true);
    expect(stderr).toMatch(/"msg":"scheduler started"/);
  }, 90_000);
});
