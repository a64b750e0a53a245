/** Account use cases: each reads as the story of one endpoint and returns plain data. */
import { randomUUID } from 'node:crypto';
import type { MeResponse } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { AppError } from '../platform/errors.js';
import { isEntitled, planOf } from '../plans/entitlements.js';
import { nextUtcMidnight } from '../plans/usage.service.js';
import { weakPasswordReason } from './password.js';
import { randomToken, sha256, type IssuedSession } from './sessions.js';
import * as users from './users.repo.js';
import type { UserRow } from './users.repo.js';
import {
  findOneTimeToken,
  markOneTimeTokenUsed,
  replaceOneTimeToken,
  type OneTimeKind,
} from './one-time-tokens.repo.js';
import type { Executor } from '../db/schema.js';

const RESET_TTL_MS = 60 * 60 * 1000;
const VERIFY_TTL_MS = 48 * 60 * 60 * 1000;

export type { UserRow } from './users.repo.js';

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'email or password is incorrect');
const registrationFailed = () =>
  new AppError(
    400,
    'registration_failed',
    'could not create an account with these details; if you already have one, log in or reset your password',
  );

export function findUserByEmail(ctx: AppContext, email: string): Promise<UserRow | undefined> {
  return users.findUserByEmail(ctx.database.kysely, email);
}

export function findUser(ctx: AppContext, id: string): Promise<UserRow | undefined> {
  return users.findUserById(ctx.database.kysely, id);
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
  if (await findUserByEmail(ctx, email)) {
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
    receipt_name: null,
  };
  const verifyToken = await ctx.database.kysely.transaction().execute(async (trx) => {
    // Taken by a concurrent registration since the check above: the unique index decided.
    if (!(await users.insertUser(trx, user))) throw registrationFailed();
    return createOneTimeToken(ctx, trx, user.id, 'verify', VERIFY_TTL_MS);
  });
  await mailVerification(ctx, user.email, verifyToken);
  return { user, session: await ctx.sessions.issue(user.id, user.role) };
}

export async function login(
  ctx: AppContext,
  email: string,
  password: string,
): Promise<{ user: UserRow; session: IssuedSession }> {
  const user = await findUserByEmail(ctx, email);
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
  const user = await findUser(ctx, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  if (!(await ctx.passwords.attempt(user.email, () => ctx.hasher.verify(current, user.password_hash)))) {
    throw new AppError(400, 'invalid_credentials', 'current password is incorrect');
  }
  assertStrong(next, user.email);
  const hash = await ctx.hasher.hash(next);
  // The sessions end in the same transaction as the change; every replica refuses them once published.
  await ctx.database.kysely.transaction().execute(async (trx) => {
    await users.setPasswordHash(trx, userId, hash);
    await ctx.sessions.revokeAllForUser(trx, userId);
  });
  await ctx.sessions.published();
  return ctx.sessions.issue(userId, user.role);
}

export async function forgotPassword(ctx: AppContext, email: string): Promise<void> {
  const user = await findUserByEmail(ctx, email);
  if (!user) return;
  const token = await createOneTimeToken(ctx, ctx.database.kysely, user.id, 'reset', RESET_TTL_MS);
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
  const userId = await peekOneTimeToken(ctx, ctx.database.kysely, token, 'reset');
  const user = (await findUser(ctx, userId))!;
  assertStrong(newPassword, user.email);
  const hash = await ctx.hasher.hash(newPassword);
  await ctx.database.kysely.transaction().execute(async (trx) => {
    await useOneTimeToken(ctx, trx, token, 'reset');
    await users.setPasswordHash(trx, userId, hash, true);
    await ctx.sessions.revokeAllForUser(trx, userId);
  });
  await ctx.sessions.published();
}

export async function verifyEmail(ctx: AppContext, token: string): Promise<void> {
  await ctx.database.kysely.transaction().execute(async (trx) => {
    const userId = await useOneTimeToken(ctx, trx, token, 'verify');
    await users.markEmailVerified(trx, userId);
  });
}

export async function sendVerification(ctx: AppContext, user: UserRow): Promise<void> {
  if (user.email_verified) return;
  const token = await createOneTimeToken(ctx, ctx.database.kysely, user.id, 'verify', VERIFY_TTL_MS);
  await mailVerification(ctx, user.email, token);
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
  const user = await findUser(ctx, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  if (!(await ctx.passwords.attempt(user.email, () => ctx.hasher.verify(password, user.password_hash)))) {
    throw new AppError(400, 'invalid_credentials', 'password is incorrect');
  }
  await ctx.billing.cancelForDeletion(userId);
  // ON DELETE CASCADE removes sessions, tokens, usage, subscription, jobs, patterns and notifications;
  // payments keep their amounts for the accounts but lose the link to the person.
  await ctx.database.kysely.transaction().execute(async (trx) => {
    await ctx.sessions.revokeAllForUser(trx, userId);
    await users.deleteUser(trx, userId);
  });
  await ctx.sessions.published();
}

export async function me(ctx: AppContext, userId: string): Promise<MeResponse> {
  const user = await findUser(ctx, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  const now = ctx.now();
  const { plan, sub } = await planOf(ctx.database.kysely, ctx.plans, userId, now);
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

async function createOneTimeToken(
  ctx: AppContext,
  db: Executor,
  userId: string,
  kind: OneTimeKind,
  ttlMs: number,
): Promise<string> {
  const token = randomToken();
  await replaceOneTimeToken(db, { tokenHash: sha256(token), userId, kind, expiresAt: ctx.now() + ttlMs });
  return token;
}

const invalidToken = () =>
  new AppError(400, 'invalid_token', 'this link is invalid, already used or expired; request a new one');

async function peekOneTimeToken(
  ctx: AppContext,
  db: Executor,
  token: string,
  kind: OneTimeKind,
): Promise<string> {
  const row = await findOneTimeToken(db, sha256(token), kind);
  if (!row || row.used_at !== null || row.expires_at < ctx.now()) throw invalidToken();
  return row.user_id;
}

/**
 * Marks the token used; callers run it inside the transaction of the change it authorises, and of two
 * concurrent uses only the first to mark it goes on.
 */
async function useOneTimeToken(
  ctx: AppContext,
  trx: Executor,
  token: string,
  kind: OneTimeKind,
): Promise<string> {
  const userId = await peekOneTimeToken(ctx, trx, token, kind);
  if (!(await markOneTimeTokenUsed(trx, sha256(token), ctx.now()))) throw invalidToken();
  return userId;
}
