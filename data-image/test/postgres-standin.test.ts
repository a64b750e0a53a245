/**
 * The PostgreSQL stand-in of the scale stack (deploy/containers/postgres-entrypoint.sh, the entrypoint of
 * postgres-base.Containerfile): run on this machine with Debian's PostgreSQL 15, as its image runs it (user
 * postgres, an empty PGDATA, POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB). A first start creates the
 * role and database with password authentication over TCP; a second start keeps the data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const entrypoint = resolve(import.meta.dirname, '../../deploy/containers/postgres-entrypoint.sh');
const bin = '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'pg-standin-'));
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });
}

/** Starts the entrypoint as the image would (as user postgres when this runs as root); resolves once ready. */
async function start(port: number, log: string): Promise<void> {
  const env = [
    `PATH=${bin}:/usr/bin:/bin`,
    `PGDATA=${dir}/volume/pgdata`,
    'POSTGRES_USER=resemble',
    'POSTGRES_DB=resemble',
    'POSTGRES_PASSWORD=s3cret',
  ];
  // The image listens on every interface; here only on loopback, with the socket in the temp dir.
  // A copy in the temp dir: user postgres may not be able to read the clone (e.g. one under /root).
  const args = [
    'sh',
    join(dir, 'docker-entrypoint.sh'),
    'postgres',
    '-c',
    `port=${port}`,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
  ];
  const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', 'env', ...env, ...args] : ['env', ...env, ...args];
  const out: string[] = [];
  server = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (c: Buffer) => out.push(c.toString()));
  server.stderr!.on('data', (c: Buffer) => out.push(c.toString()));
  for (let i = 0; i < 240; i++) {
    const r = spawnSync(join(bin, 'pg_isready'), [
      '-q',
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'resemble',
      '-d',
      'resemble',
    ]);
    if (r.status === 0) {
      logs[log] = () => out.join('');
      return;
    }
    if (server.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the stand-in did not become ready:\n${out.join('')}`);
}
const logs: Record<string, () => string> = {};

async function stop(): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server!.once('exit', r));
  // postgres is the process runuser/env exec'd into (or a child of runuser): its pid file names it.
  const pid = Number(readFileSync(`${dir}/volume/pgdata/postmaster.pid`, 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGINT');
  await exited;
}

function psql(port: number, password: string, sql: string) {
  return spawnSync(
    'psql',
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'resemble', '-d', 'resemble', '-At', '-c', sql],
    {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
    },
  );
}

afterAll(async () => {
  await stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('the PostgreSQL stand-in entrypoint (scale stack)', () => {
  it('creates the role and database on first start, with password authentication, and keeps them on restart', async () => {
    expect(existsSync(join(bin, 'initdb')), 'Debian postgresql-15 (scripts/setup.sh installs it)').toBe(true);
    // The image's volume: owned by postgres, like the official image's data directory.
    mkdirSync(join(dir, 'volume'));
    copyFileSync(entrypoint, join(dir, 'docker-entrypoint.sh'));
    if (asRoot) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(dir, uid, gid);
      chownSync(join(dir, 'volume'), uid, gid);
    }
    const port = await freePort();
    await start(port, 'first');
    expect(logs.first()).toMatch(/initialised .*pgdata \(user resemble, database resemble\)/);
    expect(psql(port, 's3cret', 'select current_user, current_database()').stdout.trim()).toBe(
      'resemble|resemble',
    );
    const wrong = psql(port, 'guess', 'select 1');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/password authentication failed/);
    expect(psql(port, 's3cret', 'create table kept (v int); insert into kept values (42)').status).toBe(0);
    await stop();

    await start(port, 'second');
    expect(logs.second()).not.toMatch(/initialised/);
    expect(psql(port, 's3cret', 'select v from kept').stdout.trim()).toBe('42');
    await stop();
  });
});
