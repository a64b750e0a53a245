import { randomBytes } from 'node:crypto';

/**
 * Nuxt pages carry small inline scripts (payload, config), so instead of 'unsafe-inline' every page
 * gets a per-response nonce stamped on its own <script> tags. The only third-party script allowed is
 * Amazon Pay's button loader.
 */
const AMAZON = 'https://static-fe.payments-amazon.com';

export function buildCsp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' ${AMAZON}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https://m.media-amazon.com",
    "font-src 'self' data:",
    `connect-src 'self' https://*.amazon.com https://*.amazon.co.jp`,
    'frame-src https://*.amazon.com https://*.amazon.co.jp',
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self' https://checkout.stripe.com https://*.amazon.com https://*.amazon.co.jp",
    "frame-ancestors 'none'",
  ].join('; ');
}

const stamp = (parts: string[], nonce: string) =>
  parts.map((p) => p.replace(/<script(?![^>]*\snonce=)/g, `<script nonce="${nonce}"`));

export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('render:html', (html, { event }) => {
    const nonce = randomBytes(16).toString('base64');
    html.head = stamp(html.head, nonce);
    html.bodyPrepend = stamp(html.bodyPrepend, nonce);
    html.body = stamp(html.body, nonce);
    html.bodyAppend = stamp(html.bodyAppend, nonce);
    setResponseHeaders(event, {
      'content-security-policy': buildCsp(nonce),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'strict-origin-when-cross-origin',
      'x-frame-options': 'DENY',
      'permissions-policy': 'camera=(), microphone=(), geolocation=()',
      'cross-origin-opener-policy': 'same-origin',
    });
  });
  // Nuxt's renderer hard-codes `x-powered-by: Nuxt` in every page, payload and island response; it
  // tells an attacker which framework (and so which advisories) to try and tells users nothing.
  nitroApp.hooks.hook('render:response', (response) => {
    if (!response.headers) return;
    for (const name of Object.keys(response.headers))
      if (name.toLowerCase() === 'x-powered-by') delete response.headers[name];
  });
});
