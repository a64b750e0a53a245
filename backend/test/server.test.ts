import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
const server = resolve(import.meta.dirname, '../src/server.ts');

function run(env: Record<string, string>) {
  const child = spawn(tsx, [server], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  return { child, exited, output: () => out };
}

describe('server.ts', () => {
  it('refuses to start on a bad env, listing every bad key', async () => {
    const p = run({ PORT: 'eighty', ML_URL: 'nope', NODE_ENV: 'production' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/PORT/);
    expect(p.output()).toMatch(/ML_URL/);
  });

  it('starts, serves, and shuts down gracefully on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resemble-server-'));
    try {
      const p = run({
        PORT: '0',
        APP_DB: join(dir, 'app.sqlite'),
        ML_URL: 'http://127.0.0.1:9',
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        ALERT_POLL_SECONDS: '3600',
      });
      const deadline = Date.now() + 30_000;
      let address = '';
      while (!address && Date.now() < deadline) {
        address = /"address":"([\d.]+:\d+)"/.exec(p.output())?.[1] ?? '';
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(address, p.output()).not.toBe('');
      const health = await (await fetch(`http://${address}/api/v1/health`)).json();
      expect(health).toMatchObject({ status: 'ok', ml: 'down' });
      p.child.kill('SIGTERM');
      expect(await p.exited, p.output()).toBe(0);
      expect(p.output()).toMatch(/"msg":"bye"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
