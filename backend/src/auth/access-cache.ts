/**
 * Memo of access JWTs whose signature already checked out, so a session's later requests skip the HMAC
 * (a WebCrypto job per request) and the claims parsing. It is keyed by the whole token string, so a
 * different or tampered token never matches; expiry is re-checked on every hit exactly as jose checks it
 * (valid while exp > now in whole seconds). Revocation is not cached here: the caller checks it on
 * every request, so a revoked session stops at once.
 */
import type { AccessClaims } from './sessions.js';

interface Entry {
  claims: AccessClaims;
  /** Seconds since the epoch, the token's exp claim. */
  exp: number;
}

export class AccessCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  /** The claims of a token verified before and not yet expired at nowMs; undefined otherwise. */
  get(token: string, nowMs: number): AccessClaims | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.exp <= Math.floor(nowMs / 1000)) {
      this.entries.delete(token);
      return undefined;
    }
    return e.claims;
  }

  set(token: string, claims: AccessClaims, exp: number, nowMs: number): void {
    if (this.entries.size >= this.max) this.evict(nowMs);
    this.entries.set(token, { claims, exp });
  }

  /** Expired entries first; if all are live, the oldest (Map order is insertion order). */
  private evict(nowMs: number): void {
    const now = Math.floor(nowMs / 1000);
    for (const [k, e] of this.entries) if (e.exp <= now) this.entries.delete(k);
    const excess = this.entries.size - this.max + 1;
    if (excess <= 0) return;
    let n = 0;
    for (const k of this.entries.keys()) {
      if (n++ >= excess) break;
      this.entries.delete(k);
    }
  }
}
