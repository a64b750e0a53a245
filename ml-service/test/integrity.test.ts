/**
 * Data it cannot read never takes everything down: at start a damaged entity file is left out and the
 * rest serve (named in /health), on a reload a damaged file refuses the new version and the old serves on.
 * Two kinds of damage: a `prices` b-tree page overwritten (SQLite refuses it) and a byte changed where
 * SQLite never looks when reading prices (only the catalog's sha256 catches it).
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ENTITIES_DIR, entityFileName, errorBodySchema, mlHealthSchema } from '@resemble/contracts';
import { loadMarketData, MarketDataError } from '../src/market/market-data.js';
import { market, start, type Running } from './support/http-service.js';
import { writeCatalog, writeStore, type FixtureEntity } from './support/write-store.js';

const file = (dir: string, code: string) => join(dir, ENTITIES_DIR, entityFileName(code));

/** Overwrites the root page of the file's prices b-tree with garbage. */
function breakPricesBtree(path: string): void {
  const db = new Database(path, { readonly: true });
  const root = (
    db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'prices'").get() as { rootpage: number }
  ).rootpage;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const bytes = readFileSync(path);
  bytes.fill(0xa5, (root - 1) * pageSize + 8, root * pageSize);
  writeFileSync(path, bytes);
}

/** Changes one letter of the entity's name in its meta table: prices stay readable, the hash does not. */
function flipNameByte(path: string, name: string): void {
  const bytes = readFileSync(path);
  const at = bytes.indexOf(Buffer.from(name));
  expect(at).toBeGreaterThan(0);
  bytes[at] = bytes[at]! ^ 0x20;
  writeFileSync(path, bytes);
}

describe('entity files that fail their checks', () => {
  const dirs: string[] = [];
  let svc: Running | null = null;
  afterEach(async () => {
    await svc?.close();
    svc = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const storeWith = (fx: FixtureEntity[], version: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-integrity-'));
    dirs.push(dir);
    writeStore(dir, fx, version);
    return dir;
  };

  it('are left out at start while the rest serve, and /health names them', async () => {
    const fx = market(41, 5, 900);
    const dir = storeWith(fx, 'v1');
    breakPricesBtree(file(dir, 'S001'));
    flipNameByte(file(dir, 'S003'), 'Stock 3 Holdings');
    // The second file's prices still read without complaint: only its hash can tell.
    const db = new Database(file(dir, 'S003'), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM prices').get()).toEqual({ n: 900 });
    db.close();

    svc = await start(dir, { workers: 2 });
    const res = await fetch(`${svc.url}/health`);
    expect(res.status).toBe(200);
    const h = mlHealthSchema.parse(await res.json());
    expect(h).toMatchObject({ status: 'ready', dataVersion: 'v1', entities: 3, points: 3 * 900 });
    expect(h.skippedEntities!.map((s) => s.code)).toEqual(['S001', 'S003']);
    expect(h.skippedEntities![0]!.reason).toMatch(/S001/);
    expect(h.skippedEntities![1]!.reason).toMatch(/S003: the file's sha256 .* differs from the catalog's/);

    const post = (body: unknown) =>
      fetch(`${svc!.url}/v1/similar`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await post({ query: { code: 'S002', start: fx[2]!.dates[10], end: fx[2]!.dates[59] } });
    expect(ok.status).toBe(200);
    const codes = ((await ok.json()) as { matches: { code: string }[] }).matches.map((m) => m.code);
    expect(codes.every((c) => c === 'S000' || c === 'S002' || c === 'S004')).toBe(true);
    const gone = await post({ query: { code: 'S001', start: fx[1]!.dates[10], end: fx[1]!.dates[59] } });
    expect(gone.status).toBe(404);
    expect(errorBodySchema.parse(await gone.json()).error.message).toMatch(/S001/);
  });

  it('refuse a reload: the old version keeps serving and lastReloadError says why', async () => {
    const fx = market(42, 4, 900);
    const dir = storeWith(fx, 'v1');
    svc = await start(dir, { workers: 2 });
    const next = market(43, 4, 900);
    writeStore(dir, next, 'v2');
    breakPricesBtree(file(dir, 'S002'));
    await svc.state.checkVersion();
    let h = mlHealthSchema.parse(await (await fetch(`${svc.url}/health`)).json());
    expect(h).toMatchObject({ status: 'ready', dataVersion: 'v1', entities: 4, skippedEntities: [] });
    expect(h.lastReloadError).toMatch(/data version v2 refused: 1 entity failed to load \(.*S002/);

    // v3: every file reads, one differs from its published hash (the files are written anew: the writer
    // cannot open the broken one).
    rmSync(join(dir, ENTITIES_DIR), { recursive: true });
    writeStore(dir, market(44, 4, 900), 'v3');
    flipNameByte(file(dir, 'S000'), 'Stock 0 Holdings');
    await svc.state.checkVersion();
    h = mlHealthSchema.parse(await (await fetch(`${svc.url}/health`)).json());
    expect(h.dataVersion).toBe('v1');
    expect(h.lastReloadError).toMatch(/v3 refused: .*S000: the file's sha256/);

    // Repaired (catalog rewritten for the files as they are now, under a new version): it loads.
    rmSync(join(dir, ENTITIES_DIR), { recursive: true });
    writeStore(dir, next, 'v4');
    await svc.state.checkVersion();
    h = mlHealthSchema.parse(await (await fetch(`${svc.url}/health`)).json());
    expect(h).toMatchObject({ dataVersion: 'v4', entities: 4, lastReloadError: null });
  });

  it('in-process: refuses by default, skips when asked', () => {
    const fx = market(45, 3, 600);
    const dir = storeWith(fx, 'v1');
    flipNameByte(file(dir, 'S001'), 'Stock 1 Holdings');
    expect(() => loadMarketData(dir)).toThrow(MarketDataError);
    const data = loadMarketData(dir, { skipBad: true });
    expect(data.codes).toEqual(['S000', 'S002']);
    expect(data.skipped!.map((s) => s.code)).toEqual(['S001']);
    // A catalog rewritten for the file as it is now accepts it again.
    writeCatalog(dir, fx, 'v2');
    expect(loadMarketData(dir).codes).toEqual(['S000', 'S001', 'S002']);
  });
});
