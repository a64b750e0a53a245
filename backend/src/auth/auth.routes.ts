import { Router, type CookieOptions, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import {
  changePasswordSchema,
  credentialsSchema,
  deleteAccountSchema,
  forgotPasswordSchema,
  resetPasswordSchema,
  verifyEmailSchema,
} from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { AppError, unauthenticated } from '../platform/errors.js';
import { parse } from '../platform/validate.js';
import { refuseApiTokens, requireAuth } from './auth.middleware.js';
import * as auth from './auth.service.js';
import { ACCESS_TTL_S, REFRESH_TTL_S, type IssuedSession } from './sessions.js';

const ACK = { ok: true } as const;

export function authRoutes(ctx: AppContext): Router {
  const r = Router();
  // Accounts and sessions are never an API token's business (a token could log out its owner's session).
  r.use(refuseApiTokens);
  const base: CookieOptions = { httpOnly: true, sameSite: 'lax', secure: ctx.config.server.cookieSecure };
  const setSession = (res: Response, s: IssuedSession) => {
    res.cookie('access_token', s.accessToken, { ...base, path: '/', maxAge: ACCESS_TTL_S * 1000 });
    res.cookie('refresh_token', s.refreshToken, {
      ...base,
      path: '/api/v1/auth',
      maxAge: REFRESH_TTL_S * 1000,
    });
    // Readable by the page on purpose: the double-submit CSRF token.
    res.cookie('csrf_token', ctx.sessions.csrfToken(s.sessionId), {
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

  const windowMs = ctx.config.auth.windowMinutes * 60_000;
  const tooMany = (what: string) =>
    new AppError(429, 'too_many_attempts', `too many ${what}; try again later`);
  const perIp = rateLimit({
    windowMs,
    limit: ctx.config.auth.maxAuthRequestsPerIp,
    store: ctx.rateLimitStore('auth-ip'),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(tooMany('attempts from this address')),
  });
  r.post('/register', perIp, async (req, res) => {
    const body = parse(credentialsSchema, req.body, 'body');
    const { user, session } = await auth.register(ctx, body.email, body.password);
    setSession(res, session);
    res.status(201).json(await auth.me(ctx, user.id));
  });

  r.post('/login', perIp, async (req, res) => {
    const body = parse(credentialsSchema, req.body, 'body');
    const { user, session } = await auth.login(ctx, body.email, body.password);
    setSession(res, session);
    res.json(await auth.me(ctx, user.id));
  });

  r.post('/refresh', async (req, res) => {
    const token = req.cookies?.refresh_token as string | undefined;
    if (!token) throw unauthenticated('no refresh token; log in again');
    const result = await ctx.sessions.refresh(token, async (id) => (await auth.findUser(ctx, id))?.role);
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
    res.json(await auth.me(ctx, result.userId));
  });

  r.post('/logout', async (req, res) => {
    const token = req.cookies?.refresh_token as string | undefined;
    const family = token ? await ctx.sessions.familyOf(token) : undefined;
    if (family) await ctx.sessions.revokeFamily(family);
    if (req.auth?.sessionId) await ctx.sessions.revokeFamily(req.auth.sessionId);
    clearSession(res);
    res.json(ACK);
  });

  r.post('/password', requireAuth(), async (req, res) => {
    const body = parse(changePasswordSchema, req.body, 'body');
    const session = await auth.changePassword(ctx, req.auth!.userId, body.currentPassword, body.newPassword);
    setSession(res, session);
    res.json({ ok: true, message: 'password changed; other sessions were signed out' });
  });

  r.post('/forgot', perIp, async (req, res) => {
    const body = parse(forgotPasswordSchema, req.body, 'body');
    await auth.forgotPassword(ctx, body.email);
    res
      .status(202)
      .json({ ok: true, message: 'if an account exists for this address, a reset link is on its way' });
  });

  r.post('/reset', perIp, async (req, res) => {
    const body = parse(resetPasswordSchema, req.body, 'body');
    await auth.resetPassword(ctx, body.token, body.newPassword);
    clearSession(res);
    res.json({ ok: true, message: 'password reset; log in with the new password' });
  });

  r.post('/verify', async (req, res) => {
    const body = parse(verifyEmailSchema, req.body, 'body');
    await auth.verifyEmail(ctx, body.token);
    res.json(ACK);
  });

  r.post('/verify/resend', requireAuth(), async (req, res) => {
    const user = await auth.findUser(ctx, req.auth!.userId);
    if (user) await auth.sendVerification(ctx, user);
    res.status(202).json(ACK);
  });

  return r;
}

export function meRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get('/', requireAuth(), async (req, res) => {
    res.json(await auth.me(ctx, req.auth!.userId));
  });
  r.delete('/', requireAuth(), async (req, res) => {
    const body = parse(deleteAccountSchema, req.body, 'body');
    await auth.deleteAccount(ctx, req.auth!.userId, body.password);
    const base: CookieOptions = { httpOnly: true, sameSite: 'lax', secure: ctx.config.server.cookieSecure };
    res.clearCookie('access_token', { ...base, path: '/' });
    res.clearCookie('refresh_token', { ...base, path: '/api/v1/auth' });
    res.clearCookie('csrf_token', { ...base, httpOnly: false, path: '/' });
    res.json({ ok: true, message: 'account and data deleted' });
  });
  return r;
}
