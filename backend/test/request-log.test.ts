import { describe, expect, it } from 'vitest';
import express from 'express';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../src/platform/logger.js';
import { requestLogger } from '../src/platform/request-log.js';

/** A tiny app behind the request logger; returns the parsed log lines of each call. */
async function withApp(level: string, run: (url: string) => Promise<void>): Promise<Record<string, any>[]> {
  const lines: string[] = [];
  const log = createLogger(level, new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }));
  const app = express();
  app.use(requestLogger(app, log));
  app.get('/ok', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/note', (req, res) => {
    req.log.warn({ n: 1 }, 'a note');
    res.status(404).json({ error: 'x' });
  });
  app.get('/boom', (_req, res) => {
    res.status(500).end();
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((ok) => server.once('listening', ok));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
  return lines.map((l) => JSON.parse(l));
}

describe('request logger', () => {
  it('sets the request id header and writes no line for a success at info', async () => {
    const lines = await withApp('info', async (url) => {
      const r = await fetch(`${url}/ok`, { headers: { 'x-request-id': 'abc-1' } });
      expect(r.headers.get('x-request-id')).toBe('abc-1');
    });
    expect(lines).toEqual([]);
  });

  it('at debug, one completion line with reqId, the redacted request, the response and responseTime', async () => {
    const lines = await withApp('debug', async (url) => {
      await fetch(`${url}/ok?x=1`, { headers: { 'x-request-id': 'abc-2', cookie: 'access_token=secret', authorization: 'Bearer rsm_secret' } });
    });
    expect(lines).toHaveLength(1);
    const [l] = lines;
    expect(l).toMatchObject({ level: 20, reqId: 'abc-2', msg: 'request completed', req: { id: 'abc-2', method: 'GET', url: '/ok?x=1' }, res: { statusCode: 200 } });
    expect(typeof l.responseTime).toBe('number');
    expect(l.req.headers.cookie).toBe('[redacted]');
    expect(l.req.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(l)).not.toContain('secret');
  });

  it('lines logged during a request carry its reqId; 4xx completes at info, 5xx errors at error', async () => {
    const lines = await withApp('info', async (url) => {
      await fetch(`${url}/note`, { headers: { 'x-request-id': 'abc-3' } });
      await fetch(`${url}/boom`, { headers: { 'x-request-id': 'abc-4' } });
    });
    expect(lines.map((l) => [l.reqId, l.level, l.msg])).toEqual([
      ['abc-3', 40, 'a note'],
      ['abc-3', 30, 'request completed'],
      ['abc-4', 50, 'request errored'],
    ]);
    expect(lines[0].req).toBeUndefined();
    expect(lines[1]).toMatchObject({ req: { url: '/note' }, res: { statusCode: 404 } });
    expect(lines[2].err.message).toBe('failed with status code 500');
  });
});
