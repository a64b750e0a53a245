/**
 * Amazon SNS message signature check (Amazon Pay IPN is delivered through SNS). The signing certificate
 * is fetched only from an allowed URL, the canonical string is rebuilt from the documented fields, and
 * stale messages are refused so a captured message cannot be replayed later.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { z } from 'zod';

export const snsMessageSchema = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Subject: z.string().optional(),
  Message: z.string(),
  Timestamp: z.string(),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1),
  SigningCertURL: z.string().url(),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
});
export type SnsMessage = z.infer<typeof snsMessageSchema>;

export const AMAZON_SNS_CERT_URL = /^https:\/\/sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[^?#]+\.pem$/;
const MAX_AGE_MS = 60 * 60 * 1000;

export interface SnsVerifierOptions {
  certUrlPattern?: RegExp;
  fetchText?: (url: string) => Promise<string>;
  now?: () => number;
}

export class SnsVerifier {
  private readonly certs = new Map<string, string>();
  private readonly pattern: RegExp;
  private readonly fetchText: (url: string) => Promise<string>;
  private readonly now: () => number;

  constructor(o: SnsVerifierOptions = {}) {
    this.pattern = o.certUrlPattern ?? AMAZON_SNS_CERT_URL;
    this.fetchText =
      o.fetchText ??
      (async (url) => {
        const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`certificate fetch answered ${res.status}`);
        return res.text();
      });
    this.now = o.now ?? Date.now;
  }

  /** Returns the parsed message when authentic and fresh; throws with the reason otherwise. */
  async verify(body: string): Promise<SnsMessage> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new Error('body is not JSON');
    }
    const msg = snsMessageSchema.parse(parsed);
    if (!this.pattern.test(msg.SigningCertURL))
      throw new Error('signing certificate URL is not an allowed SNS address');
    const age = this.now() - Date.parse(msg.Timestamp);
    if (!(age <= MAX_AGE_MS && age > -5 * 60_000))
      throw new Error('message timestamp is too old or in the future');
    const pem = await this.cert(msg.SigningCertURL);
    const verifier = createVerify(msg.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    verifier.update(canonical(msg));
    if (!verifier.verify(pem, msg.Signature, 'base64')) throw new Error('signature does not match');
    return msg;
  }

  private async cert(url: string): Promise<string> {
    const cached = this.certs.get(url);
    if (cached) return cached;
    const pem = await this.fetchText(url);
    const cert = new X509Certificate(pem);
    if (Date.parse(cert.validTo) < this.now()) throw new Error('signing certificate expired');
    this.certs.set(url, pem);
    return pem;
  }
}

export function canonical(m: SnsMessage): string {
  const keys =
    m.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  return keys
    .filter((k) => m[k] !== undefined)
    .map((k) => `${k}\n${m[k]}\n`)
    .join('');
}
