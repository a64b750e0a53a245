/**
 * Real engines for cross-service tests, from Debian (scripts/setup.sh installs them), each started on a
 * free loopback port with its files in a temp dir and stopped by the test: redis-server without
 * persistence, and nginx as the reverse proxy in front of several backend replicas.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/processes.js';

export interface Engine {
  url: string;
  stop(): Promise<void>;
}

function spawnEngine(command: string, args: string[], what: string) {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  let spawnError: Error | null = null;
  child.once(
    'error',
    (err) => (spawnError = new Error(`${what} did not start (run scripts/setup.sh): ${err.message}`)),
  );
  return {
    child,
    exited,
    output: () => output,
    failed: () =>
      spawnError ??
      (child.exitCode !== null ? new Error(`${what} exited (${child.exitCode}):\n${output}`) : null),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function until(
  ready: () => Promise<boolean> | boolean,
  failed: () => Error | null,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const err = failed();
    if (err) throw err;
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<Engine> {
  const port = await freePort();
  const p = spawnEngine(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    'redis-server',
  );
  try {
    await until(() => p.output().includes('Ready to accept connections'), p.failed, 'redis-server');
  } catch (err) {
    await p.stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, stop: p.stop };
}

export interface Nginx extends Engine {
  /** One line per request: method, path, status, the upstreams tried and their statuses. */
  accessLog(): AccessLine[];
}

export interface AccessLine {
  method: string;
  path: string;
  status: number;
  /** Every upstream nginx tried, in order (more than one: the request was retried on the next). */
  upstreams: string[];
  upstreamStatuses: string[];
}

/**
 * nginx balancing `upstreams` (host:port) round robin over kept-alive connections, as deploy/'s proxy
 * does: a replica that refuses connections or fails is skipped and the request passed to the next one
 * (`proxy_next_upstream error timeout`; nginx never passes on a POST it has already sent, so a write is
 * never applied twice), and SSE streams are not buffered. Each response names the replica that
 * answered it (x-upstream). max_fails=0: a dead replica is never taken out of the rotation, so every
 * request sent its way after it died shows the retry (a refused connection on loopback costs nothing);
 * a production proxy would mark it down for fail_timeout instead.
 */
export async function startNginx(upstreams: string[]): Promise<Nginx> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'resemble-nginx-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  chmodSync(dir, 0o755);
  const log = join(dir, 'access.log');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `# Ephemeral test proxy; as root its worker stays root so it can use this private temp dir.
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  log_format replicas '$request_method $uri $status "$upstream_addr" "$upstream_status"';
  upstream backend {
    # The replica with fewer requests in flight, as deploy/'s scale proxy does: a replica that a GC pause
    # or a busy core slows gets fewer new requests meanwhile (round robin gave it half of them).
    least_conn;
${upstreams.map((u) => `    server ${u} max_fails=0;`).join('\n')}
    # Idle connections to the replicas kept open, as deploy/'s scale proxy does (keepalive 32): without
    # them every request opened and closed a TCP connection to a backend.
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    access_log ${log} replicas;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
      add_header x-upstream $upstream_addr always;
    }
  }
}
`,
  );
  const p = spawnEngine('nginx', ['-e', join(dir, 'error.log'), '-p', dir, '-c', conf], 'nginx');
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(
      async () => {
        try {
          await fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) });
          return true;
        } catch {
          return false;
        }
      },
      () => {
        const err = p.failed();
        return err && new Error(`${err.message}\n${safeRead(join(dir, 'error.log'))}`);
      },
      'nginx',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    stop,
    accessLog: () =>
      safeRead(log)
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const m = /^(\S+) (\S+) (\d+) "([^"]*)" "([^"]*)"$/.exec(line);
          if (!m) throw new Error(`unreadable access log line: ${line}`);
          return {
            method: m[1],
            path: m[2],
            status: Number(m[3]),
            upstreams: m[4].split(', ').filter((s) => s && s !== '-'),
            upstreamStatuses: m[5].split(', ').filter((s) => s && s !== '-'),
          };
        }),
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
