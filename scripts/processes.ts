/**
 * Child-process helpers shared by the test harness and `npm start`: free loopback ports, spawning a
 * TypeScript entry point with tsx, waiting for a health URL, and stopping a process tree politely.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..');
export const tsxBin = resolve(repoRoot, 'node_modules', '.bin', 'tsx');

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

export interface Managed {
  name: string;
  child: ChildProcess;
  /** Last lines of output, shown when the process fails to become healthy. */
  tail: string[];
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  opts: { inherit?: boolean } = {},
): Managed {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development', ...env },
    stdio: opts.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name, child, tail };
}

export async function waitForHealthy(m: Managed, url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (m.child.exitCode !== null || m.child.signalCode !== null) {
      throw new Error(`${m.name} exited (${m.child.exitCode ?? m.child.signalCode}) before it was healthy:\n${m.tail.join('\n')}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${m.name} not healthy at ${url} after ${timeoutMs} ms (${last}):\n${m.tail.join('\n')}`);
}

export async function stopProcess(m: Managed, graceMs = 5_000): Promise<void> {
  const { child } = m;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to completion; rejects with its output when it fails. */
export function runToEnd(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}
