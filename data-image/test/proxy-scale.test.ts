/**
 * The `scale` override's two nginx configs with the real nginx (Debian's): the edge proxy balancing two
 * backends (deploy/nginx/templates-scale) and ml-service's least_conn balancer (deploy/nginx/ml-proxy), each
 * rendered as the nginx image would, with the upstream names pointed at local stand-ins on loopback.
 * Checks the spread, the retry of a request a dead replica refused, that a POST which reached a replica is
 * never sent to the other, and least_conn.
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

const nginxDir = resolve(import.meta.dirname, '../../deploy/nginx');
const edgeTemplate = readFileSync(join(nginxDir, 'templates-scale/default.conf.template'), 'utf8');
const mlTemplate = readFileSync(join(nginxDir, 'ml-proxy/ml.conf.template'), 'utf8');

let dir: string;
let nginx: RunningNginx | undefined;
const sockets = new Set<net.Socket>();
let httpsPort = 0;
let mlPort = 0;

/** A replica stand-in: records what reached it, echoes its name; /slow answers after 2 s. */
class Replica {
  server: http.Server;
  port = 0;
  seen: { method: string; url: string; auth?: string }[] = [];
  /** When set, the replica reads a request and then drops the connection without answering. */
  dropAfterRead = false;
  constructor(readonly name: string) {
    this.server = http.createServer((req, res) => {
      this.seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
      req.resume();
      req.on('end', () => {
        if (this.dropAfterRead) return void req.socket.destroy();
        const answer = () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ name: this.name }));
        };
        if (req.url === '/slow') setTimeout(answer, 2_000);
        else answer();
      });
    });
    this.server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
  }
  async start(port = 0) {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  /** Stops listening and cuts open connections: the port refuses from now on (a killed container). */
  async kill() {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

const backends = [new Replica('backend'), new Replica('backend-2')];
const mls = [new Replica('ml-service'), new Replica('ml-service-2')];
const frontend = new Replica('frontend');

function request(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const client = url.startsWith('https') ? https : http;
  return new Promise((res, rej) => {
    const req = client.request(
      url,
      { method, rejectUnauthorized: false, headers: { host: 'resemble.test', ...headers } },
      (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => res({ status: r.statusCode ?? 0, body }));
      },
    );
    req.on('error', rej);
    req.end(method === 'POST' ? '{"q":1}' : undefined);
  });
}
const nameOf = (body: string) => (JSON.parse(body) as { name: string }).name;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-scale-'));
  writeSelfSignedCert(dir);
  for (const r of [...backends, ...mls, frontend]) await r.start();
  httpsPort = await freePort();
  const httpPort = await freePort();
  mlPort = await freePort();
  const healthPort = await freePort();
  const edge = renderEdge(edgeTemplate, dir, { http: httpPort, https: httpsPort })
    .replace('server backend:8080 ', `server 127.0.0.1:${backends[0].port} `)
    .replace('server backend-2:8080 ', `server 127.0.0.1:${backends[1].port} `)
    .replace('http://frontend:3000', `http://127.0.0.1:${frontend.port}`);
  const ml = mlTemplate
    .replace('listen 8001;', `listen 127.0.0.1:${mlPort};`)
    .replace('listen 127.0.0.1:8002;', `listen 127.0.0.1:${healthPort};`)
    .replace('server ml-service:8001 ', `server 127.0.0.1:${mls[0].port} `)
    .replace('server ml-service-2:8001 ', `server 127.0.0.1:${mls[1].port} `);
  // Every upstream name was replaced: nothing left for nginx to resolve.
  expect(edge).not.toMatch(/server backend|http:\/\/frontend:/);
  expect(ml).not.toMatch(/server ml-service/);
  nginx = await startNginx(
    dir,
    { 'edge.conf': edge, 'ml.conf': ml },
    `http://127.0.0.1:${healthPort}/healthz`,
  );
});

afterAll(async () => {
  await nginx?.stop();
  sockets.forEach((s) => s.destroy());
  await Promise.all(
    [...backends, ...mls, frontend].map((r) => new Promise((done) => r.server.close(() => done(null)))),
  );
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the scale override: ml-service balancer (deploy/nginx/ml-proxy)', () => {
  it('passes the bearer token through and sends a search to the replica with fewer open searches (least_conn)', async () => {
    const auth = { authorization: 'Bearer ml-token' };
    // One slow search holds a connection on some replica; the next searches go to the other one.
    const slow = request(`http://127.0.0.1:${mlPort}/slow`, 'POST', auth);
    let busy: Replica | undefined;
    for (let i = 0; i < 100 && !busy; i++) {
      await new Promise((r) => setTimeout(r, 20));
      busy = mls.find((m) => m.seen.some((s) => s.url === '/slow'));
    }
    expect(busy).toBeDefined();
    const quick = [];
    for (let i = 0; i < 4; i++)
      quick.push(nameOf((await request(`http://127.0.0.1:${mlPort}/v1/similar`, 'POST', auth)).body));
    expect(new Set(quick)).toEqual(new Set([mls.find((m) => m !== busy)!.name]));
    expect((await slow).status).toBe(200);
    for (const m of mls) for (const s of m.seen) expect(s.auth).toBe('Bearer ml-token');
  });
});

describe('the scale override: edge proxy over two backends (deploy/nginx/templates-scale)', () => {
  it('spreads /api/ over both backends and the rest to frontend', async () => {
    const names = [];
    for (let i = 0; i < 6; i++)
      names.push(nameOf((await request(`https://127.0.0.1:${httpsPort}/api/v1/plans`)).body));
    expect(new Set(names)).toEqual(new Set(['backend', 'backend-2']));
    expect(nameOf((await request(`https://127.0.0.1:${httpsPort}/en/pricing`)).body)).toBe('frontend');
  });

  it('never sends a POST that reached a backend to the other one (a payment is not applied twice)', async () => {
    backends[0].dropAfterRead = true;
    backends[1].dropAfterRead = true;
    const before = backends.map((b) => b.seen.filter((s) => s.method === 'POST').length);
    const r = await request(`https://127.0.0.1:${httpsPort}/api/v1/billing/webhook`, 'POST', {
      'content-type': 'application/json',
    });
    backends[0].dropAfterRead = false;
    backends[1].dropAfterRead = false;
    expect(r.status).toBe(502);
    const after = backends.map((b) => b.seen.filter((s) => s.method === 'POST').length);
    // Exactly one backend saw it once.
    expect(after[0] - before[0] + (after[1] - before[1])).toBe(1);
  });

  it('retries on the other backend what a dead one refused: no failed request, GET or POST', async () => {
    // The previous test's dropped connection marked its backend failed for fail_timeout (5 s, which nginx
    // counts in whole seconds of its cached clock): wait it out with a margin.
    await new Promise((r) => setTimeout(r, 6_500));
    await backends[1].kill();
    const results = [];
    for (let i = 0; i < 10; i++) {
      results.push(await request(`https://127.0.0.1:${httpsPort}/api/v1/plans`));
      results.push(
        await request(`https://127.0.0.1:${httpsPort}/api/v1/jobs`, 'POST', {
          'content-type': 'application/json',
        }),
      );
    }
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(results.map((r) => nameOf(r.body)))).toEqual(new Set(['backend']));
  });
});
