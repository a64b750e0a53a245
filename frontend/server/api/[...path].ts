import { randomUUID } from 'node:crypto';

// The browser only ever talks to this origin; /api/** is forwarded verbatim to backend so cookies,
// CSRF and SSE work without CORS. Hop-by-hop headers are left to h3's proxy.
export default defineEventHandler((event) => {
  const { backendUrl } = useRuntimeConfig(event);
  const requestId = getRequestHeader(event, 'x-request-id') || randomUUID();
  const target = new URL(event.path, backendUrl).toString();
  return proxyRequest(event, target, {
    headers: { 'x-request-id': requestId, 'x-forwarded-host': getRequestHost(event) },
    fetchOptions: { redirect: 'manual' },
  });
});
