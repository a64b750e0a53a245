import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpointer } from '../src/db/checkpointer.js';
import { openDb, type Db } from '../src/db/db.js';

describe('WAL checkpoints in a worker thread', () => {
  let dir = '';
  let db: Db | null = null;
  let cp: Checkpointer | null = null;
  afterEach(async () => {
    await cp?.stop();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
    cp = null;
    db = null;
  });

  const open = async (everyMs: number) => {
    dir = mkdtempSync(join(tmpdir(), 'backend-wal-'));
    const file = join(dir, 'app.sqlite');
    db = await openDb(file);
    cp = new Checkpointer(db, file, pino({ level: 'silent' }), everyMs);
    return file;
  };
  let written = 0;
  // New rows each time, so copying the WAL back grows the database file (the observable here).
  const write = (n: number) => {
    db!.exec('CREATE TABLE IF NOT EXISTS hits (k TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const bump = db!.prepare('INSERT INTO hits (k, n) VALUES (?, 1) ON CONFLICT(k) DO UPDATE SET n = n + 1');
    for (let i = 0; i < n; i++) bump.run(`key-${written++}`);
  };
  const autoPages = () => db!.pragma('wal_autocheckpoint', { simple: true });

  it('turns the on-commit checkpoint off and copies the WAL into the database from the worker', async () => {
    const file = await open(60_000); // no timed run during the test: only the one asked for
    expect(autoPages()).toBe(0);
    write(1); // the table itself
    await cp!.checkpointNow();
    const before = statSync(file).size;
    write(3000);
    // Without the worker nothing has reached the database file yet: commits only append to the WAL.
    expect(statSync(file).size).toBe(before);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    const r = await cp!.checkpointNow();
    expect(r.busy).toBe(0);
    expect(r.log).toBeGreaterThan(0);
    expect(r.checkpointed).toBe(r.log);
    expect(statSync(file).size).toBeGreaterThan(before);
    const sum = db!.prepare('SELECT SUM(n) AS n FROM hits').get() as { n: number };
    expect(sum.n).toBe(3001);
  });

  it('runs on its own timer', async () => {
    const file = await open(50);
    write(1);
    await cp!.checkpointNow();
    const before = statSync(file).size;
    write(2000);
    const deadline = Date.now() + 10_000;
    while (statSync(file).size === before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(statSync(file).size).toBeGreaterThan(before);
  });

  it('gives checkpoints back to SQLite if the worker dies', async () => {
    await open(60_000);
    expect(autoPages()).toBe(0);
    const asked = cp!.checkpointNow();
    await cp!.kill();
    await new Promise((r) => setTimeout(r, 50));
    expect(autoPages()).toBe(1000);
    // Asked before or after it died, a checkpoint is answered (run, or not run) instead of never.
    expect([0, 1]).toContain((await asked).busy);
    expect(await cp!.checkpointNow()).toEqual({ busy: 1, log: -1, checkpointed: -1 });
  });
});
