/**
 * Starts the real app on 127.0.0.1:0 with a temp database, and an HTTP client with a cookie jar. With
 * BACKEND_TEST_DB=postgres (the backend-pg vitest project) that database is a fresh one on the file's
 * ephemeral PostgreSQL (postgres-server.ts) instead of a temp SQLite file, so the same tests run on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { loadConfig } from '../../src/config.js';
import { createApp, type AppOverrides, type BuiltApp } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';
import { sql } from 'kysely';
import { sharedPostgres } from './postgres-server.js';

/** The engine this test run's apps use (vitest projects backend and backend-pg). */
export const TEST_ENGINE: 'sqlite' | 'postgres' =
  process.env.BACKEND_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/** Env that points a second app (another replica) at the same database as `app`. */
export function sameDatabaseAs(app: TestApp): Record<string, string> {
  const target = app.services.config.storage.database;
  return target.engine === 'postgres'
    ? { APP_DB: app.services.config.storage.appDb, DATABASE_URL: target.url }
    : { APP_DB: target.file };
}

export interface TestApp {
  url: string;
  /** What the app exposes to its runner (createApp's services): the database, kept mail, queue, billing. */
  services: BuiltApp['services'];
  dir: string;
  client(): Client;
  close(): Promise<void>;
}

export async function startApp(
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'resemble-backend-'));
  // A database of its own, dropped on close, unless the test points this app at another's.
  const pgServer = TEST_ENGINE === 'postgres' && !env.DATABASE_URL ? await sharedPostgres() : null;
  const ownDatabase = pgServer ? await pgServer.createDatabase() : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    APP_DB: join(dir, 'app.sqlite'),
    DATA_DIR: join(dir, 'data'),
    JWT_SECRET: 'x'.repeat(40),
    SCRYPT_LOG_N: '12',
    LOG_LEVEL: 'silent',
    ...(ownDatabase ? { DATABASE_URL: ownDatabase } : {}),
    ...env,
  });
  const built = await createApp(config, {
    logger: createLogger(config.logLevel),
    keepMail: true,
    ...overrides,
  });
  const server: Server = await new Promise((ok) => {
    const s = createServer(built.serverOptions, built.app).listen(0, '127.0.0.1', () => ok(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    services: built.services,
    dir,
    client: () => new Client(url),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await built.close();
      if (pgServer && ownDatabase) await pgServer.dropDatabase(ownDatabase);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Res<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** Behaves like the browser: keeps cookies, sends x-csrf-token from the csrf_token cookie on writes. */
export class Client {
  readonly cookies = new Map<string, string>();
  csrf = true;
  bearer?: string;
  email?: string;
  constructor(readonly base: string) {}

  get(path: string, headers: Record<string, string> = {}) {
    return this.req('GET', path, undefined, headers);
  }
  post(path: string, body?: unknown, headers: Record<string, string> = {}) {
    return this.req('POST', path, body, headers);
  }
  del(path: string, body?: unknown, headers: Record<string, string> = {}) {
    return this.req('DELETE', path, body, headers);
  }

  async req(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Res> {
    const headers: Record<string, string> = { ...extra };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.csrf && method !== 'GET' && this.cookies.get('csrf_token'))
      headers['x-csrf-token'] = this.cookies.get('csrf_token')!;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (body !== undefined && typeof body !== 'string') headers['content-type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  }
}

export const PASSWORD = 'correct horse battery staple';

export async function registered(
  app: TestApp,
  email = `user${Math.random().toString(36).slice(2)}@example.com`,
): Promise<Client> {
  const c = app.client();
  const r = await c.post('/api/v1/auth/register', { email, password: PASSWORD });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`);
  c.email = email;
  return c;
}

/** Signs in again, e.g. after a test moved the clock past the session lifetimes. */
export async function relogin(c: Client): Promise<void> {
  const r = await c.post('/api/v1/auth/login', { email: c.email, password: PASSWORD });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
}

/**
 * Raw SQL for a test's own look at (or change to) the app database, on whichever engine it runs: `?`
 * placeholders become bound parameters (Kysely's sql tag), never spliced text.
 */
export function rawSql(services: Pick<BuiltApp['services'], 'database'>) {
  const rows = async (text: string, ...args: unknown[]): Promise<any[]> => {
    const parts = text.split('?');
    const strings = Object.assign([...parts], { raw: [...parts] }) as unknown as TemplateStringsArray;
    return (await sql(strings, ...args).execute(services.database.kysely)).rows as any[];
  };
  return {
    all: rows,
    get: async (text: string, ...args: unknown[]): Promise<any> => (await rows(text, ...args))[0],
    run: async (text: string, ...args: unknown[]): Promise<void> => void (await rows(text, ...args)),
  };
}
