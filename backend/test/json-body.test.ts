import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express, { type RequestHandler } from 'express';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { jsonBody } from '../src/platform/json-body.js';

/** An app that answers what the body parser made of a request: the body, or the error's status and type. */
async function serve(parser: RequestHandler): Promise<{ server: Server; port: number }> {
  const app = express();
  app.use(parser);
  app.post('/', (req, res) => {
    res.json({ body: req.body === undefined ? '<undefined>' : req.body });
  });
  app.use(((err, _req, res, _next) => {
    res.status(500).json({ status: err.status, type: err.type });
  }) as express.ErrorRequestHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((ok) => server.once('listening', ok));
  return { server, port: (server.address() as AddressInfo).port };
}

function send(port: number, headers: Record<string, string>, body: Buffer | string): Promise<string> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => ok(`${res.statusCode} ${text}`));
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('jsonBody gives the same outcome as express.json', () => {
  let theirs: { server: Server; port: number };
  let ours: { server: Server; port: number };
  beforeAll(async () => {
    theirs = await serve(express.json({ limit: '100kb' }));
    ours = await serve(jsonBody(100 * 1024));
  });
  afterAll(() => {
    for (const s of [theirs, ours]) {
      s.server.closeAllConnections();
      s.server.close();
    }
  });

  const json = 'application/json';
  const big = JSON.stringify({ x: 'y'.repeat(100 * 1024) });
  const cases: [string, Record<string, string>, Buffer | string][] = [
    ['object', { 'content-type': json }, '{"query":{"code":"AAA"},"topK":10,"é":"ü"}'],
    ['array', { 'content-type': json }, '[1,2,3]'],
    ['charset utf-8', { 'content-type': 'application/json; charset=utf-8' }, '{"a":1}'],
    ['leading whitespace', { 'content-type': json }, ' \n\t{"a":1}'],
    ['byte order mark', { 'content-type': json }, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])],
    ['empty', { 'content-type': json }, ''],
    ['top-level number', { 'content-type': json }, '123'],
    ['top-level string', { 'content-type': json }, '"x"'],
    ['whitespace only', { 'content-type': json }, '   '],
    ['broken', { 'content-type': json }, '{"email":'],
    ['invalid utf-8', { 'content-type': json }, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['too large', { 'content-type': json }, big],
    ['exactly at the limit', { 'content-type': json }, `{"x":"${'y'.repeat(100 * 1024 - 8)}"}`],
    ['gzip', { 'content-type': json, 'content-encoding': 'gzip' }, gzipSync('{"a":1}')],
    ['latin1 charset', { 'content-type': 'application/json; charset=latin1' }, '{"a":1}'],
    ['other type', { 'content-type': 'text/plain' }, '{"a":1}'],
    ['vendor json type', { 'content-type': 'application/vnd.api+json' }, '{"a":1}'],
    ['upper-case type', { 'content-type': 'Application/JSON' }, '{"a":1}'],
    ['no type', {}, '{"a":1}'],
  ];
  for (const [name, headers, body] of cases) {
    it(name, async () => {
      const h = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
      expect(await send(ours.port, h, body)).toBe(await send(theirs.port, h, body));
    });
  }

  it('chunked bodies (no content-length) too', async () => {
    const h = { 'content-type': json, 'transfer-encoding': 'chunked' };
    expect(await send(ours.port, h, '{"a":[1]}')).toBe(await send(theirs.port, h, '{"a":[1]}'));
  });

  it('the cases above cover both outcomes', async () => {
    expect(await send(ours.port, { 'content-type': json }, '{"a":1}')).toBe('200 {"body":{"a":1}}');
    expect(await send(ours.port, { 'content-type': json }, '123')).toBe('500 {"status":400,"type":"entity.parse.failed"}');
  });
});
