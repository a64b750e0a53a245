import type { CookieOptions, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { SharedState } from '../shared/shared-state.js';
import { AppError, unauthenticated } from '../platform/errors.js';
import type { Impls } from '../platform/contract-router.js';
import * as auth from './auth.service.js';
import { ACCESS_TTL_S, REFRESH_TTL_S, type IssuedSession } from './sessions.js';

const ACK = { ok: true } as const;

type AuthRoute =
  | 'register'
  | 'login'
  | 'refresh'
  | 'logout'
  | 'changePassword'
  | 'forgotPassword'
  | 'resetPassword'
  | 'verifyEmail'
  | 'resendVerification'
  | 'me'
  | 'deleteAccount';

export interface AuthRouteDeps extends auth.AccountDeps {
  cookieSecure: boolean;
  /** Requests per address to the routes that take a password or an emailed token, per window. */
  limits: { windowMinutes: number; maxAuthRequestsPerIp: number };
  rateLimitStore: SharedState['rateLimitStore'];
}

/**
 * Accounts and sessions. They are never an API token's business (a token could log out its owner's
 * session): the contract marks them 'credentials' or 'session', both of which refuse API tokens.
 */
export function authRoutes(deps: AuthRouteDeps): Impls<AuthRoute> {
  const { sessions } = deps;
  const base: CookieOptions = { httpOnly: true, sameSite: 'lax', secure: deps.cookieSecure };
  const setSession = (res: Response, s: IssuedSession) => {
    res.cookie('access_token', s.accessToken, { ...base, path: '/', maxAge: ACCESS_TTL_S * 1000 });
    res.cookie('refresh_token', s.refreshToken, {
      ...base,
      path: '/api/v1/auth',
      maxAge: REFRESH_TTL_S * 1000,
    });
    // Readable by the page on purpose: the double-submit CSRF token.
    res.cookie('csrf_token', sessions.csrfToken(s.sessionId), {
      ...base,
      httpOnly: false,
      path: '/',
      maxAge: REFRESH_TTL_S * 1000,
    });
  };
  const clearSession = (res: Response) => {
    res.clearCookie('access_token', { ...base, path: '/' });
    res.clearCookie('refresh_token', { ...base, path: '/api/v1/auth' });
    res.clearCookie('csrf_token', { ...base, httpOnly: false, path: '/' });
  };

  const windowMs = deps.limits.windowMinutes * 60_000;
  const tooMany = (what: string) =>
    new AppError(429, 'too_many_attempts', `too many ${what}; try again later`);
  const perIp = rateLimit({
    windowMs,
    limit: deps.limits.maxAuthRequestsPerIp,
    store: deps.rateLimitStore('auth-ip'),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(tooMany('attempts from this address')),
  });
  const routes: Impls<AuthRoute> = {
    register: {
      use: [perIp],
      handler: async ({ body, res }) => {
        const { user, session } = await auth.register(deps, body.email, body.password);
        setSession(res, session);
        return { status: 201, body: await auth.me(deps, user.id) };
      },
    },

    login: {
      use: [perIp],
      handler: async ({ body, res }) => {
        const { user, session } = await auth.login(deps, body.email, body.password);
        setSession(res, session);
        return { status: 200, body: await auth.me(deps, user.id) };
      },
    },

    refresh: {
      handler: async ({ req, res }) => {
        const token = req.cookies?.refresh_token as string | undefined;
        if (!token) throw unauthenticated('no refresh token; log in again');
        const result = await sessions.refresh(token, async (id) => (await auth.findUser(deps, id))?.role);
        if (!result.ok) {
          clearSession(res);
          if (result.reason === 'reused')
            req.log.warn({ reason: 'refresh_reused' }, 'refresh token reuse: family revoked');
          throw unauthenticated(
            result.reason === 'reused'
              ? 'this session was revoked; log in again'
              : 'session expired; log in again',
          );
        }
        setSession(res, result.session);
        return { status: 200, body: await auth.me(deps, result.userId) };
      },
    },

    logout: {
      handler: async ({ req, res }) => {
        const token = req.cookies?.refresh_token as string | undefined;
        const family = token ? await sessions.familyOf(token) : undefined;
        if (family) await sessions.revokeFamily(family);
        if (req.auth?.sessionId) await sessions.revokeFamily(req.auth.sessionId);
        clearSession(res);
        return { status: 200, body: ACK };
      },
    },

    changePassword: {
      handler: async ({ body, req, res }) => {
        const session = await auth.changePassword(
          deps,
          req.auth!.userId,
          body.currentPassword,
          body.newPassword,
        );
        setSession(res, session);
        return {
          status: 200,
          body: { ok: true, message: 'password changed; other sessions were signed out' },
        };
      },
    },

    forgotPassword: {
      use: [perIp],
      handler: async ({ body }) => {
        await auth.forgotPassword(deps, body.email);
        return {
          status: 202,
          body: { ok: true, message: 'if an account exists for this address, a reset link is on its way' },
        };
      },
    },

    resetPassword: {
      use: [perIp],
      handler: async ({ body, res }) => {
        await auth.resetPassword(deps, body.token, body.newPassword);
        clearSession(res);
        return { status: 200, body: { ok: true, message: 'password reset; log in with the new password' } };
      },
    },

    verifyEmail: {
      handler: async ({ body }) => {
        await auth.verifyEmail(deps, body.token);
        return { status: 200, body: ACK };
      },
    },

    resendVerification: {
      handler: async ({ req }) => {
        const user = await auth.findUser(deps, req.auth!.userId);
        if (user) await auth.sendVerification(deps, user);
        return { status: 202, body: ACK };
      },
    },

    me: {
      handler: async ({ req }) => ({ status: 200, body: await auth.me(deps, req.auth!.userId) }),
    },

    deleteAccount: {
      handler: async ({ body, req, res }) => {
        await auth.deleteAccount(deps, req.auth!.userId, body.password);
        clearSession(res);
        return { status: 200, body: { ok: true, message: 'account and data deleted' } };
      },
    },
  };
  return routes;
}
