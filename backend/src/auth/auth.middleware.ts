import type { Request, RequestHandler } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { Scope } from './auth-info.js';
import { AppError, unauthenticated } from '../platform/errors.js';
import { currentPlan, type PlanLookup } from '../plans/entitlements.js';
import type { Feature } from '../plans/plans.js';
import { sha256, type AccessClaims, type SessionService } from './sessions.js';
import { activeTokenByHash, touchToken } from '../tokens/api-tokens.repo.js';

export const API_TOKEN_PREFIX = 'rsm_';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Authorised by what the body carries (password, emailed token), not by cookies, so CSRF cannot ride on them. */
const CREDENTIAL_ROUTES = new Set([
  '/auth/login',
  '/auth/register',
  '/auth/forgot',
  '/auth/reset',
  '/auth/verify',
]);

/** Resolves who is calling (Bearer API token or access cookie) without rejecting; requireAuth decides. */
export function authenticate(
  deps: PlanLookup & { sessions: Pick<SessionService, 'knownAccess' | 'verifyAccess'> },
): RequestHandler {
  const { db, plans, sessions, now } = deps;
  const signIn = (req: Request, claims: AccessClaims | null) => {
    if (claims)
      req.auth = { userId: claims.userId, role: claims.role, via: 'cookie', sessionId: claims.sessionId };
  };
  const bearer = async (req: Request, token: string) => {
    const row = token.startsWith(API_TOKEN_PREFIX) ? await activeTokenByHash(db, sha256(token)) : undefined;
    if (!row) throw unauthenticated('the API token is invalid or revoked');
    // Tokens are a paid feature: a lapsed subscription silences them without deleting them.
    if (!(await currentPlan(db, plans, row.user_id, now())).features.apiTokens) {
      throw new AppError(403, 'plan_required', 'API tokens need an active Pro subscription', {
        upgradeUrl: '/pricing',
      });
    }
    await touchToken(db, row.id, new Date(now()).toISOString());
    req.auth = {
      userId: row.user_id,
      role: row.role,
      via: 'token',
      tokenId: row.id,
      scopes: JSON.parse(row.scopes) as Scope[],
    };
  };
  // Not async: a session's requests after its first are answered from the verified-token memo without
  // a promise, and only a token seen for the first time waits for the HMAC check.
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      return bearer(req, header.slice(7).trim()).then(() => next(), next);
    }
    const cookie = req.cookies?.access_token as string | undefined;
    if (!cookie) return next();
    const known = sessions.knownAccess(cookie);
    if (known !== undefined && !(known instanceof Promise)) {
      signIn(req, known);
      return next();
    }
    return (known ?? sessions.verifyAccess(cookie)).then((claims) => {
      signIn(req, claims);
      next();
    });
  };
}

/**
 * CSRF check for cookie-authenticated writes: the x-csrf-token header must be the token of the session the
 * cookies belong to (SessionService.csrfToken, also handed to the page in the readable csrf_token cookie).
 * Comparing the header with the cookie alone let a planted cookie pass. Bearer callers are exempt: a
 * browser never attaches an Authorization header on its own, so a forged cross-site request cannot carry one.
 */
export function csrfProtect(sessions: Pick<SessionService, 'familyOf' | 'csrfToken'>): RequestHandler {
  return async (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || req.auth?.via === 'token' || CREDENTIAL_ROUTES.has(req.path))
      return next();
    // The session of the access cookie, or, when that one expired, of the refresh cookie (refresh, logout).
    const refresh = req.cookies?.refresh_token as string | undefined;
    const sessionId = req.auth?.sessionId ?? (refresh ? await sessions.familyOf(refresh) : undefined);
    // No live session: the request carries no authority for a forged copy to borrow.
    if (!sessionId) return next();
    const expected = Buffer.from(sessions.csrfToken(sessionId));
    const header = Buffer.from(String(req.headers['x-csrf-token'] ?? ''));
    if (header.length !== expected.length || !timingSafeEqual(header, expected)) {
      throw new AppError(
        403,
        'csrf_failed',
        "missing or wrong x-csrf-token header (it must equal this session's csrf_token cookie)",
      );
    }
    next();
  };
}

const sessionOnly = () =>
  new AppError(403, 'insufficient_scope', 'this route needs a signed-in session, not an API token');

/**
 * For routes that work without a live session (refresh and logout run on the refresh cookie alone) and so
 * cannot use requireAuth: an API token is still refused there, as on every route outside its scopes.
 */
export const refuseApiTokens: RequestHandler = (req, _res, next) => {
  if (req.auth?.via === 'token') throw sessionOnly();
  next();
};

/**
 * Rejects anonymous callers; with a scope, API tokens need it ('any': every token may); without one, the
 * route is session-only.
 */
export function requireAuth(opts: { scope?: Scope | 'any'; role?: 'admin' } = {}): RequestHandler {
  return (req, _res, next) => {
    const auth = req.auth;
    if (!auth) throw unauthenticated();
    if (auth.via === 'token' && opts.scope !== 'any' && (!opts.scope || !auth.scopes?.includes(opts.scope))) {
      throw opts.scope
        ? new AppError(403, 'insufficient_scope', `this API token lacks the "${opts.scope}" scope`)
        : sessionOnly();
    }
    if (opts.role && auth.role !== opts.role) throw new AppError(403, 'forbidden', 'administrators only');
    next();
  };
}

export function requireFeature(deps: PlanLookup, feature: Feature): RequestHandler {
  return async (req, _res, next) => {
    const plan = await currentPlan(deps.db, deps.plans, req.auth!.userId, deps.now());
    if (!plan.features[feature])
      throw new AppError(403, 'plan_required', `this feature needs the Pro plan`, {
        feature,
        upgradeUrl: '/pricing',
      });
    next();
  };
}
