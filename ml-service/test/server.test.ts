/**
 * The real process: config errors, start-up on a free port, SIGHUP reload, clean SIGTERM. Started as
 * `node --import tsx` like `npm run start` (the tsx CLI would not relay SIGHUP to its child).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mlHealthSchema } from '@resemble/contracts';
import { ConfigError, loadConfig } from '../src/config.js';
import { dtwKernel } from '../src/kernels/dtw-search.js';
import { nativeZscan } from '../src/kernels/ed-native.js';
import { businessDays, randomWalk, rng, writeStore } from './support/write-store.js';

const root = resolve(import.meta.dirname, '../..');

/** Preloaded to make a failure happen for real in the process (see the file). */
const FAULTS = ['--import', './ml-service/test/support/faults.ts'];

function run(env: Record<string, string>, preload: string[] = []): { child: ChildProcess; out: string[] } {
  const out: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload, 'ml-service/src/server.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  child.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
  return { child, out };
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The process's pino JSON lines (other output skipped). */
function logLines(out: string[]): Array<Record<string, unknown>> {
  return out
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const listeningPort = (out: string[]) => () => {
  const m = /"port":(\d+)/.exec(out.join(''));
  return m ? Number(m[1]) : undefined;
};

describe('config', () => {
  it('lists every bad key at once', () => {
    expect(() => loadConfig({ ML_PORT: 'x', LOG_LEVEL: 'loud', ML_SEARCH_WORKERS: '-1' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ ML_PORT: 'x', LOG_LEVEL: 'loud', ML_SEARCH_WORKERS: '-1' });
    } catch (err) {
      const msg = (err as Error).message;
      for (const key of ['ML_PORT', 'LOG_LEVEL', 'ML_SEARCH_WORKERS']) expect(msg).toContain(key);
    }
    expect(loadConfig({}).ML_PORT).toBe(8001);
    expect(loadConfig({}).DATA_DIR).toBe(join(root, 'data'));
  });
});

describe('server process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-srv-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits with the reasons on a bad environment', async () => {
    const { child, out } = run({ ML_PORT: 'not-a-port', DATA_DIR: dir });
    children.push(child);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(out.join('')).toContain('ML_PORT');
  });

  it('takes the kernel ML_KERNEL names (wasm here), logs it and shows it in /health', async () => {
    writeStore(
      dir,
      [{ code: 'AB', dates: businessDays('2020-01-01', 50), closes: randomWalk(rng(3), 50) }],
      'k',
    );
    const { child, out } = run({
      ML_PORT: '0',
      DATA_DIR: dir,
      MODELS_DIR: join(dir, 'models'),
      ML_CACHE_DIR: 'off',
      ML_SEARCH_WORKERS: '0',
      ML_KERNEL: 'wasm',
      LOG_LEVEL: 'info',
    });
    children.push(child);
    const port = await until('the listening log line', () => {
      const m = /"port":(\d+)/.exec(out.join(''));
      return m ? Number(m[1]) : undefined;
    });
    expect(out.join('')).toMatch(/"zned":"wasm-simd".*"preference":"wasm".*search kernels chosen/);
    const h = mlHealthSchema.parse(await (await fetch(`http://127.0.0.1:${port}/health`)).json());
    expect(h.kernel).toEqual({ zned: 'wasm-simd', dtw: dtwKernel().name });
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => child.on('exit', r))).toBe(0);
  }, 120_000);

  for (const [fault, msg] of [
    ['throw', 'uncaught exception; exiting'],
    ['reject', 'unhandled rejection; exiting'],
  ] as const) {
    it(`logs an ${fault === 'throw' ? 'uncaught exception' : 'unhandled rejection'} as fatal and exits 1`, async () => {
      writeStore(
        dir,
        [{ code: 'AB', dates: businessDays('2020-01-01', 50), closes: randomWalk(rng(3), 50) }],
        'x',
      );
      const { child, out } = run(
        {
          ML_PORT: '0',
          DATA_DIR: dir,
          MODELS_DIR: join(dir, 'models'),
          ML_CACHE_DIR: 'off',
          ML_SEARCH_WORKERS: '0',
          ML_TEST_FAULT_ON_SIGUSR2: fault,
        },
        FAULTS,
      );
      children.push(child);
      await until('the listening log line', listeningPort(out));
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      child.kill('SIGUSR2');
      // Exits although its server still listens (the supervisor restarts it), after saying why in the log.
      expect(await exited, out.join('')).toBe(1);
      const fatal = logLines(out).filter((l) => l.level === 60);
      expect(fatal, out.join('')).toHaveLength(1);
      expect(fatal[0]).toMatchObject({
        msg,
        service: 'ml-service',
        err: { message: `deliberate ${fault} from the test` },
      });
      expect((fatal[0]!.err as { stack: string }).stack).toContain('faults.ts');
    }, 120_000);
  }

  it('warns, with the reason, when the native addons do not load, and searches on WASM', async () => {
    const random = rng(7);
    writeStore(
      dir,
      ['AB', 'CD', 'EF'].map((code) => ({
        code,
        dates: businessDays('2020-01-01', 300),
        closes: randomWalk(random, 300),
      })),
      'no-addons',
    );
    const env = {
      ML_PORT: '0',
      DATA_DIR: dir,
      MODELS_DIR: join(dir, 'models'),
      ML_CACHE_DIR: 'off',
      ML_SEARCH_WORKERS: '1',
      ML_KERNEL: 'auto',
      ML_DTW_KERNEL: '',
      ML_TOKEN: 'secret-token',
      LOG_LEVEL: 'info',
      ML_TEST_NO_ADDONS: '1',
    };
    const { child, out } = run(env, FAULTS);
    children.push(child);
    const port = await until('the listening log line', listeningPort(out));
    const warns = logLines(out).filter((l) => l.level === 40);
    const why = /libdeliberately-missing\.so\.1/;
    const zned = warns.find((l) =>
      /^the native zscan addon did not load \(.*\); zned search runs on the WASM kernel$/.test(String(l.msg)),
    );
    expect(zned?.msg, out.join('')).toMatch(why);
    expect(zned).toMatchObject({ kernel: { zned: 'wasm-simd', dtw: 'wasm' } });
    const dtw = warns.find((l) => String(l.msg).startsWith('the native DTW kernel'));
    expect(dtw, out.join('')).toMatchObject({ kernel: 'wasm' });
    expect(String(dtw!.reason)).toMatch(why);
    const store = warns.find((l) => String(l.msg).startsWith('the native store reader did not load'));
    expect(String(store?.reason), out.join('')).toMatch(why);
    // And it serves, on the kernels it said: /health, then a zned and a DTW search on the search worker.
    const headers = { authorization: 'Bearer secret-token', 'content-type': 'application/json' };
    const health = async () =>
      mlHealthSchema.parse(await (await fetch(`http://127.0.0.1:${port}/health`, { headers })).json());
    await until('ready', async () => {
      const h = await health();
      if (h.status === 'error') throw new Error(`load failed: ${h.lastReloadError}`);
      return h.status === 'ready' ? true : undefined;
    });
    expect((await health()).kernel).toEqual({ zned: 'wasm-simd', dtw: 'wasm' });
    for (const metric of ['zned', 'dtw']) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/similar`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          query: { code: 'AB', start: '2020-03-02', end: '2020-04-10' },
          topK: 3,
          horizon: 5,
          metric,
        }),
      });
      const body = (await res.json()) as { matches: unknown[] };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.matches.length).toBeGreaterThan(0);
    }
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => child.on('exit', r))).toBe(0);

    // Asked for by name, a native kernel that cannot load is a start-up error, not a quiet fallback.
    const strict = run({ ...env, ML_KERNEL: 'native' }, FAULTS);
    children.push(strict.child);
    expect(await new Promise<number | null>((r) => strict.child.on('exit', r))).toBe(2);
    const fatal = logLines(strict.out).find((l) => l.level === 60);
    expect(String(fatal?.msg), strict.out.join('')).toMatch(
      /^ML_KERNEL=native but the native zscan addon did not load \(.*libdeliberately-missing/,
    );
  }, 120_000);

  it('starts, reloads on SIGHUP, stops on SIGTERM', async () => {
    const random = rng(5);
    const mk = (n: number) =>
      ['AB', 'CD', 'EF'].map((code) => ({
        code,
        dates: businessDays('2020-01-01', n),
        closes: randomWalk(random, n),
      }));
    writeStore(dir, mk(300), 'first');
    const { child, out } = run({
      ML_PORT: '0',
      DATA_DIR: dir,
      MODELS_DIR: join(dir, 'models'),
      ML_RELOAD_INTERVAL_MS: '0',
      ML_CACHE_DIR: join(dir, 'cache'),
      ML_SEARCH_WORKERS: '1',
      LOG_LEVEL: 'info',
    });
    children.push(child);
    const port = await until('the listening log line', () => {
      const m = /"port":(\d+)/.exec(out.join(''));
      return m ? Number(m[1]) : undefined;
    });
    const health = async () =>
      mlHealthSchema.parse(await (await fetch(`http://127.0.0.1:${port}/health`)).json());
    await until('ready', async () => ((await health()).status === 'ready' ? true : undefined));
    expect((await health()).dataVersion).toBe('first');
    // The kernel chosen once at start, logged and shown in /health (native where the addon loads).
    const zned = nativeZscan() ? 'native-avx2' : 'wasm-simd';
    expect((await health()).kernel).toEqual({ zned, dtw: dtwKernel().name });
    expect(out.join('')).toMatch(new RegExp(`"zned":"${zned}".*search kernels chosen`));
    writeStore(dir, mk(320), 'second');
    child.kill('SIGHUP');
    const h = await until('the reload: ' + out.join(''), async () => {
      const x = await health();
      return x.dataVersion === 'second' ? x : undefined;
    });
    expect(h.points).toBe(3 * 320);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, out.join('')).toBe(0);
  }, 120_000);
});
