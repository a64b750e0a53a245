import { randomUUID } from 'node:crypto';

// The browser only ever talks to this origin; /api/** is forwarded verbatim to backend so cookies,
// CSRF and SSE work without CORS. Hop-by-hop headers are left to h3's proxy.
export default defineEventHandler(async (event) => {
  const { backendUrl } = useRuntimeConfig(event);
  const requestId = getRequestHeader(event, 'x-request-id') || randomUUID();
  const target = new URL(event.path, backendUrl).toString();
  // Backend trusts X-Forwarded-For from the proxies its TRUST_PROXY lists (loopback by default, where
  // this server runs beside it) and takes the right-most untrusted entry as the client, so per-IP rate
  // limits see real visitors rather than this server's address.
  const peer = event.node.req.socket.remoteAddress ?? '';
  const prior = getRequestHeader(event, 'x-forwarded-for');
  try {
    // The answer is written straight to the response; proxyRequest's return value (what res.end()
    // returned) is not a body. With the gzip middleware (server/middleware/compression.ts) res.end()
    // returns the gzip stream, which h3 would try to send a second time, so nothing is returned here.
    await proxyRequest(event, target, {
      headers: {
        'x-request-id': requestId,
        'x-forwarded-for': prior ? `${prior}, ${peer}` : peer,
        'x-forwarded-host': getRequestHost(event),
        'x-forwarded-proto': getRequestProtocol(event),
      },
      fetchOptions: { redirect: 'manual' },
    });
    return;
  } catch (err) {
    // Backend down: answer in the API's own error shape so the UI shows its usual message.
    if (isError(err) && err.statusCode === 502) {
      setResponseStatus(event, 502);
      setResponseHeader(event, 'x-request-id', requestId);
      return { error: { code: 'backend_unavailable', message: 'The service is temporarily unavailable.' } };
    }
    throw err;
  }
});
