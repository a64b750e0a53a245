/**
 * A local HTTPS stand-in for the Amazon Pay v2 API (self-signed cert made here with openssl) and an
 * SNS-style signer for IPNs (throwaway signing cert served over loopback).
 */
import express from 'express';
import { execFileSync } from 'node:child_process';
import { constants, createHash, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttps } from 'node:https';
import { createServer as createHttp, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonical, type SnsMessage } from '../../src/billing/sns-verify.js';

export function selfSigned(cn: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'resemble-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '400',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function merchantKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey };
}

type ChargeOutcome = 'Captured' | 'Pending' | 'SoftDeclined' | 'HardDeclined';

export interface AmazonPayStandIn {
  host: string;
  sessions: Map<string, { merchantReferenceId: string; customInformation: string; decline?: boolean }>;
  permissions: Map<string, { state: string }>;
  charges: Map<
    string,
    { chargeId: string; chargePermissionId: string; state: string; reasonCode: string | null }
  >;
  /** Outcomes handed out to new charges in order; Captured when empty. */
  nextCharges: ChargeOutcome[];
  chargeCalls: number;
  authHeaders: string[];
  /** When true every call answers 503, as during an Amazon Pay outage. */
  down: boolean;
  /** Requests refused because their signature did not verify against the merchant's public key. */
  badSignatures: number;
  close(): Promise<void>;
}

/**
 * Checks a request's `authorization` header the way Amazon Pay does: the SDK's canonical request (method,
 * path, query, the signed headers in its order, SHA-256 of the body), hashed under the algorithm name,
 * RSASSA-PSS with SHA-256 (salt 20 for AMZN-PAY-RSASSA-PSS, 32 for -V2) against the merchant's public key.
 */
function signatureValid(req: express.Request, rawBody: string, publicKey: string): boolean {
  const m = /^(AMZN-PAY-RSASSA-PSS(?:-V2)?) PublicKeyId=[^,]+, SignedHeaders=([^,]+), Signature=(\S+)$/.exec(
    String(req.headers.authorization ?? ''),
  );
  if (!m) return false;
  const [, algorithm, signedHeaders, signature] = m as unknown as [string, string, string, string];
  const names = signedHeaders.split(';');
  const query = new URL(req.originalUrl, 'https://x').searchParams;
  const canonicalQuery = [...query.keys()]
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query.get(k)!)}`)
    .join('&');
  let canonical = `${req.method}\n${req.path}\n${canonicalQuery}\n`;
  for (const name of names)
    canonical += `${name.toLowerCase()}:${String(req.headers[name.toLowerCase()] ?? '')}\n`;
  canonical += `\n${signedHeaders}\n${createHash('sha256').update(rawBody).digest('hex')}`;
  const toSign = `${algorithm}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const saltLength = algorithm.endsWith('-V2') ? 32 : 20;
  return createVerify('RSA-SHA256')
    .update(toSign)
    .verify({ key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature, 'base64');
}

/** @param opts.publicKey the merchant's public key: when given, every request's signature must verify. */
export async function startAmazonPayStandIn(opts: { publicKey?: string } = {}): Promise<AmazonPayStandIn> {
  const tls = selfSigned('127.0.0.1');
  const state: AmazonPayStandIn = {
    host: '',
    sessions: new Map(),
    permissions: new Map(),
    charges: new Map(),
    nextCharges: [],
    chargeCalls: 0,
    authHeaders: [],
    down: false,
    badSignatures: 0,
    close: async () => {},
  };
  const byKey = new Map<string, string>();
  let n = 0;
  const app = express();
  app.use(
    express.json({
      verify: (req, _res, buf) => ((req as unknown as { rawBody: string }).rawBody = buf.toString('utf8')),
    }),
  );
  app.use((req, res, next) => {
    state.authHeaders.push(String(req.headers.authorization ?? ''));
    if (state.down) return res.status(503).json({ reasonCode: 'ServiceUnavailable', message: 'down' });
    const rawBody = (req as unknown as { rawBody?: string }).rawBody ?? '';
    if (opts.publicKey && !signatureValid(req, rawBody, opts.publicKey)) {
      state.badSignatures++;
      return res
        .status(401)
        .json({ reasonCode: 'InvalidRequestSignature', message: 'the request signature does not verify' });
    }
    next();
  });
  const err = (res: express.Response, status: number, reasonCode: string) =>
    res.status(status).json({ reasonCode, message: reasonCode });
  app.get('/v2/checkoutSessions/:id', (req, res) => {
    const s = state.sessions.get(req.params.id);
    if (!s) return err(res, 404, 'ResourceNotFound');
    res.json({
      checkoutSessionId: req.params.id,
      statusDetails: { state: 'Open' },
      merchantMetadata: {
        merchantReferenceId: s.merchantReferenceId,
        customInformation: s.customInformation,
      },
    });
  });
  app.post('/v2/checkoutSessions/:id/complete', (req, res) => {
    const s = state.sessions.get(req.params.id);
    if (!s) return err(res, 404, 'ResourceNotFound');
    if (s.decline) return err(res, 400, 'CheckoutSessionCanceled');
    const cp = `S03-${++n}`;
    state.permissions.set(cp, { state: 'Chargeable' });
    const chargeId = `${cp}-C01`;
    state.charges.set(chargeId, { chargeId, chargePermissionId: cp, state: 'Captured', reasonCode: null });
    res.json({
      checkoutSessionId: req.params.id,
      chargePermissionId: cp,
      chargeId,
      statusDetails: { state: 'Completed' },
    });
  });
  app.get('/v2/chargePermissions/:id', (req, res) => {
    const p = state.permissions.get(req.params.id);
    if (!p) return err(res, 404, 'ResourceNotFound');
    res.json({ chargePermissionId: req.params.id, statusDetails: { state: p.state } });
  });
  app.delete('/v2/chargePermissions/:id/close', (req, res) => {
    const p = state.permissions.get(req.params.id);
    if (!p) return err(res, 404, 'ResourceNotFound');
    p.state = 'Closed';
    res.json({ chargePermissionId: req.params.id, statusDetails: { state: 'Closed' } });
  });
  app.post('/v2/charges', (req, res) => {
    const key = String(req.headers['x-amz-pay-idempotency-key'] ?? '');
    if (!key) return err(res, 400, 'MissingHeaderValue');
    const seen = byKey.get(key);
    if (seen) {
      // Amazon answers a repeated idempotency key with the charge it already made.
      const c = state.charges.get(seen)!;
      return res
        .status(201)
        .json({
          chargeId: c.chargeId,
          chargePermissionId: c.chargePermissionId,
          statusDetails: { state: c.state, reasonCode: c.reasonCode },
        });
    }
    state.chargeCalls++;
    const cp = String(req.body.chargePermissionId);
    if (state.permissions.get(cp)?.state !== 'Chargeable')
      return err(res, 422, 'InvalidChargePermissionStatus');
    const outcome = state.nextCharges.shift() ?? 'Captured';
    const chargeId = `${cp}-C${++n}`;
    const chargeState =
      outcome === 'Captured' ? 'Captured' : outcome === 'Pending' ? 'CaptureInitiated' : 'Declined';
    const charge = {
      chargeId,
      chargePermissionId: cp,
      state: chargeState,
      reasonCode: chargeState === 'Declined' ? outcome : null,
    };
    state.charges.set(chargeId, charge);
    byKey.set(key, chargeId);
    res
      .status(201)
      .json({
        chargeId,
        chargePermissionId: cp,
        statusDetails: { state: charge.state, reasonCode: charge.reasonCode },
      });
  });
  app.get('/v2/charges/:id', (req, res) => {
    const c = state.charges.get(req.params.id);
    if (!c) return err(res, 404, 'ResourceNotFound');
    res.json({
      chargeId: c.chargeId,
      chargePermissionId: c.chargePermissionId,
      statusDetails: { state: c.state, reasonCode: c.reasonCode },
    });
  });
  const server = createHttps({ key: tls.key, cert: tls.cert }, app);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return state;
}

/** Signs SNS messages with a throwaway certificate served at certUrl over loopback. */
export async function startSnsSigner(): Promise<{
  certUrl: string;
  sign(m: Omit<SnsMessage, 'Signature' | 'SigningCertURL' | 'SignatureVersion'>): SnsMessage;
  close(): Promise<void>;
}> {
  const { key, cert } = selfSigned('sns.ap-northeast-1.amazonaws.com');
  const server: Server = createHttp((req, res) => {
    if (req.url === '/SimpleNotificationService-test.pem') res.end(cert);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const certUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/SimpleNotificationService-test.pem`;
  return {
    certUrl,
    sign(m) {
      const full = { ...m, SignatureVersion: '2', SigningCertURL: certUrl, Signature: '' } as SnsMessage;
      full.Signature = createSign('RSA-SHA256').update(canonical(full)).sign(key, 'base64');
      return full;
    },
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
