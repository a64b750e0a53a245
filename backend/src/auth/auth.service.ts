/** Account use cases: each reads as the story of one endpoint and returns plain data. */
import { randomUUID } from 'node:crypto';
import type { MeResponse } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { AppError } from '../platform/errors.js';
import { isEntitled, planOf } from '../plans/entitlements.js';
import { nextUtcMidnight } from '../plans/usage.service.js';
import { weakPasswordReason } from './password.js';
import { randomToken, sha256, type IssuedSession } from './sessions.js';

const RESET_TTL_MS = 60 * 60 * 1000;
const VERIFY_TTL_MS = 48 * 60 * 60 * 1000;

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  email_verified: number;
  role: 'user' | 'admin';
  created_at: string;
}

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'email or password is incorrect');
const registrationFailed = () =>
  new AppError(
    400,
    'registration_failed',
    'could not create an account with these details; if you already have one, log in or reset your password',
  );

export function findUserByEmail(ctx: AppContext, email: string): UserRow | undefined {
  return ctx.db.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserRow | undefined;
}

export function findUser(ctx: AppContext, id: string): UserRow | undefined {
  return ctx.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
}

function assertStrong(password: string, email?: string): void {
  const reason = weakPasswordReason(password, email);
  if (reason) throw new AppError(400, 'weak_password', reason);
}

export async function register(
  ctx: AppContext,
  email: string,
  password: string,
): Promise<{ user: UserRow; session: IssuedSession }> {
  assertStrong(password, email);
  if (findUserByEmail(ctx, email)) {
    // Never a login, whatever the password: signing in here would bypass the per-account throttle that
    // guards every proof of a password. The owner hears about the attempt.
    void ctx.mailer.send({
      to: email,
      subject: 'Resemble: sign-up attempt',
      text: 'Someone tried to create a Resemble account with this address. If it was you, log in or reset your password.',
    });
    throw registrationFailed();
  }
  const hash = await ctx.hasher.hash(password);
  const user: UserRow = {
    id: randomUUID(),
    email,
    password_hash: hash,
    email_verified: 0,
    role: 'user',
    created_at: new Date(ctx.now()).toISOString(),
  };
  let verifyToken: string;
  try {
    verifyToken = ctx.db.transaction(() => {
      ctx.db
        .prepare(
          'INSERT INTO users (id, email, password_hash, email_verified, role, created_at) VALUES (@id, @email, @password_hash, @email_verified, @role, @created_at)',
        )
        .run(user);
      return createOneTimeToken(ctx, user.id, 'verify', VERIFY_TTL_MS);
    })();
  } catch (err) {
    if (String(err).includes('UNIQUE')) throw registrationFailed();
    throw err;
  }
  await mailVerification(ctx, user.email, verifyToken);
  return { user, session: await ctx.sessions.issue(user.id, user.role) };
}

export async function login(
  ctx: AppContext,
  email: string,
  password: string,
): Promise<{ user: UserRow; session: IssuedSession }> {
  const user = findUserByEmail(ctx, email);
  // Unknown addresses are throttled too, and take as long: neither the count nor the time tells them apart.
  const ok = await ctx.passwords.attempt(email, async () => {
    if (user) return ctx.hasher.verify(password, user.password_hash);
    await ctx.hasher.dummyVerify(password);
    return false;
  });
  if (!user || !ok) throw invalidCredentials();
  return { user, session: await ctx.sessions.issue(user.id, user.role) };
}

export async function changePassword(
  ctx: AppContext,
  userId: string,
  current: string,
  next: string,
): Promise<IssuedSession> {
  const user = findUser(ctx, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  if (!(await ctx.passwords.attempt(user.email, () => ctx.hasher.verify(current, user.password_hash)))) {
    throw new AppError(400, 'invalid_credentials', 'current password is incorrect');
  }
  assertStrong(next, user.email);
  const hash = await ctx.hasher.hash(next);
  // The sessions end in the same transaction as the change; every replica refuses them once `ended` resolves.
  let ended!: Promise<void>;
  ctx.db.transaction(() => {
    ctx.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, userId);
    ended = ctx.sessions.revokeAllForUser(userId);
  })();
  await ended;
  return ctx.sessions.issue(userId, user.role);
}

export async function forgotPassword(ctx: AppContext, email: string): Promise<void> {
  const user = findUserByEmail(ctx, email);
  if (!user) return;
  const token = createOneTimeToken(ctx, user.id, 'reset', RESET_TTL_MS);
  const link = `${ctx.config.server.publicUrl}/reset-password?token=${token}`;
  // Not awaited: waiting on SMTP only for known addresses would reveal them by response time.
  void ctx.mailer.send({
    to: user.email,
    subject: 'Resemble: reset your password',
    text: `Reset your password within an hour: ${link}`,
    link,
  });
}

export async function resetPassword(ctx: AppContext, token: string, newPassword: string): Promise<void> {
  // Check first, hash, then consume the token in the same transaction as the change: a failure in
  // between leaves the link usable, and two concurrent uses cannot both succeed.
  const userId = peekOneTimeToken(ctx, token, 'reset');
  const user = findUser(ctx, userId)!;
  assertStrong(newPassword, user.email);
  const hash = await ctx.hasher.hash(newPassword);
  let ended!: Promise<void>;
  ctx.db.transaction(() => {
    useOneTimeToken(ctx, token, 'reset');
    ctx.db.prepare('UPDATE users SET password_hash = ?, email_verified = 1 WHERE id = ?').run(hash, userId);
    ended = ctx.sessions.revokeAllForUser(userId);
  })();
  await ended;
}

export function verifyEmail(ctx: AppContext, token: string): void {
  ctx.db.transaction(() => {
    const userId = useOneTimeToken(ctx, token, 'verify');
    ctx.db.prepare('UPDATE users SET email_verified = 1 WHERE id = ?').run(userId);
  })();
}

export async function sendVerification(ctx: AppContext, user: UserRow): Promise<void> {
  if (user.email_verified) return;
  await mailVerification(ctx, user.email, createOneTimeToken(ctx, user.id, 'verify', VERIFY_TTL_MS));
}

async function mailVerification(ctx: AppContext, email: string, token: string): Promise<void> {
  const link = `${ctx.config.server.publicUrl}/verify-email?token=${token}`;
  await ctx.mailer.send({
    to: email,
    subject: 'Resemble: confirm your email',
    text: `Confirm your email address: ${link}`,
    link,
  });
}

export async function deleteAccount(ctx: AppContext, userId: string, password: string): Promise<void> {
  const user = findUser(ctx, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  if (!(await ctx.passwords.attempt(user.email, () => ctx.hasher.verify(password, user.password_hash)))) {
    throw new AppError(400, 'invalid_credentials', 'password is incorrect');
  }
  await ctx.billing.cancelForDeletion(userId);
  // ON DELETE CASCADE removes sessions, tokens, usage, subscription, jobs, patterns and notifications;
  // payments keep their amounts for the accounts but lose the link to the person.
  let ended!: Promise<void>;
  ctx.db.transaction(() => {
    ended = ctx.sessions.revokeAllForUser(userId);
    ctx.db.prepare('DELETE FROM users WHERE id = ?').run(userId);
  })();
  await ended;
}

export async function me(ctx: AppContext, userId: string): Promise<MeResponse> {
  const user = findUser(ctx, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  const now = ctx.now();
  const { plan, sub } = planOf(ctx.db, ctx.plans, userId, now);
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.email_verified === 1,
    role: user.role,
    plan: plan.id,
    billingProvider: sub && isEntitled(sub, now) ? sub.provider : null,
    testMode: ctx.billing.testMode,
    usage: {
      searchesToday: await ctx.usage.searchesToday(userId),
      quota: plan.limits.searchesPerDay,
      resetsAt: nextUtcMidnight(now),
    },
    limits: { maxTopK: plan.limits.maxTopK, metrics: plan.limits.metrics, models: plan.limits.models },
  };
}

function createOneTimeToken(
  ctx: AppContext,
  userId: string,
  kind: 'reset' | 'verify',
  ttlMs: number,
): string {
  const token = randomToken();
  ctx.db.transaction(() => {
    // Only the newest link of a kind works; older ones die when a new one is sent.
    ctx.db.prepare('DELETE FROM one_time_tokens WHERE user_id = ? AND kind = ?').run(userId, kind);
    ctx.db
      .prepare('INSERT INTO one_time_tokens (token_hash, user_id, kind, expires_at) VALUES (?,?,?,?)')
      .run(sha256(token), userId, kind, ctx.now() + ttlMs);
  })();
  return token;
}

function peekOneTimeToken(ctx: AppContext, token: string, kind: 'reset' | 'verify'): string {
  const row = ctx.db
    .prepare('SELECT user_id, expires_at, used_at FROM one_time_tokens WHERE token_hash = ? AND kind = ?')
    .get(sha256(token), kind) as { user_id: string; expires_at: number; used_at: number | null } | undefined;
  if (!row || row.used_at !== null || row.expires_at < ctx.now()) {
    throw new AppError(
      400,
      'invalid_token',
      'this link is invalid, already used or expired; request a new one',
    );
  }
  return row.user_id;
}

/** Marks the token used; callers run it inside the transaction of the change it authorises. */
function useOneTimeToken(ctx: AppContext, token: string, kind: 'reset' | 'verify'): string {
  const userId = peekOneTimeToken(ctx, token, kind);
  ctx.db.prepare('UPDATE one_time_tokens SET used_at = ? WHERE token_hash = ?').run(ctx.now(), sha256(token));
  return userId;
}
