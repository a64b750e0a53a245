import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeepAliveHttp, TransportError } from '../src/search/ml.http.js';
import { MlClient } from '../src/search/ml.client.js';
import { createLogger } from '../src/platform/logger.js';
import { AppError } from '../src/platform/errors.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('ml-service transport (keep-alive http)', () => {
  let server: Server;
  let base: string;
  let handler: Handler = (_req, _body, res) => res.end('{}');
  const sockets = new Set<string>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(`${req.socket.remotePort}`);
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => handler(req, body, res));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  });

  it('keeps the base path, drops undefined params, sends JSON with the fixed headers, returns any status', async () => {
    let seen: { url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    handler = (req, body, res) => {
      seen = { url: req.url, headers: req.headers, body };
      res.statusCode = 418;
      res.end('{"a":1}');
    };
    const http = new KeepAliveHttp(`${base}/ml/`, 1_000, { authorization: 'Bearer t' });
    const r = await http.request('POST', '/v1/x', {
      params: { q: 'a b&c', from: undefined, limit: 5 },
      json: { k: 'é' },
      headers: { 'x-request-id': 'rid' },
    });
    expect(r.status).toBe(418);
    expect(r.body.toString()).toBe('{"a":1}');
    expect(seen.url).toBe('/ml/v1/x?q=a+b%26c&limit=5');
    expect(seen.headers).toMatchObject({
      authorization: 'Bearer t',
      'x-request-id': 'rid',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"k":"é"}')),
    });
    expect(JSON.parse(seen.body!)).toEqual({ k: 'é' });
    const g = await http.request('GET', '/h');
    expect(seen.url).toBe('/ml/h');
    expect(seen.headers!['content-type']).toBeUndefined();
    expect(g.status).toBe(418);
  });

  it('reuses its connections for sequential calls', async () => {
    handler = (_req, _body, res) => res.end('{}');
    const http = new KeepAliveHttp(base, 1_000, {});
    sockets.clear();
    for (let i = 0; i < 20; i++) await http.request('GET', '/k');
    // undici's pool marks a connection free a tick after its answer is read, so a call made at once
    // may open a second one; what matters is that calls do not each open their own.
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('reads a large chunked answer whole', async () => {
    const big = JSON.stringify({ xs: Array.from({ length: 50_000 }, (_, i) => i / 7) });
    handler = (_req, _body, res) => {
      res.write(big.slice(0, 1000));
      setTimeout(() => res.end(big.slice(1000)), 5);
    };
    const r = await new KeepAliveHttp(base, 1_000, {}).request('GET', '/big');
    expect(r.body.toString()).toBe(big);
  });

  it('fails with TransportError on silence past the timeout, on a cut answer and on a refused connection', async () => {
    handler = () => {};
    await expect(new KeepAliveHttp(base, 100, {}).request('GET', '/slow')).rejects.toBeInstanceOf(
      TransportError,
    );
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 5);
    };
    await expect(new KeepAliveHttp(base, 1_000, {}).request('GET', '/cut')).rejects.toBeInstanceOf(
      TransportError,
    );
    const dead = createServer();
    await new Promise<void>((ok) => dead.listen(0, '127.0.0.1', () => ok()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((ok) => dead.close(() => ok()));
    await expect(
      new KeepAliveHttp(`http://127.0.0.1:${port}`, 1_000, {}).request('GET', '/'),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('MlClient passes bytes through untouched, parses JSON (or keeps text) for the rest, maps 4xx and 5xx', async () => {
    const client = new MlClient({
      baseUrl: base,
      timeoutMs: 1_000,
      retries: 0,
      logger: createLogger('silent'),
    });
    const exact = '{"x": 1.10, "y":"ü"}';
    handler = (_req, _body, res) => res.end(exact);
    const body = {
      query: { code: 'AAA', start: '2015-01-01', end: '2015-02-01' },
      topK: 5,
      horizon: 10,
      metric: 'zned',
      normalize: 'z',
      mode: 'history',
      timeframe: 'D',
    } as const;
    expect((await client.similarBytes(body)).toString()).toBe(exact);
    expect(await client.prices('AAA', undefined, undefined)).toEqual({ x: 1.1, y: 'ü' });
    handler = (_req, _body, res) => res.end('not json');
    expect(await client.prices('AAA', undefined, undefined)).toBe('not json');
    handler = (_req, _body, res) => {
      res.statusCode = 404;
      res.end('{"error":{"code":"unknown_code","message":"no such code"}}');
    };
    await expect(client.similarBytes(body)).rejects.toMatchObject({
      status: 404,
      code: 'unknown_code',
      message: 'no such code',
    });
    handler = (_req, _body, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    const err = await client.similarBytes(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 503, code: 'ml_unavailable' });
  });
});
