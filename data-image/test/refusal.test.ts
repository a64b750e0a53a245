import { spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataImage } from '../src/build.js';
import { StoreRejectedError } from '../src/store-check.js';
import { codesFor, makeStore, writeCatalog } from './support/store-fixture.js';
import { sha256 } from './support/tools.js';

const CODES = codesFor(6);
let root: string;
let pristine: string;
let n = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'data-image-refuse-'));
  pristine = join(root, 'pristine');
  makeStore(pristine, CODES, 400);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh copy of the valid store, broken by `damage`, then built; returns the refusal's problems. */
async function refusal(damage: (dir: string) => void): Promise<string[]> {
  const dir = join(root, `case-${n++}`);
  cpSync(pristine, dir, { recursive: true });
  damage(dir);
  const outDir = join(dir, '..', `out-${n}`);
  try {
    await buildDataImage({ dataDir: dir, out: join(outDir, 'img.tar'), tag: 'x' });
  } catch (err) {
    expect(err).toBeInstanceOf(StoreRejectedError);
    // Atomic output: a refused build leaves nothing behind, not even temp files.
    expect(existsSync(outDir) ? readdirSync(outDir) : []).toEqual([]);
    return (err as StoreRejectedError).problems;
  }
  throw new Error('the build was expected to be refused');
}

const entity = (dir: string, code = CODES[1]) => join(dir, 'entities', `${code}.sqlite`);

describe('input refused by the data image builder', () => {
  it('accepts the untouched store (so the refusals below are caused by the damage)', async () => {
    const r = await buildDataImage({ dataDir: pristine, out: join(root, 'ok', 'img.tar'), tag: 'ok' });
    expect(r.store.entities.map((e) => e.code)).toEqual([...CODES].sort());
  });

  it('a file that fails PRAGMA integrity_check, even when its sha256 matches the catalog', async () => {
    const problems = await refusal((dir) => {
      const path = entity(dir);
      const size = statSync(path).size;
      expect(size).toBeGreaterThan(4 * 4096);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 2 * 4096);
      closeSync(fd);
      const catalog = new Database(join(dir, 'catalog.sqlite'));
      catalog.prepare('UPDATE entities SET sha256 = ? WHERE code = ?').run(sha256(path), CODES[1]);
      catalog.close();
    });
    expect(problems.join('\n')).toMatch(
      new RegExp(`${CODES[1].replace('.', '\\.')}\\.sqlite: (PRAGMA integrity_check failed|cannot be read)`),
    );
  });

  it('a file changed after the catalog was written (sha256 mismatch)', async () => {
    const problems = await refusal((dir) => {
      const db = new Database(entity(dir));
      db.prepare("UPDATE prices SET close = close * 2 WHERE date = '2020-01-02'").run();
      db.close();
    });
    expect(problems).toEqual([expect.stringMatching(/sha256 [0-9a-f]{64} does not match the catalog's/)]);
  });

  it('catalog rows and files that do not match one to one', async () => {
    const problems = await refusal((dir) => {
      rmSync(entity(dir, CODES[2]));
      cpSync(entity(dir, CODES[3]), entity(dir, 'EXTRA'));
    });
    expect(problems).toContain(`entities/${CODES[2]}.sqlite: listed in the catalog but missing`);
    expect(problems).toContain('entities/EXTRA.sqlite: has no catalog row');
  });

  it('a file name that is not a valid entity code', async () => {
    const problems = await refusal((dir) => writeFileSync(join(dir, 'entities', '-bad code.sqlite'), 'x'));
    expect(problems.join('\n')).toMatch(/entities\/-bad code\.sqlite: not <CODE>\.sqlite/);
  });

  it('an entity file missing a table of the contract DDL', async () => {
    const problems = await refusal((dir) => {
      const db = new Database(entity(dir));
      db.exec('DROP TABLE adjustments');
      db.close();
      writeCatalog(dir);
    });
    expect(problems.join('\n')).toMatch(/table "adjustments" is missing/);
  });

  it('a catalog whose row count disagrees with the file', async () => {
    const problems = await refusal((dir) => {
      const db = new Database(join(dir, 'catalog.sqlite'));
      db.prepare('UPDATE entities SET row_count = row_count + 1 WHERE code = ?').run(CODES[4]);
      db.close();
    });
    expect(problems).toEqual([`entities/${CODES[4]}.sqlite: has 400 price rows, the catalog says 401`]);
  });

  it('an entity file in WAL mode (cannot be opened from a read-only mount)', async () => {
    const problems = await refusal((dir) => {
      const db = new Database(entity(dir));
      db.pragma('journal_mode = WAL');
      db.close();
      writeCatalog(dir);
    });
    expect(problems.join('\n')).toMatch(/WAL journal mode/);
  });

  it('a catalog with a pending publish intent (interrupted writer) or a bad code in a row', async () => {
    const problems = await refusal((dir) => {
      const db = new Database(join(dir, 'catalog.sqlite'));
      db.exec(
        'CREATE TABLE publish_log (code TEXT PRIMARY KEY, sha256 TEXT NOT NULL, started_at TEXT NOT NULL) WITHOUT ROWID',
      );
      db.prepare("INSERT INTO publish_log VALUES (?, 'x', 'now')").run(CODES[0]);
      db.prepare("UPDATE entities SET first_date = '2020-13-01' WHERE code = ?").run(CODES[5]);
      db.close();
    });
    expect(problems.join('\n')).toMatch(/interrupted publish left intents for T000\.T/);
    expect(problems.join('\n')).toMatch(new RegExp(`row "${CODES[5]}" breaks the contract \\(first_date`));
  });

  it('an invalid run report and a catalog that is not SQLite', async () => {
    const problems = await refusal((dir) => {
      writeFileSync(join(dir, 'runs', 'broken.json'), '{"id": 1}');
      renameSync(join(dir, 'catalog.sqlite'), join(dir, 'catalog.bak'));
      writeFileSync(join(dir, 'catalog.sqlite'), 'not a database at all, just text that is long enough');
    });
    expect(problems).toContain('catalog.sqlite: not an SQLite database (bad header)');
    expect(problems.join('\n')).toMatch(/runs\/broken\.json: not a valid run report/);
  });

  it('the CLI prints the problems and exits non-zero; bad arguments print the usage', () => {
    const dir = join(root, 'cli-case');
    cpSync(pristine, dir, { recursive: true });
    rmSync(entity(dir));
    const cli = resolve(import.meta.dirname, '../src/build.cli.ts');
    const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
    const refused = spawnSync(tsx, [cli, '--data', dir, '--out', join(root, 'cli-out', 'img.tar')], {
      encoding: 'utf8',
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/data directory refused \(1 problem\(s\)\)/);
    expect(refused.stderr).toMatch(/listed in the catalog but missing/);
    expect(existsSync(join(root, 'cli-out', 'img.tar'))).toBe(false);
    const usage = spawnSync(tsx, [cli, '--out', 'x.tar'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--data DIR is required/);
  });
});
