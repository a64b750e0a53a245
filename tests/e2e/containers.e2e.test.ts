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
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../../scraper/test-site/site.js';
import { importFixture } from '../support/stack.js';

const root = resolve(import.meta.dirname, '../..');
const ja = JSON.parse(readFileSync(join(root, 'frontend/i18n/locales/ja.json'), 'utf8'));
const project = 'resemble-test';
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

async function containerOf(service: string): Promise<string> {
  const id = (
    await podman(
      'ps',
      '-a',
      '-q',
      '--filter',
      `label=io.podman.compose.project=${project}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    )
  ).split('\n')[0];
  if (!id) throw new Error(`no container for ${service}`);
  return id;
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

beforeAll(async () => {
  for (const p of [80, 443]) {
    if (await portInUse(p))
      throw new Error(`port ${p} on this host is in use: the container test needs 80 and 443 free`);
  }
  work = mkdtempSync(join(tmpdir(), 'resemble-containers-'));
  const storeA = join(work, 'store-a');
  await importFixture(storeA);
  const up = await sh('bash', ['scripts/containers.sh', 'up'], { RESEMBLE_STORE: storeA });
  if (up.code !== 0) throw new Error(`containers up failed (${up.code}):\n${up.err.slice(-6000)}`);
  upOk = true;
  console.log(
    up.err
      .split('\n')
      .filter((l) => / in \d+ s|up at/.test(l))
      .join('\n'),
  );
  envFile = await containers('env');
  const cache = readFileSync(envFile, 'utf8').match(/^CERTS_DIR=(.*)$/m)![1];
  caPem = readFileSync(join(cache, 'fullchain.pem'), 'utf8');
  const tag = readFileSync(envFile, 'utf8').match(/^DATA_TAG=(.*)$/m)![1];
  dataTags.push(tag);
}, 75 * 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  // Always taken down, even after a failed up (a half-started stack must not keep ports 80/443).
  const down = await sh('bash', ['scripts/containers.sh', 'down'], { RESEMBLE_DOWN_VOLUMES: '1' });
  if (down.code !== 0) console.error(down.err);
  for (const tag of dataTags) await sh('podman', ['rmi', '-f', `localhost/resemble/data:${tag}`]);
  if (work) rmSync(work, { recursive: true, force: true });
  expect(await portInUse(443)).toBe(false);
}, 300_000);

describe('the compose stack on podman', () => {
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
    const storeB = join(work, 'store-b');
    cpSync(join(work, 'store-a'), storeB, { recursive: true });
    const csv = join(work, 'extra.csv');
    extraStock(csv);
    await importFixture(storeB, csv);
    const tagB = await containers('data-image', storeB);
    dataTags.push(tagB);
    const before = JSON.parse((await httpsGet('/api/v1/health')).body) as { dataVersion: string };

    // Requests through the proxy all along: backend's health asks ml-service each time.
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
    const roll = await sh('deploy/roll-data.sh', [tagB], {
      ENGINE: 'podman',
      COMPOSE: 'deploy/containers/compose.sh',
      RESEMBLE_ENV_FILE: envFile,
      ROLL_SKIP_PULL: '1',
      ROLL_STATE_FILE: join(work, 'data-tag-history'),
      ROLL_TIMEOUT_S: '300',
    });
    // Keep the load a little after the roll reports success.
    await new Promise((r) => setTimeout(r, 3_000));
    rolling = false;
    await load;
    expect(roll.code, roll.err).toBe(0);
    expect(roll.out).toMatch(/now serves data version/);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(20);
    const after = JSON.parse((await httpsGet('/api/v1/health')).body) as { dataVersion: string };
    expect(after.dataVersion).not.toBe(before.dataVersion);
    expect([...seen].sort()).toEqual([before.dataVersion, after.dataVersion].sort());
    expect(readFileSync(envFile, 'utf8')).toMatch(new RegExp(`^DATA_TAG=${tagB}$`, 'm'));
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
});
