import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const server = resolve(import.meta.dirname, '../src/server.ts');

/**
 * Started as `npm start` and the image start it: one node process with tsx's loader. Not through the
 * tsx CLI, which runs the server in a child and relays SIGTERM to it, then SIGKILLs the child unless it
 * acknowledges within 30 ms: on a loaded machine that killed the server mid-shutdown (exit 143).
 */
function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', server], {
    cwd: resolve(import.meta.dirname, '..'),
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
      // The signal reaches the server itself, not a wrapper that relays it (and may SIGKILL it).
      expect(/"pid":(\d+)/.exec(p.output())?.[1]).toBe(String(p.child.pid));
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
