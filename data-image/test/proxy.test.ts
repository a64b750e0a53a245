/**
 * The proxy config doing its job with the real nginx (Debian's): the template is rendered as the nginx
 * image would, with the upstream names pointed at two local stand-ins and the ports moved to free
 * loopback ones. Checks the redirect, HSTS (once), the routing split and unbuffered server-sent events.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, renderEdge, startNginx, type RunningNginx } from './support/nginx.js';
import { writeSelfSignedCert } from './support/tools.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const template = readFileSync(
  resolve(import.meta.dirname, '../../deploy/nginx/templates/default.conf.template'),
  'utf8',
);
let dir: string;
let nginx: RunningNginx | undefined;
const servers: http.Server[] = [];
let httpPort = 0;
let httpsPort = 0;

/** A stand-in upstream that echoes what reached it; /api/v1/events streams two events 300 ms apart. */
async function standIn(name: string): Promise<number> {
  const server = http.createServer((req, res) => {
    if (req.url === '/api/v1/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        // What the proxy forwarded, echoed back (the events location must keep the server's headers).
        'x-seen-forwarded-for': String(req.headers['x-forwarded-for']),
        'x-seen-request-id': String(req.headers['x-request-id']),
      });
      res.write('data: first\n\n');
      setTimeout(() => res.end('data: second\n\n'), 300);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'strict-transport-security': 'max-age=1' });
    // /api/v1/big: a price series' worth of JSON, for compression.
    const big =
      req.url === '/api/v1/big' ? Array.from({ length: 2000 }, (_, i) => ({ t: i, c: 100 + (i % 7) })) : [];
    res.end(JSON.stringify({ name, url: req.url, headers: req.headers, big }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  firstChunkMs: number;
  totalMs: number;
}
function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const started = Date.now();
  const client = url.startsWith('https') ? https : http;
  return new Promise((res, rej) => {
    const req = client.get(
      url,
      { rejectUnauthorized: false, headers: { host: 'resemble.test', ...headers } },
      (r) => {
        let body = '';
        let firstChunkMs = -1;
        r.on('data', (c: Buffer) => {
          if (firstChunkMs < 0) firstChunkMs = Date.now() - started;
          body += c.toString();
        });
        r.on('end', () =>
          res({
            status: r.statusCode ?? 0,
            headers: r.headers,
            body,
            firstChunkMs,
            totalMs: Date.now() - started,
          }),
        );
      },
    );
    req.on('error', rej);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-'));
  writeSelfSignedCert(dir);
  const backend = await standIn('backend');
  const frontend = await standIn('frontend');
  httpPort = await freePort();
  httpsPort = await freePort();
  const rendered = renderEdge(template, dir, { http: httpPort, https: httpsPort })
    .replace('http://backend:8080', `http://127.0.0.1:${backend}`)
    .replace('http://frontend:3000', `http://127.0.0.1:${frontend}`);
  nginx = await startNginx(dir, { 'default.conf': rendered }, `http://127.0.0.1:${httpPort}/healthz`);
});

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the nginx proxy', () => {
  it('redirects plain HTTP to HTTPS, except health and ACME challenges', async () => {
    const r = await get(`http://127.0.0.1:${httpPort}/app/search?code=AAPL`);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://resemble.test/app/search?code=AAPL');
    expect((await get(`http://127.0.0.1:${httpPort}/healthz`)).body).toBe('ok\n');
    expect((await get(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/x`)).status).toBe(404);
  });

  it('sends /api/ to backend and the rest to frontend, with forwarding headers and one HSTS header', async () => {
    const api = await get(`https://127.0.0.1:${httpsPort}/api/v1/health`);
    expect(api.status).toBe(200);
    const seen = JSON.parse(api.body) as { name: string; url: string; headers: Record<string, string> };
    expect(seen.name).toBe('backend');
    expect(seen.url).toBe('/api/v1/health');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(api.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    const page = JSON.parse((await get(`https://127.0.0.1:${httpsPort}/en/pricing`)).body) as {
      name: string;
      url: string;
    };
    expect(page).toMatchObject({ name: 'frontend', url: '/en/pricing' });
  });

  it('streams server-sent events without buffering', async () => {
    const r = await get(`https://127.0.0.1:${httpsPort}/api/v1/events`);
    expect(r.body).toBe('data: first\n\ndata: second\n\n');
    // The forwarding headers reach backend on this route too (a location with a proxy_set_header of its own
    // would drop every server-level one).
    expect(r.headers['x-seen-forwarded-for']).toBe('127.0.0.1');
    expect(r.headers['x-seen-request-id']).toMatch(/^[0-9a-f]{32}$/);
    // The first event arrives before the upstream finished (300 ms later), not all at the end.
    expect(r.totalMs - r.firstChunkMs).toBeGreaterThan(150);
  });

  it("gzips backend's JSON for a client that accepts it, never an event stream", async () => {
    const gz = { 'accept-encoding': 'gzip' };
    const big = await get(`https://127.0.0.1:${httpsPort}/api/v1/big`, gz);
    expect(big.status).toBe(200);
    expect(big.headers['content-encoding']).toBe('gzip');
    expect(big.headers.vary).toContain('Accept-Encoding');
    const plain = await get(`https://127.0.0.1:${httpsPort}/api/v1/big`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect((JSON.parse(plain.body) as { big: unknown[] }).big).toHaveLength(2000);
    const events = await get(`https://127.0.0.1:${httpsPort}/api/v1/events`, gz);
    expect(events.headers['content-encoding']).toBeUndefined();
    expect(events.body).toBe('data: first\n\ndata: second\n\n');
  });
});
