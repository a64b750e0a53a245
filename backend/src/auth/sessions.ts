/**
 * Access JWTs (15 min) + rotating refresh tokens. The refresh family id doubles as the session id inside
 * the JWT, so revoking a family (logout, password change, reuse detected) also kills its live access
 * tokens through the revocation list.
 */
import { createHash, createHmac, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Executor } from '../db/schema.js';
import type { AppDatabase } from '../db/database.js';
import {
  deleteFamily,
  familiesOfUser,
  familyOfToken,
  findRefreshToken,
  insertRefreshToken,
  markRefreshTokenUsed,
} from './refresh-tokens.repo.js';
import { liveRevocations, revokeSession } from './revoked-sessions.repo.js';
import { AccessCache } from './access-cache.js';
import { MemoryRevocations } from '../shared/in-process.state.js';
import type { RevocationStore } from '../shared/shared-state.js';

export const ACCESS_TTL_S = 15 * 60;
export const REFRESH_TTL_S = 30 * 24 * 3600;

export interface AccessClaims {
  userId: string;
  role: 'user' | 'admin';
  sessionId: string;
}

export interface IssuedSession {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

export type RefreshResult =
  | { ok: true; session: IssuedSession; userId: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'reused' };

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

export class SessionService {
  /** Revocations made in a transaction, handed to the revocation store once it committed. */
  private readonly unpublished: [sessionId: string, untilMs: number][] = [];

  /** Tokens already verified: every request of a session carries the same one for up to 15 minutes. */
  private readonly verified = new AccessCache();

  /** Imported once: handing jose raw bytes would re-import the HMAC key on every request. */
  private readonly key: Promise<webcrypto.CryptoKey>;

  /** Signs CSRF tokens; derived from the JWT secret so the two never share a MAC input. */
  private readonly csrfKey: Buffer;

  /** Builds the service and hands the revocations kept in the database to the revocation store. */
  static async open(
    database: AppDatabase,
    secret: Uint8Array,
    now: () => number = Date.now,
    revocations: RevocationStore = new MemoryRevocations(now),
  ): Promise<SessionService> {
    const s = new SessionService(database, secret, now, revocations);
    for (const r of await liveRevocations(database.kysely, now()))
      s.unpublished.push([r.session_id, r.expires_at]);
    // In process this is done before open resolves; Redis only hears again what it was told.
    await s.flushRevocations();
    return s;
  }

  private constructor(
    private readonly database: AppDatabase,
    secret: Uint8Array,
    private readonly now: () => number = Date.now,
    /**
     * Where requests look revocations up (in process or Redis): revoked_sessions keeps them in the
     * database, this answers the hot path without touching it.
     */
    private readonly revocations: RevocationStore = new MemoryRevocations(now),
  ) {
    this.csrfKey = createHmac('sha256', secret).update('resemble csrf key').digest();
    this.key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
  }

  async issue(userId: string, role: AccessClaims['role'], familyId = randomUUID()): Promise<IssuedSession> {
    const refreshToken = randomToken();
    const now = this.now();
    await insertRefreshToken(this.database.kysely, {
      tokenHash: sha256(refreshToken),
      userId,
      familyId,
      expiresAt: now + REFRESH_TTL_S * 1000,
      createdAt: now,
    });
    return {
      accessToken: await this.signAccess({ userId, role, sessionId: familyId }),
      refreshToken,
      sessionId: familyId,
    };
  }

  /**
   * The CSRF token of a session: a MAC of its id, so it is the same for the session's whole life (across
   * refreshes), differs between sessions, and cannot be planted: a cookie an attacker sets with a value
   * of their choosing matches no session of the victim's.
   */
  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionId).digest('base64url');
  }

  async verifyAccess(token: string): Promise<AccessClaims | null> {
    const known = this.knownAccess(token);
    if (known !== undefined) return known;
    const now = this.now();
    let claims: AccessClaims;
    try {
      // Every claim ours carry is required: a token without exp would never expire, and iat bounds its
      // age to the access lifetime even when exp says later.
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: ['HS256'],
        currentDate: new Date(now),
        requiredClaims: ['exp', 'iat', 'sub', 'sid'],
        maxTokenAge: ACCESS_TTL_S,
      });
      claims = {
        userId: String(payload.sub),
        role: payload.role === 'admin' ? 'admin' : 'user',
        sessionId: String(payload.sid),
      };
      // Ours never carry nbf; a token with one is simply verified again next time. The memo ends where
      // jose's checks would first fail: at exp, or at iat + the access lifetime if that comes sooner.
      if (payload.nbf === undefined)
        this.verified.set(token, claims, Math.min(payload.exp!, payload.iat! + ACCESS_TTL_S + 1), now);
    } catch {
      return null;
    }
    return (await this.revocations.isRevoked(claims.sessionId)) ? null : claims;
  }

  /**
   * The answer verifyAccess would give, without waiting, for a token verified before and not expired;
   * undefined when the token still has to be verified. Revocation is checked here on every call, so a
   * revoked session stops at once.
   */
  knownAccess(token: string): AccessClaims | null | Promise<AccessClaims | null> | undefined {
    const claims = this.verified.get(token, this.now());
    if (!claims) return undefined;
    const revoked = this.revocations.isRevoked(claims.sessionId);
    // In process the answer is at hand; a shared store (Redis) answers with a promise.
    if (typeof revoked === 'boolean') return revoked ? null : claims;
    return revoked.then((r) => (r ? null : claims));
  }

  async refresh(
    refreshToken: string,
    roleOf: (userId: string) => Promise<AccessClaims['role'] | undefined>,
  ): Promise<RefreshResult> {
    const now = this.now();
    const hash = sha256(refreshToken);
    const outcome = await this.database.kysely
      .transaction()
      .execute(
        async (
          trx,
        ): Promise<RefreshResult | { ok: true; userId: string; familyId: string; token: string }> => {
          const row = await findRefreshToken(trx, hash);
          if (!row) return { ok: false, reason: 'unknown' };
          const reused = async () => {
            // A rotated token came back: someone holds a copy. End the whole family for both holders.
            await this.revokeFamilyTx(trx, row.family_id);
            return { ok: false, reason: 'reused' } as const;
          };
          if (row.used_at !== null) return reused();
          if (row.expires_at < now) return { ok: false, reason: 'expired' };
          // Used by a concurrent refresh in the meantime: the same as a reuse.
          if (!(await markRefreshTokenUsed(trx, hash, now))) return reused();
          const token = randomToken();
          await insertRefreshToken(trx, {
            tokenHash: sha256(token),
            userId: row.user_id,
            familyId: row.family_id,
            expiresAt: now + REFRESH_TTL_S * 1000,
            createdAt: now,
          });
          return { ok: true, userId: row.user_id, familyId: row.family_id, token };
        },
      );
    if (!outcome.ok) {
      await this.flushRevocations();
      return outcome;
    }
    if ('session' in outcome) return outcome;
    const role = await roleOf(outcome.userId);
    if (!role) return { ok: false, reason: 'unknown' };
    const accessToken = await this.signAccess({ userId: outcome.userId, role, sessionId: outcome.familyId });
    return {
      ok: true,
      userId: outcome.userId,
      session: { accessToken, refreshToken: outcome.token, sessionId: outcome.familyId },
    };
  }

  /** Resolves once every replica refuses the session: answer the request only after it. */
  async revokeFamily(familyId: string): Promise<void> {
    await this.database.kysely.transaction().execute((trx) => this.revokeFamilyTx(trx, familyId));
    await this.flushRevocations();
  }

  /**
   * Password change / reset / account deletion: every session of the user ends, in the caller's
   * transaction; once it committed, `published()` tells every replica (see revokeFamily).
   */
  async revokeAllForUser(trx: Executor, userId: string): Promise<void> {
    for (const family of await familiesOfUser(trx, userId)) await this.revokeFamilyTx(trx, family);
  }

  /** Hands the revocations of committed transactions to the revocation store (every replica). */
  published(): Promise<void> {
    return this.flushRevocations();
  }

  familyOf(refreshToken: string): Promise<string | undefined> {
    return familyOfToken(this.database.kysely, sha256(refreshToken));
  }

  isRevoked(sessionId: string): Promise<boolean> {
    return Promise.resolve(this.revocations.isRevoked(sessionId));
  }

  private async flushRevocations(): Promise<void> {
    const batch = this.unpublished.splice(0);
    // Started together and synchronously: the in-process store has them all before the first await.
    await Promise.all(batch.map(([sessionId, until]) => this.revocations.revoke(sessionId, until)));
  }

  private async revokeFamilyTx(trx: Executor, familyId: string): Promise<void> {
    // Access tokens of this family live at most ACCESS_TTL_S more; the entry can expire after that.
    const until = this.now() + (ACCESS_TTL_S + 60) * 1000;
    await deleteFamily(trx, familyId);
    await revokeSession(trx, familyId, until);
    this.unpublished.push([familyId, until]);
  }

  private async signAccess(c: AccessClaims): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({ role: c.role, sid: c.sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(c.userId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ACCESS_TTL_S)
      .setJti(randomUUID())
      .sign(await this.key);
  }
}
