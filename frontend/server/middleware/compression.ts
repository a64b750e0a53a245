import type { ServerResponse } from 'node:http';
import compression from 'compression';

/**
 * gzip for what this server builds per request: rendered pages, the i18n messages JSON and the API answers
 * it forwards from backend (h3's proxy hands them on decoded). Files under /_nuxt are already served
 * pre-compressed (nitro.compressPublicAssets) and carry their own Content-Encoding, which the middleware
 * leaves alone. Server-sent events (job progress, alerts) are never compressed: gzip would hold each
 * event back until its buffer fills. Decision 128: on the simulated slow 4G of Lighthouse's mobile
 * profile an uncompressed 120 KB price series alone costs over half a second.
 */
export const isEventStream = (res: ServerResponse) =>
  String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');

const gzip = compression({
  threshold: 1024,
  filter: (req, res) => !isEventStream(res) && compression.filter(req, res),
});

// @types/compression types it as Express middleware; it only uses Node's req/res (and calls next()).
export default fromNodeMiddleware(gzip as unknown as Parameters<typeof fromNodeMiddleware>[0]);
