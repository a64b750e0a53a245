/// <reference lib="dom" />
// Callbacks passed to page.evaluate/waitForFunction run in the browser, hence the DOM types.
/**
 * The product as containers, for real (issue 16): `scripts/containers.sh up` builds every image on a local
 * base with podman and starts docker-compose.yml with podman-compose on ports 80/443 of this host; then,
 * through https://127.0.0.1, a new user signs up, picks a stock and searches (headless Chromium); only the
 * proxy publishes ports, exactly 80 and 443; neither the proxy's nor the frontend's container can open a
 * connection to ml-service (backend can); a new data image rolls in with deploy/roll-data.sh while
 * requests keep flowing, none failing; every service runs as non-root on a read-only root; the scraper
 * image runs once against the loopback fixture site and exits 0. `down` removes it all.
 *
 * Then the same images as the `scale` stack (`up --scale`, docker-compose.scale.yml: PostgreSQL, Redis, two
 * backends, two ml-services behind ml-proxy): only the proxy publishes 80/443 and the internal networks
 * hold; a user signs up and searches through https://127.0.0.1 and the account is a row in PostgreSQL; both
 * backends and both ml-services answer (the nginx access logs name the upstream of every request); a free
 * user's 5 searches a day hold over both backends under 20 concurrent requests; a backend killed (SIGKILL)
 * under load loses no acknowledged write; `down` leaves no container, network or volume behind.
 * Needs podman, podman-compose, runc, debootstrap (scripts/setup.sh) and free ports 80 and 443.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { cookieJar, createApiClient, type ApiClient } from '@resemble/contracts';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../../scraper/test-site/site.js';
import { importFixture } from '../support/stack.js';

const root = resolve(import.meta.dirname, '../..');
const ja = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/ja.json'), 'utf8'));
const project = 'resemble-test';
const scaleProject = 'resemble-test-scale';
const base = 'https://127.0.0.1';
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  CONTAINERS_CONF: join(root, 'deploy/containers/containers.conf'),
  RESEMBLE_PROJECT: project,
  LOG_LEVEL: 'warn',
};
const SERVICES = ['proxy', 'frontend', 'backend', 'ml-service'];

let work = '';
let envFile = '';
let caPem = '';
let upOk = false;
const dataTags: string[] = [];
let browser: Browser | undefined;
let page: Page;
let site: TestSite | undefined;

interface Run {
  code: number;
  out: string;
  err: string;
}
function sh(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code: code ?? -1, out, err }));
  });
}
async function must(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const r = await sh(cmd, args, extraEnv);
  if (r.code !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.code}:\n${r.err.slice(-4000)}\n${r.out.slice(-2000)}`,
    );
  return r.out.trim();
}
const podman = (...args: string[]) => must('podman', args);
const containers = (...args: string[]) => must('bash', ['scripts/containers.sh', ...args]);

async function containerOf(service: string, proj = project): Promise<string> {
  const id = (
    await podman(
      'ps',
      '-a',
      '-q',
      '--filter',
      `label=io.podman.compose.project=${proj}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    )
  ).split('\n')[0];
  if (!id) throw new Error(`no container for ${service}`);
  return id;
}

/** `scripts/containers.sh up` for a project; returns its env file. */
async function upStack(proj: string, args: string[]): Promise<string> {
  const up = await sh('bash', ['scripts/containers.sh', 'up', ...args], {
    RESEMBLE_STORE: join(work, 'store-a'),
    RESEMBLE_PROJECT: proj,
  });
  if (up.code !== 0) throw new Error(`containers up ${args} failed (${up.code}):\n${up.err.slice(-6000)}`);
  console.log(
    up.err
      .split('\n')
      .filter((l) => / in \d+ s|up at/.test(l))
      .join('\n'),
  );
  const file = await must('bash', ['scripts/containers.sh', 'env'], { RESEMBLE_PROJECT: proj });
  const cache = readFileSync(file, 'utf8').match(/^CERTS_DIR=(.*)$/m)![1];
  caPem = readFileSync(join(cache, 'fullchain.pem'), 'utf8');
  const tag = readFileSync(file, 'utf8').match(/^DATA_TAG=(.*)$/m)![1];
  if (!dataTags.includes(tag)) dataTags.push(tag);
  return file;
}

/** The project's containers, networks and volumes that podman still has. */
async function leftovers(proj: string): Promise<string[]> {
  const label = `label=io.podman.compose.project=${proj}`;
  const lines = (s: string) => s.split('\n').filter(Boolean);
  return [
    ...lines(await podman('ps', '-a', '--format', '{{.Names}}', '--filter', label)),
    ...lines(await podman('network', 'ls', '-q', '--filter', label)),
    ...lines(await podman('volume', 'ls', '-q')).filter((v) => v.startsWith(`${proj}_`)),
  ];
}

/** GET over HTTPS, trusting only the stack's self-signed certificate. */
function httpsGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(`${base}${path}`, { ca: caPem, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end();
  });
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), ok(true)));
    s.once('error', () => ok(false));
  });
}

/** A second store: the first plus one new stock, so its data version differs. */
function extraStock(csv: string): void {
  const rows = ['ticker,date,open,high,low,close,volume'];
  let close = 100;
  const day = new Date('2016-01-04T00:00:00Z');
  for (let i = 0; i < 300; i++) {
    close *= 1 + Math.sin(i / 7) * 0.01;
    const d = day.toISOString().slice(0, 10);
    rows.push(
      `ZZROLL,${d},${close.toFixed(2)},${(close * 1.01).toFixed(2)},${(close * 0.99).toFixed(2)},${close.toFixed(2)},${1000 + i}`,
    );
    day.setUTCDate(day.getUTCDate() + (day.getUTCDay() === 5 ? 3 : 1));
  }
  writeFileSync(csv, rows.join('\n') + '\n');
}

let rollTagOnce: Promise<string> | undefined;
/** The data image of a second store, store-a plus the stock ZZROLL (built once; both stacks roll to it). */
function rollTag(): Promise<string> {
  rollTagOnce ??= (async () => {
    const storeB = join(work, 'store-b');
    cpSync(join(work, 'store-a'), storeB, { recursive: true });
    const csv = join(work, 'extra.csv');
    extraStock(csv);
    await importFixture(storeB, csv);
    const tag = await containers('data-image', storeB);
    dataTags.push(tag);
    return tag;
  })();
  return rollTagOnce;
}

/**
 * deploy/roll-data.sh to `tag` on the stack of `file` while requests keep flowing through the proxy
 * (backend's health asks ml-service each time): the roll's output, the failed requests and the data
 * versions the health route reported.
 */
async function rollUnderLoad(file: string, tag: string) {
  const before = (JSON.parse((await httpsGet('/api/v1/health')).body) as { dataVersion: string }).dataVersion;
  const seen = new Set<string>();
  const failures: string[] = [];
  let requests = 0;
  let rolling = true;
  const load = (async () => {
    while (rolling) {
      requests++;
      try {
        const r = await httpsGet('/api/v1/health');
        const h = JSON.parse(r.body) as { ml: string; dataVersion: string | null };
        if (r.status !== 200 || h.ml !== 'up' || !h.dataVersion) failures.push(`${r.status} ${r.body}`);
        else seen.add(h.dataVersion);
      } catch (err) {
        failures.push(String(err));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const roll = await sh('deploy/roll-data.sh', [tag], {
    ENGINE: 'podman',
    COMPOSE: 'deploy/containers/compose.sh',
    RESEMBLE_ENV_FILE: file,
    ROLL_SKIP_PULL: '1',
    ROLL_STATE_FILE: join(work, `data-tag-history-${basename(file)}`),
    ROLL_TIMEOUT_S: '300',
  });
  // Keep the load a little after the roll reports success.
  await new Promise((r) => setTimeout(r, 3_000));
  rolling = false;
  await load;
  const after = (JSON.parse((await httpsGet('/api/v1/health')).body) as { dataVersion: string }).dataVersion;
  return { roll, failures, requests, seen: [...seen].sort(), before, after };
}

beforeAll(async () => {
  for (const p of [80, 443]) {
    if (await portInUse(p))
      throw new Error(`port ${p} on this host is in use: the container test needs 80 and 443 free`);
  }
  work = mkdtempSync(join(tmpdir(), 'resemble-containers-'));
  await importFixture(join(work, 'store-a'));
}, 10 * 60_000);

afterAll(async () => {
  // Both stacks use the data image of store-a; it goes once neither runs.
  for (const tag of dataTags) await sh('podman', ['rmi', '-f', `localhost/resemble/data:${tag}`]);
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('the compose stack on podman', () => {
  beforeAll(async () => {
    envFile = await upStack(project, []);
    upOk = true;
  }, 75 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    // Always taken down, even after a failed up (a half-started stack must not keep ports 80/443).
    const down = await sh('bash', ['scripts/containers.sh', 'down'], { RESEMBLE_DOWN_VOLUMES: '1' });
    if (down.code !== 0) console.error(down.err);
    expect(await portInUse(443)).toBe(false);
  }, 300_000);

  it('serves the site over HTTPS on 127.0.0.1 with its certificate, and redirects HTTP', async () => {
    expect(upOk).toBe(true);
    const health = await httpsGet('/api/v1/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', ml: 'up' });
    const plain = await fetch('http://127.0.0.1/app', { redirect: 'manual' });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toBe('https://127.0.0.1/app');
  });

  it('publishes ports only on the proxy, exactly 80 and 443', async () => {
    const ids = (
      await podman('ps', '-a', '-q', '--filter', `label=io.podman.compose.project=${project}`)
    ).split('\n');
    expect(ids.length).toBeGreaterThanOrEqual(5);
    const published: Record<string, string[]> = {};
    for (const id of ids) {
      const service = await podman(
        'inspect',
        '-f',
        '{{index .Config.Labels "com.docker.compose.service"}}',
        id,
      );
      const bindings = JSON.parse(
        await podman('inspect', '-f', '{{json .HostConfig.PortBindings}}', id),
      ) as Record<string, { HostPort: string }[] | null> | null;
      published[service] = Object.values(bindings ?? {})
        .flatMap((b) => b ?? [])
        .map((b) => b.HostPort)
        .sort();
    }
    // What the running proxy actually has open, as `podman port` reports it.
    const live = (await podman('port', await containerOf('proxy')))
      .split('\n')
      .map((l) => l.replace(/^.*:(\d+)$/, '$1'));
    expect(live.sort()).toEqual(['443', '80']);
    expect(published).toEqual({
      proxy: ['443', '80'],
      frontend: [],
      backend: [],
      'ml-service': [],
      data: [],
    });
  });

  it('keeps ml-service unreachable from the proxy and the frontend (backend reaches it)', async () => {
    const ml = await containerOf('ml-service');
    const ip = await podman('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', ml);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // A real TCP connection (node in frontend and backend, wget in the proxy image).
    const probe = (host: string) =>
      `require('net').connect({host:'${host}',port:8001,timeout:3000}).on('connect',()=>{console.log('open');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(1)}).on('timeout',()=>{console.log('timeout');process.exit(1)})`;
    const backend = await containerOf('backend');
    expect((await sh('podman', ['exec', backend, 'node', '-e', probe('ml-service')])).out.trim()).toBe(
      'open',
    );
    expect((await sh('podman', ['exec', backend, 'node', '-e', probe(ip)])).out.trim()).toBe('open');
    const frontend = await containerOf('frontend');
    for (const host of ['ml-service', ip]) {
      const r = await sh('podman', ['exec', frontend, 'node', '-e', probe(host)]);
      expect(r.code, `frontend -> ${host}: ${r.out}`).not.toBe(0);
    }
    const proxy = await containerOf('proxy');
    // Positive control first: the same wget from the proxy does reach backend.
    expect(
      (
        await sh('podman', [
          'exec',
          proxy,
          'wget',
          '-q',
          '-T',
          '3',
          '-t',
          '1',
          '-O',
          '/dev/null',
          'http://backend:8080/api/v1/plans',
        ])
      ).code,
    ).toBe(0);
    for (const host of ['ml-service', ip]) {
      const r = await sh('podman', [
        'exec',
        proxy,
        'wget',
        '-q',
        '-T',
        '3',
        '-t',
        '1',
        '-O',
        '/dev/null',
        `http://${host}:8001/health`,
      ]);
      expect(r.code, `proxy -> ${host}`).not.toBe(0);
    }
  });

  it('runs every service as non-root on a read-only root filesystem', async () => {
    for (const service of [...SERVICES, 'data']) {
      const id = await containerOf(service);
      const [user, readOnly] = (
        await podman('inspect', '-f', '{{.Config.User}}|{{.HostConfig.ReadonlyRootfs}}', id)
      ).split('|');
      expect(user, service).not.toMatch(/^(|root|0)(:.*)?$/);
      expect(readOnly, service).toBe('true');
    }
    for (const service of SERVICES) {
      const id = await containerOf(service);
      expect(await podman('exec', id, 'id', '-u'), service).not.toBe('0');
      const write = await sh('podman', ['exec', id, 'sh', '-c', 'touch /etc/resemble-probe']);
      expect(write.code, service).not.toBe(0);
      expect(write.err + write.out, service).toMatch(/Read-only file system/);
    }
  });

  it('lets a new user sign up, pick a stock and search through https://127.0.0.1', async () => {
    browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      acceptInsecureCerts: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        `--user-data-dir=${join(work, 'chrome')}`,
      ],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const res = await page.goto(`${base}/signup`, { waitUntil: 'networkidle0' });
    expect(res?.status()).toBe(200);
    expect(res?.headers()['strict-transport-security']).toMatch(/max-age=\d+/);
    const email = `containers-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    for (const [name, value] of Object.entries({ email, password, confirm: password }))
      await page.locator(`input[name="${name}"]`).fill(value);
    await page.locator('input[name="terms"]').click();
    await page.locator(`button::-p-text(${ja.auth.signupButton})`).click();
    await page.waitForFunction(() => location.pathname === '/app', { timeout: 60_000 });
    await page.locator('input[role="combobox"]').fill('AAPL');
    await page.waitForSelector('[role="option"]', { visible: true, timeout: 30_000 });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.entity .code')?.textContent === 'AAPL', {
      timeout: 30_000,
    });
    await page.waitForSelector('.chart-card[aria-busy="false"] .host canvas', {
      visible: true,
      timeout: 30_000,
    });
    await page.locator(`button::-p-text(${ja.app.run})`).click();
    await page.waitForSelector('.matches figure svg', { timeout: 120_000 });
    expect((await page.$$('.matches figure')).length).toBeGreaterThan(0);
    expect(await page.$eval('.summary', (e) => e.textContent)).toContain(ja.results.baseRate);
  });

  it('rolls a new data image with deploy/roll-data.sh with 0 failed requests', async () => {
    const r = await rollUnderLoad(envFile, await rollTag());
    expect(r.roll.code, r.roll.err).toBe(0);
    expect(r.roll.out).toMatch(/now serves data version .*replicas checked: ml-service\)/);
    expect(r.failures).toEqual([]);
    expect(r.requests).toBeGreaterThan(20);
    expect(r.after).not.toBe(r.before);
    expect(r.seen).toEqual([r.before, r.after].sort());
    expect(readFileSync(envFile, 'utf8')).toMatch(new RegExp(`^DATA_TAG=${await rollTag()}$`, 'm'));
    // The new stock is searchable through the site.
    const cookies = await page.cookies(base);
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const found = await httpsGet('/api/v1/entities?q=ZZROLL', { cookie });
    expect(found.status).toBe(200);
    expect(found.body).toContain('ZZROLL');
  });

  it('runs the scraper image once against the loopback fixture site, exiting 0', async () => {
    site = await startTestSite({ asOf: '2017-12-29' });
    const store = join(work, 'scraper-store');
    mkdirSync(store);
    // The image's user (node, uid 1000) writes the store.
    chownSync(store, 1000, 1000);
    const sources = JSON.parse(readFileSync(join(root, 'scraper/sources.config.json'), 'utf8')) as {
      sources: { baseUrl: string }[];
    };
    for (const s of sources.sources) s.baseUrl = site.url;
    const config = join(work, 'sources.json');
    writeFileSync(config, JSON.stringify(sources));
    chmodSync(config, 0o644);
    // Host network: the fixture site listens on the host's loopback only (no traffic leaves 127.0.0.1).
    const r = await sh('podman', [
      'run',
      '--rm',
      '--network',
      'host',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--init',
      '-e',
      'HOME=/tmp',
      '-e',
      'LOG_LEVEL=warn',
      '-v',
      `${store}:/data`,
      '-v',
      `${config}:/etc/resemble/sources.json:ro`,
      'localhost/resemble/scraper:local',
      '--source',
      'fixture-html',
      '--sources',
      '/etc/resemble/sources.json',
      '--codes',
      'AAPL,MSFT',
    ]);
    expect(r.code, r.err.slice(-3000)).toBe(0);
    const summary = JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(JSON.stringify(summary)).toMatch(/AAPL|ok/);
    expect(site.hits.some((h) => h.path.startsWith('/html/AAPL/') && h.status === 200)).toBe(true);
    expect(readFileSync(join(store, 'catalog.sqlite')).length).toBeGreaterThan(0);
  });

  it('takes it all down: no container, network or volume of the stack left, ports 80 and 443 free', async () => {
    await must('bash', ['scripts/containers.sh', 'down'], { RESEMBLE_DOWN_VOLUMES: '1' });
    expect(await leftovers(project)).toEqual([]);
    expect(await portInUse(80)).toBe(false);
    expect(await portInUse(443)).toBe(false);
  });
});

// --- the scale stack --------------------------------------------------------------------------------------

function headersOf(h: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(h).forEach((value, name) => (out[name] = value));
  return out;
}

/** fetch over HTTPS trusting only the stack's certificate (the global fetch takes no CA of its own). */
let agent: Agent | undefined;
function httpsFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  agent ??= new Agent({ keepAlive: true, ca: caPem, maxSockets: 64 });
  const url = new URL(input instanceof Request ? input.url : String(input));
  return new Promise((ok, fail) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        headers: headersOf(init.headers),
        agent,
        timeout: 120_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            for (const one of [v ?? []].flat()) headers.append(k, one);
          const status = res.statusCode ?? 0;
          const body = [204, 304].includes(status) ? null : Buffer.concat(chunks);
          ok(new Response(body, { status, headers }));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    if (typeof init.body === 'string') req.write(init.body);
    req.end();
  });
}

/** A browser's view of the API through https://127.0.0.1: the typed client over a cookie jar. */
function visitor(): ApiClient {
  const jar = cookieJar(httpsFetch);
  return createApiClient({ fetch: jar.fetch, csrfToken: jar.csrfToken, baseUrl: `${base}/api/v1` });
}

/** One access-log line of the edge proxy or ml-proxy (deploy/nginx/nginx.conf's `main` format). */
interface Served {
  method: string;
  path: string;
  status: number;
  /** The services that answered, in order: two when nginx retried the request on the other replica. */
  upstreams: string[];
}

/** The container addresses of the given services (every network), as upstream host -> service. */
async function addressBook(services: string[]): Promise<Map<string, string>> {
  const book = new Map<string, string>();
  for (const service of services) {
    const ips = await podman(
      'inspect',
      '-f',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
      await containerOf(service, scaleProject),
    );
    for (const ip of ips.split(' ').filter(Boolean)) book.set(ip, service);
  }
  return book;
}

async function accessLog(service: 'proxy' | 'ml-proxy', book: Map<string, string>): Promise<Served[]> {
  const out = await podman('logs', await containerOf(service, scaleProject));
  const served: Served[] = [];
  for (const line of out.split('\n')) {
    const m = /"(\w+) (\S+) HTTP\/[\d.]+" (\d{3}) .* upstream="([^"]*)"/.exec(line);
    if (!m) continue;
    const upstreams =
      m[4] === '-' ? [] : m[4].split(/, | : /).map((a) => book.get(a.replace(/:\d+$/, '')) ?? `unknown ${a}`);
    served.push({ method: m[1], path: m[2].split('?')[0], status: Number(m[3]), upstreams });
  }
  return served;
}

/** Runs SQL in the postgres container (psql over its socket, as the database's owner). */
const psql = async (sql: string) =>
  podman(
    'exec',
    await containerOf('postgres', scaleProject),
    'psql',
    '-U',
    'resemble',
    '-d',
    'resemble',
    '-At',
    '-c',
    sql,
  );

const PASSWORD = 'correct horse battery';
const searchQuery = {
  query: { code: 'AAPL', start: '2016-01-04', end: '2016-03-01' },
  topK: 5,
  horizon: 20,
};
const SCALE_SERVICES = [
  'proxy',
  'frontend',
  'backend',
  'backend-2',
  'ml-service',
  'ml-service-2',
  'ml-proxy',
  'postgres',
  'redis',
];

describe('the scale stack on podman (docker-compose.scale.yml)', () => {
  let book: Map<string, string>;
  let scaleEnv = '';
  let seq = 0;
  const email = (tag: string) => `scale-${tag}-${Date.now()}-${++seq}@example.com`;

  beforeAll(async () => {
    for (const p of [80, 443])
      if (await portInUse(p)) throw new Error(`port ${p} is still in use after the first stack's down`);
    scaleEnv = await upStack(scaleProject, ['--scale']);
    book = await addressBook(SCALE_SERVICES);
  }, 30 * 60_000);

  afterAll(async () => {
    agent?.destroy();
    const down = await sh('bash', ['scripts/containers.sh', 'down'], {
      RESEMBLE_PROJECT: scaleProject,
      RESEMBLE_DOWN_VOLUMES: '1',
    });
    if (down.code !== 0) console.error(down.err);
    expect(await portInUse(443)).toBe(false);
  }, 300_000);

  it('runs PostgreSQL, Redis, two backends and two ml-services behind ml-proxy; only the proxy publishes 80 and 443', async () => {
    const health = await httpsGet('/api/v1/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', ml: 'up' });
    const ids = (
      await podman('ps', '-a', '-q', '--filter', `label=io.podman.compose.project=${scaleProject}`)
    ).split('\n');
    const published: Record<string, string[]> = {};
    for (const id of ids) {
      const [service, user, readOnly, bindings] = (
        await podman(
          'inspect',
          '-f',
          '{{index .Config.Labels "com.docker.compose.service"}}|{{.Config.User}}|{{.HostConfig.ReadonlyRootfs}}|{{json .HostConfig.PortBindings}}',
          id,
        )
      ).split('|');
      const ports = JSON.parse(bindings) as Record<string, { HostPort: string }[] | null> | null;
      published[service] = Object.values(ports ?? {})
        .flatMap((b) => b ?? [])
        .map((b) => b.HostPort)
        .sort();
      expect(user, service).not.toMatch(/^(|root|0)(:.*)?$/);
      expect(readOnly, service).toBe('true');
    }
    expect(published).toEqual({
      ...Object.fromEntries(SCALE_SERVICES.map((s) => [s, []])),
      proxy: ['443', '80'],
      data: [],
    });
    for (const service of SCALE_SERVICES) {
      const id = await containerOf(service, scaleProject);
      expect(await podman('exec', id, 'id', '-u'), service).not.toBe('0');
    }
    for (const service of ['postgres', 'redis', 'ml-proxy', 'backend-2', 'ml-service-2']) {
      const write = await sh('podman', [
        'exec',
        await containerOf(service, scaleProject),
        'sh',
        '-c',
        'touch /etc/resemble-probe',
      ]);
      expect(write.err + write.out, service).toMatch(/Read-only file system/);
    }
  });

  it('keeps ml-service, PostgreSQL and Redis reachable from the backends only', async () => {
    const ip = async (service: string) => {
      const ips = [...book].filter(([, s]) => s === service).map(([a]) => a);
      expect(ips, service).toHaveLength(1);
      return ips[0];
    };
    // Each by name and by address: a name a network does not resolve is no proof that the address is out of reach.
    const targets = async (...list: [string, number][]) => {
      const out: [string, number][] = [];
      for (const [service, port] of list) out.push([service, port], [await ip(service), port]);
      return out;
    };
    const mlSide = await targets(['ml-service', 8001], ['ml-service-2', 8001], ['ml-proxy', 8001]);
    const stateSide = await targets(['postgres', 5432], ['redis', 6379]);
    const inner = [...mlSide, ...stateSide];
    // A real TCP connection to each (node where the image has it, bash's /dev/tcp in the nginx images).
    const nodeProbe = `const net=require('net');Promise.all(JSON.parse(process.argv[1]).map(([host,port])=>new Promise((r)=>{const s=net.connect({host,port,timeout:3000});s.on('connect',()=>{s.destroy();r('open')});s.on('error',(e)=>r(e.code));s.on('timeout',()=>{s.destroy();r('timeout')})}))).then((x)=>console.log(JSON.stringify(x)))`;
    const bashProbe = `for t in "$@"; do if timeout 3 bash -c "exec 3<>/dev/tcp/\${t%:*}/\${t##*:}" 2>/dev/null; then echo open; else echo closed; fi; done`;
    const probe = async (from: string, targets: [string, number][]) => {
      const id = await containerOf(from, scaleProject);
      const out = ['proxy', 'ml-proxy'].includes(from)
        ? (
            await podman(
              'exec',
              id,
              'bash',
              '-c',
              bashProbe,
              'probe',
              ...targets.map(([h, p]) => `${h}:${p}`),
            )
          ).split('\n')
        : (JSON.parse(
            await podman('exec', id, 'node', '-e', nodeProbe, JSON.stringify(targets)),
          ) as string[]);
      return Object.fromEntries(targets.map(([h, p], i) => [`${h}:${p}`, out[i] === 'open']));
    };
    const open = (targets: [string, number][], yes: boolean) =>
      Object.fromEntries(targets.map(([h, p]) => [`${h}:${p}`, yes]));
    // Positive controls: the backends reach all of them, the proxy reaches the backends.
    for (const b of ['backend', 'backend-2']) expect(await probe(b, inner), b).toEqual(open(inner, true));
    const backends: [string, number][] = [
      ['backend', 8080],
      ['backend-2', 8080],
    ];
    expect(await probe('proxy', backends)).toEqual(open(backends, true));
    for (const from of ['proxy', 'frontend'])
      expect(await probe(from, inner), from).toEqual(open(inner, false));
    // ml-service and its balancer never reach the state network.
    for (const from of ['ml-service', 'ml-proxy'])
      expect(await probe(from, stateSide), from).toEqual(open(stateSide, false));
  });

  it('signs a user up and searches through https://127.0.0.1; the account is a row in PostgreSQL and its session works on both backends', async () => {
    const before = (await accessLog('proxy', book)).length;
    const v = visitor();
    const address = email('signup');
    expect((await v.register({ body: { email: address, password: PASSWORD } })).email).toBe(address);
    for (let i = 0; i < 6; i++) expect((await v.me()).email).toBe(address);
    const found = await v.similar({ body: searchQuery });
    expect(found.matches.length).toBeGreaterThan(0);
    expect(await psql(`select count(*) from users where email = '${address}'`)).toBe('1');
    const me = (await accessLog('proxy', book)).slice(before).filter((l) => l.path === '/api/v1/me');
    expect(me.map((l) => l.status)).toEqual(Array(6).fill(200));
    expect(new Set(me.flatMap((l) => l.upstreams))).toEqual(new Set(['backend', 'backend-2']));
  });

  it("holds a free user's 5 searches a day over both backends under 20 concurrent requests; both ml-services answer", async () => {
    const edgeBefore = (await accessLog('proxy', book)).length;
    const mlBefore = (await accessLog('ml-proxy', book)).length;
    const v = visitor();
    await v.register({ body: { email: email('quota'), password: PASSWORD } });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => v.$response('similar', { body: searchQuery })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(5);
    expect(statuses.filter((x) => x === 429)).toHaveLength(15);
    expect((await v.me()).usage.searchesToday).toBe(5);
    const edge = (await accessLog('proxy', book))
      .slice(edgeBefore)
      .filter((l) => l.path === '/api/v1/similar');
    expect(edge).toHaveLength(20);
    expect(new Set(edge.flatMap((l) => l.upstreams))).toEqual(new Set(['backend', 'backend-2']));
    const ml = (await accessLog('ml-proxy', book)).slice(mlBefore).filter((l) => l.path === '/v1/similar');
    expect(ml.map((l) => l.status)).toEqual(Array(5).fill(200));
    expect(new Set(ml.flatMap((l) => l.upstreams))).toEqual(new Set(['ml-service', 'ml-service-2']));
  });

  it('rolls a new data image with deploy/roll-data.sh onto both ml-services with 0 failed requests', async () => {
    const tag = await rollTag();
    const r = await rollUnderLoad(scaleEnv, tag);
    expect(r.roll.code, r.roll.err).toBe(0);
    expect(r.roll.out).toMatch(/now serves data version .*replicas checked: ml-service ml-service-2\)/);
    expect(r.failures).toEqual([]);
    expect(r.requests).toBeGreaterThan(20);
    expect(r.after).not.toBe(r.before);
    expect(r.seen).toEqual([r.before, r.after].sort());
    expect(readFileSync(scaleEnv, 'utf8')).toMatch(new RegExp(`^DATA_TAG=${tag}$`, 'm'));
    // Each replica itself, asked directly from a backend (ml-proxy would answer from either).
    const backend = await containerOf('backend', scaleProject);
    for (const replica of ['ml-service', 'ml-service-2']) {
      const health = await podman(
        'exec',
        '-e',
        `ML_REPLICA=${replica}`,
        backend,
        'node',
        '-e',
        'fetch(`http://${process.env.ML_REPLICA}:8001/health`,{headers:{authorization:`Bearer ${process.env.ML_TOKEN}`}}).then((r)=>r.json()).then((h)=>console.log(h.dataVersion))',
      );
      expect(health, replica).toBe(r.after);
    }
    // The new stock is found through the site, whichever backend and replica answer.
    const v = visitor();
    await v.register({ body: { email: email('roll'), password: PASSWORD } });
    for (let i = 0; i < 4; i++) {
      const found = await v.entities({ query: { q: 'ZZROLL', limit: 8 } });
      expect(JSON.stringify(found)).toContain('ZZROLL');
    }
  });

  it('loses no acknowledged write when a backend is killed (SIGKILL) under load', async () => {
    // Pro accounts (sandbox billing: the local stack has no payment keys) so they may save patterns.
    const owners = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const v = visitor();
        await v.register({ body: { email: email('owner'), password: PASSWORD } });
        const co = await v.checkout({ body: { plan: 'pro', provider: 'sandbox' } });
        const session = new URL(co.redirectUrl, base).searchParams.get('session')!;
        expect((await v.sandboxComplete({ body: { session, outcome: 'success' } })).plan).toBe('pro');
        return v;
      }),
    );
    const before = (await accessLog('proxy', book)).length;
    const victim = await containerOf('backend-2', scaleProject);
    const signups: string[] = [];
    const patterns: { owner: number; id: string }[] = [];
    const answers: { method: string; status: number }[] = [];
    const started = Date.now();
    let killed = false;
    let killedAt = 0;
    const killer = (async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      await podman('kill', '--signal', 'KILL', victim);
      killedAt = Date.now();
      killed = true;
    })();
    const answer = async (method: string, call: () => Promise<Response>) => {
      try {
        const r = await call();
        answers.push({ method, status: r.status });
        return r;
      } catch {
        answers.push({ method, status: 0 });
        return undefined;
      }
    };
    // Per user at most ~60 calls (backend allows 120 a minute), signups at most 16 (50 auth calls an address).
    await Promise.all(
      owners.map(async (owner, w) => {
        for (let i = 0; i < 60 && Date.now() - started < 8_000; i++) {
          if (i % 4 === 0 && i < 16) {
            const address = email(`load${w}`);
            const r = await answer('POST', () =>
              visitor().$response('register', { body: { email: address, password: PASSWORD } }),
            );
            if (r?.status === 201) signups.push(address);
          } else if (i % 2 === 1) {
            const r = await answer('POST', () =>
              owner.$response('createPattern', {
                body: { name: `w${w}-${i}`, request: searchQuery, threshold: 1 },
              }),
            );
            if (r?.status === 201) patterns.push({ owner: w, id: ((await r.json()) as { id: string }).id });
          } else {
            await answer('GET', () => owner.$response('me'));
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
    await killer;
    expect(killed).toBe(true);
    // Reads after nginx's fail_timeout for the killed backend (5 s, templates-scale): nginx tries it again,
    // cannot connect and passes the read to the survivor. Without these, whether any request met the dead
    // backend after the in-flight ones failed (which mark it down for those 5 s) is down to timing.
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 6_000 - Date.now())));
    for (let i = 0; i < 4; i++) await answer('GET', () => owners[0].$response('me'));
    expect(signups.length).toBeGreaterThan(4);
    expect(patterns.length).toBeGreaterThan(10);

    // Every acknowledged write is in PostgreSQL, and read back through the proxy.
    const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(',');
    expect(await psql(`select count(*) from users where email in (${list(signups)})`)).toBe(
      String(signups.length),
    );
    expect(await psql(`select count(*) from patterns where id in (${list(patterns.map((p) => p.id))})`)).toBe(
      String(patterns.length),
    );
    for (const [w, owner] of owners.entries()) {
      const stored = new Set((await owner.listPatterns()).patterns.map((p) => p.id));
      for (const p of patterns.filter((x) => x.owner === w)) expect(stored.has(p.id), p.id).toBe(true);
    }
    // Every read was answered: the proxy passed it to the surviving backend.
    expect(answers.filter((a) => a.method === 'GET' && a.status !== 200)).toEqual([]);
    const log = (await accessLog('proxy', book)).slice(before).filter((l) => l.path.startsWith('/api/'));
    expect(log.filter((l) => l.upstreams.length > 1 && l.status < 500).length).toBeGreaterThan(0);
    // The only failures: writes already sent to the killed backend, which nginx does not send twice (never
    // acknowledged, so none is a lost write) — at most one in flight per worker.
    const failed = answers.filter((a) => a.status === 0 || a.status >= 500);
    console.log(
      `kill under load: ${answers.length} requests, ${signups.length} signups and ${patterns.length} patterns acknowledged, ` +
        `${log.filter((l) => l.upstreams.length > 1).length} retried by the proxy, ${failed.length} failed (POSTs in flight)`,
    );
    for (const f of failed) expect(f.method).toBe('POST');
    expect(failed.length).toBeLessThanOrEqual(owners.length);
    for (const l of log.filter((x) => x.status >= 500)) expect(l.upstreams).toEqual(['backend-2']);
  });

  it('takes it all down: no container, network or volume of the stack left, ports 80 and 443 free', async () => {
    await must('bash', ['scripts/containers.sh', 'down'], {
      RESEMBLE_PROJECT: scaleProject,
      RESEMBLE_DOWN_VOLUMES: '1',
    });
    expect(await leftovers(scaleProject)).toEqual([]);
    expect(await portInUse(80)).toBe(false);
    expect(await portInUse(443)).toBe(false);
  });
});
