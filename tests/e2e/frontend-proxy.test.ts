/**
 * The built Nuxt server's /api proxy and page headers, against a recording HTTP server standing in
 * for backend on loopback: what reaches backend (path, query, body, cookies, request id, client IP)
 * and what comes back (status, JSON errors, Set-Cookie, a streamed SSE body, gzip where it pays), plus
 * the CSP nonce.
 */
import { createServer, get as httpGet, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  repoRoot,
  startProcess,
  stopProcess,
  waitForHealthy,
  type Managed,
} from '../../scripts/processes.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

// A price-series-sized answer (about 60 KB of JSON), like /entities/:code/prices.
const bigBody = {
  rows: Array.from({ length: 1200 }, (_, i) => ({
    date: `2020-01-${i}`,
    close: 100 + (i % 17),
    volume: i * 1000,
  })),
};

let backend: Server;
let frontend: Managed;
let base = '';
const seen: Seen[] = [];

beforeAll(async () => {
  backend = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/api/v1/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: job.progress\ndata: {"id":"j1","progress":0.5}\n\n');
        // The second frame arrives later: the proxy must stream, not buffer until the end.
        setTimeout(() => res.end('event: job.done\ndata: {"id":"j1","status":"succeeded"}\n\n'), 300);
        return;
      }
      if (req.url === '/api/v1/big') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(bigBody));
        return;
      }
      if (req.url?.startsWith('/api/v1/auth/login')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'invalid_credentials', message: 'Wrong email or password' } }),
        );
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': ['a=1; Path=/; HttpOnly', 'csrf_token=xyz; Path=/'],
      });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((ok) => backend.listen(0, '127.0.0.1', ok));
  const backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const port = await freePort();
  frontend = startProcess(
    'frontend',
    process.execPath,
    [resolve(repoRoot, 'frontend/.output/server/index.mjs')],
    {
      NITRO_HOST: '127.0.0.1',
      NITRO_PORT: String(port),
      NUXT_BACKEND_URL: backendUrl,
    },
  );
  base = `http://127.0.0.1:${port}`;
  await waitForHealthy(frontend, `${base}/`);
}, 120_000);

afterAll(async () => {
  if (frontend) await stopProcess(frontend);
  await new Promise((ok) => backend?.close(ok));
});

describe('frontend /api proxy', () => {
  it('forwards method, path, query, body, cookies and adds request id and client address', async () => {
    seen.length = 0;
    const res = await fetch(`${base}/api/v1/patterns?x=1&y=a%20b`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: 'access_token=t; csrf_token=c',
        'x-csrf-token': 'c',
      },
      body: JSON.stringify({ name: 'p' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/; HttpOnly', 'csrf_token=xyz; Path=/']);
    const s = seen[0]!;
    expect(s.method).toBe('POST');
    expect(s.url).toBe('/api/v1/patterns?x=1&y=a%20b');
    expect(JSON.parse(s.body)).toEqual({ name: 'p' });
    expect(s.headers.cookie).toBe('access_token=t; csrf_token=c');
    expect(s.headers['x-csrf-token']).toBe('c');
    expect(s.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('keeps an incoming request id and appends the peer to X-Forwarded-For', async () => {
    seen.length = 0;
    await fetch(`${base}/api/v1/me`, {
      headers: { 'x-request-id': 'req-123', 'x-forwarded-for': '203.0.113.9' },
    });
    expect(seen[0]!.headers['x-request-id']).toBe('req-123');
    expect(seen[0]!.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  });

  it('passes backend errors through unchanged', async () => {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { code: 'invalid_credentials', message: 'Wrong email or password' },
    });
  });

  it('streams server-sent events frame by frame', async () => {
    const res = await fetch(`${base}/api/v1/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: job.progress');
    expect(first).not.toContain('job.done');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += new TextDecoder().decode(r.value);
    expect(rest).toContain('event: job.done');
  });

  it('gzips a large JSON answer for a client that accepts it, and sends it plain to one that does not', async () => {
    const zipped = await fetch(`${base}/api/v1/big`, { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.status).toBe(200);
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toMatch(/accept-encoding/i);
    // fetch decodes it: the body is backend's, byte for byte.
    expect(await zipped.json()).toEqual(bigBody);
    // Measured on the wire (node:http does not decode): far smaller than the JSON.
    const wire = await new Promise<{ bytes: number; body: Buffer }>((ok, fail) => {
      const req = httpGet(`${base}/api/v1/big`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => ok({ bytes: Buffer.concat(parts).length, body: Buffer.concat(parts) }));
      });
      req.on('error', fail);
    });
    const json = JSON.stringify(bigBody);
    expect(wire.bytes).toBeLessThan(json.length / 4);
    expect(gunzipSync(wire.body).toString()).toBe(json);

    const plain = await fetch(`${base}/api/v1/big`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(json);
  });

  it('gzips rendered pages and the i18n messages but never server-sent events', async () => {
    const page = await fetch(`${base}/en/pricing`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.headers.get('content-encoding')).toBe('gzip');
    expect(await page.text()).toContain('</html>');
    // The messages the client fetches before it hydrates (the hash segment only busts caches).
    const m = await fetch(`${base}/_i18n/anyhash/en/messages.json`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(m.headers.get('content-encoding')).toBe('gzip');
    expect(Object.keys(await m.json())).toContain('en');
    const sse = await fetch(`${base}/api/v1/events`, { headers: { 'accept-encoding': 'gzip' } });
    expect(sse.headers.get('content-encoding')).toBeNull();
    await sse.text();
  });

  it('answers 502 in the API error shape when backend is unreachable', async () => {
    const port = await freePort();
    const lonely = startProcess(
      'frontend-no-backend',
      process.execPath,
      [resolve(repoRoot, 'frontend/.output/server/index.mjs')],
      {
        NITRO_HOST: '127.0.0.1',
        NITRO_PORT: String(port),
        NUXT_BACKEND_URL: `http://127.0.0.1:${await freePort()}`,
      },
    );
    try {
      await waitForHealthy(lonely, `http://127.0.0.1:${port}/`);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/plans`);
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({
        error: { code: 'backend_unavailable', message: 'The service is temporarily unavailable.' },
      });
    } finally {
      await stopProcess(lonely);
    }
  }, 60_000);
});

describe('page security headers', () => {
  it('sends a CSP whose nonce is on every inline and module script of the page', async () => {
    const res = await fetch(`${base}/en/pricing`);
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    const again = /'nonce-([^']+)'/.exec(
      (await fetch(`${base}/en/pricing`)).headers.get('content-security-policy') ?? '',
    )?.[1];
    expect(again).not.toBe(nonce);
  });

  it('does not announce the framework on pages, 404 pages or payloads', async () => {
    for (const path of ['/', '/en/pricing', '/no-such-page', '/_payload.json']) {
      const res = await fetch(`${base}${path}`);
      await res.arrayBuffer();
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });
});

describe('the search page on the server (decision 142)', () => {
  it('redirects a visitor without a session cookie to the login page, with the way back', async () => {
    for (const [path, login] of [
      ['/app?code=AAPL&tf=W', '/login'],
      ['/en/app', '/en/login'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { redirect: 'manual' });
      await res.arrayBuffer();
      expect(res.status, path).toBe(302);
      const to = new URL(res.headers.get('location') ?? '', base);
      expect(to.pathname).toBe(login);
      expect(to.searchParams.get('next')).toBe(path);
    }
  });

  it('renders the user-free first screen with a session cookie, asking backend nothing', async () => {
    seen.length = 0;
    for (const [path, hint] of [
      ['/app', 'チャートをドラッグして期間を選択'],
      ['/en/app', 'Drag across the chart to select a window'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { headers: { cookie: 'csrf_token=stale' } });
      expect(res.status, path).toBe(200);
      const html = await res.text();
      // The largest paint (the drag hint) and the form are in the HTML; no user, no chart data yet.
      expect(html, path).toContain(hint);
      expect(html, path).toContain('<form class="controls"');
      expect(html, path).not.toContain('hreflang');
    }
    // The session is checked by the browser after hydrating, never by the server render.
    expect(seen.filter((s) => s.url.startsWith('/api/'))).toEqual([]);
  });

  it('keeps the other signed-in pages rendered in the browser', async () => {
    const html = await (await fetch(`${base}/app/jobs`, { headers: { cookie: 'csrf_token=x' } })).text();
    expect(html).toContain('<div id="__nuxt"></div>');
  });
});
