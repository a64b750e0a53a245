import { describe, expect, it } from 'vitest';
import express from 'express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverClasses } from '../src/platform/server-classes.js';

describe('server classes', () => {
  it('requests and responses start with the app prototypes and stay IncomingMessage/ServerResponse', async () => {
    const app = express();
    const seen: boolean[] = [];
    const server = createServer(serverClasses(app), (req, res) => {
      // Before Express touches them, they already have its prototypes, so its setPrototypeOf changes nothing.
      seen.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response);
      seen.push(req instanceof IncomingMessage, res instanceof ServerResponse);
      app(req, res);
    });
    app.post('/echo', express.json(), (req, res) => {
      seen.push(Object.getPrototypeOf(req) === app.request, req.app === app, res.app === app);
      res.status(201).json({ got: req.body, ip: req.ip, path: req.path });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo?x=1`;
      for (let i = 0; i < 3; i++) {
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ i }),
        });
        expect(r.status).toBe(201);
        expect(await r.json()).toEqual({ got: { i }, ip: '127.0.0.1', path: '/echo' });
      }
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
    expect(seen).toHaveLength(21);
    expect(seen.every(Boolean)).toBe(true);
  });
});
