/**
 * An ephemeral PostgreSQL (Debian's `postgresql`, installed by scripts/setup.sh) on a free loopback port
 * for tests: initdb into a temp dir, pg_ctl start, stop() ends it and removes the dir. initdb refuses to
 * run as root, so as root both run as the `postgres` user (which the Debian package creates) in a dir it
 * owns. fsync is off: the data is thrown away, and it halves start-up and write time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** postgres://… of the server's `postgres` database. */
  url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<major>/bin (Debian keeps initdb and pg_ctl out of PATH), or PG_BIN. */
export function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(join(root, d, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!majors.length) throw new Error(`no PostgreSQL under ${root}/*/bin (run scripts/setup.sh)`);
  return join(root, majors[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'resemble-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0)
      throw new Error(`${tool} failed (${r.status}): ${r.error?.message ?? ''}${r.stderr}${r.stdout}`);
  };
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
    run('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=200`,
      'start',
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = async <T>(f: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  };
  let n = 0;
  return {
    url,
    async createDatabase(name = `t${process.pid}_${++n}_${Math.random().toString(36).slice(2, 8)}`) {
      await admin((c) => c.query(`CREATE DATABASE "${name}"`));
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async dropDatabase(dbUrl: string) {
      const name = new URL(dbUrl).pathname.slice(1);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let shared: Promise<PostgresServer> | null = null;

/**
 * One server for the whole test file (started on first use); pg-setup.ts stops it after the file. Each
 * app the harness starts gets its own database on it.
 */
export function sharedPostgres(): Promise<PostgresServer> {
  return (shared ??= startPostgres());
}

export async function stopSharedPostgres(): Promise<void> {
  const s = shared;
  shared = null;
  if (s) await (await s).stop();
}
