import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, WRITER_LOCK_FILE, WriterLockedError } from './index.js';
import { SCRAPER_DIR, makeRows, tempDir } from '../../test/helpers.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe('the writer lock', () => {
  it('refuses a second writer process while the first is alive and takes over once it is killed', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/hold-store.ts', t.dir], {
      cwd: SCRAPER_DIR,
    });
    cleanups.push(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    let error: unknown;
    try {
      openStore(t.dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WriterLockedError);
    expect((error as Error).message).toMatch(new RegExp(`another process \\(pid ${child.pid}\\)`));
    // Readers are never blocked.
    openStore(t.dir, { readonly: true }).close();

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const store = openStore(t.dir);
    expect(store.writeEntity({ code: 'AFTER' }, makeRows(3)).changed).toBe(true);
    store.close();
    expect(existsSync(join(t.dir, WRITER_LOCK_FILE))).toBe(false);
  });

  it('lets several stores of one process share a DATA_DIR and removes the lock after the last close', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const a = openStore(t.dir);
    const b = openStore(t.dir);
    a.writeEntity({ code: 'A' }, makeRows(3));
    a.close();
    expect(existsSync(join(t.dir, WRITER_LOCK_FILE))).toBe(true);
    b.writeEntity({ code: 'B' }, makeRows(3));
    expect(b.listCatalog().map((e) => e.code)).toEqual(['A', 'B']);
    b.close();
    expect(existsSync(join(t.dir, WRITER_LOCK_FILE))).toBe(false);
  });
});
