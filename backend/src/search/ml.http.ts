/**
 * The transport under MlClient: one keep-alive agent, a request, the whole answer as bytes. It replaces
 * axios on the proxy path, where axios's config merging, header normalisation, redirect wrapper and proxy
 * lookup cost more CPU than the call itself. Semantics kept from the axios setup it replaced: base URL
 * path prefix, query params without undefined values, the timeout as socket inactivity (req.setTimeout),
 * any status returned to the caller (never thrown), network failures as TransportError.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpReply {
  status: number;
  body: Buffer;
}

/** The request never got a complete answer: refused, reset, timed out. */
export class TransportError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export class KeepAliveHttp {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly host: string;
  private readonly port: string;
  private readonly prefix: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
    private readonly headers: Record<string, string>,
  ) {
    const u = new URL(baseUrl);
    const https = u.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    this.send = https ? httpsRequest : httpRequest;
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = u.port;
    this.prefix = u.pathname.replace(/\/+$/, '');
  }

  request(method: 'GET' | 'POST', path: string, opts: { params?: Record<string, unknown>; json?: unknown; headers?: Record<string, string> } = {}): Promise<HttpReply> {
    const headers: OutgoingHttpHeaders = { accept: 'application/json', ...this.headers, ...opts.headers };
    let payload: Buffer | undefined;
    if (opts.json !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.json));
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    return new Promise<HttpReply>((resolve, reject) => {
      const req = this.send(
        { host: this.host, port: this.port, method, path: this.prefix + path + query(opts.params), headers, agent: this.agent },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
          res.on('error', (err: NodeJS.ErrnoException) => reject(new TransportError(err.code ?? err.message)));
          // A connection cut mid-body closes the response without 'end' (settling twice is a no-op).
          res.on('close', () => res.complete || reject(new TransportError('ECONNRESET')));
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new TransportError('ECONNABORTED')));
      req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof TransportError ? err : new TransportError(err.code ?? err.message)));
      req.end(payload);
    });
  }
}

/** Like axios's params: undefined and null values are left out. */
function query(params: Record<string, unknown> | undefined): string {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.append(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
