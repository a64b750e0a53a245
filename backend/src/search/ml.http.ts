/**
 * The transport under MlClient: axios with one keep-alive agent, the whole answer as bytes (proxied
 * answers pass through unparsed), any status returned to the caller (never thrown), and network failures
 * (refused, reset, timed out) as TransportError. The instance is built once; per call it only merges the
 * request id header.
 */
import axios, { type AxiosInstance } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

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
  private readonly http: AxiosInstance;

  constructor(baseUrl: string, timeoutMs: number, headers: Record<string, string>) {
    this.http = axios.create({
      baseURL: baseUrl,
      timeout: timeoutMs,
      headers: { accept: 'application/json', ...headers },
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      // Bytes in, bytes out: no decoding or JSON parsing here, and statuses are mapped by the caller.
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      // ml-service is on the internal network; never route it through a proxy from the environment.
      proxy: false,
      maxRedirects: 0,
    });
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    opts: { params?: Record<string, unknown>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpReply> {
    try {
      const res = await this.http.request<ArrayBuffer>({ method, url: path, params: opts.params, data: opts.json, headers: opts.headers });
      const data = res.data as unknown;
      const body = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      return { status: res.status, body };
    } catch (err) {
      if (axios.isAxiosError(err)) throw new TransportError(err.code ?? err.message);
      throw err;
    }
  }
}
