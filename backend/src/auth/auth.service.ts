/** Account use cases: each reads as the story of one endpoint and returns plain data. */
import { randomUUID } from 'node:crypto';
import type { MeResponse } from '@resemble/contracts';
import type { Db } from '../db/schema.js';
import type { Mailer } from '../mail/mailer.js';
import type { BillingService } from '../billing/billing.service.js';
import type { QuotaStore } from '../shared/shared-state.js';
import { AppError } from '../platform/errors.js';
import { isEntitled, planOf, type PlanLookup } from '../plans/entitlements.js';
import { nextUtcMidnight } from '../plans/usage.service.js';
import { weakPasswordReason, type PasswordHasher } from './password.js';
import type { PasswordThrottle } from './password-throttle.js';
import { randomToken, sha256, type IssuedSession, type SessionService } from './sessions.js';
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

/** Everything the account use cases use; each function takes only the part it needs. */
export interface AccountDeps extends PlanLookup {
  db: Db;
  hasher: PasswordHasher;
  sessions: SessionService;
  /** The per-account count of wrong passwords, shared by every use case that checks one. */
  passwords: PasswordThrottle;
  mailer: Pick<Mailer, 'send'>;
  /** Today's searches for the account view. */
  usage: Pick<QuotaStore, 'searchesToday'>;
  billing: Pick<BillingService, 'testMode' | 'cancelForDeletion'>;
  /** The browser-facing origin the mailed links point at. */
  publicUrl: string;
}
type Deps<K extends keyof AccountDeps> = Pick<AccountDeps, K>;

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'email or password is incorrect');
const registrationFailed = () =>
  new AppError(
    400,
    'registration_failed',
    'could not create an account with these details; if you already have one, log in or reset your password',
  );

export function findUserByEmail(deps: Deps<'db'>, email: string): Promise<UserRow | undefined> {
  return users.findUserByEmail(deps.db, email);
}

export function findUser(deps: Deps<'db'>, id: string): Promise<UserRow | undefined> {
  return users.findUserById(deps.db, id);
}

function assertStrong(password: string, email?: string): void {
  const reason = weakPasswordReason(password, email);
  if (reason) throw new AppError(400, 'weak_password', reason);
}

export async function register(
  deps: Deps<'db' | 'hasher' | 'sessions' | 'mailer' | 'publicUrl' | 'now'>,
  email: string,
  password: string,
): Promise<{ user: UserRow; session: IssuedSession }> {
  assertStrong(password, email);
  if (await findUserByEmail(deps, email)) {
    // Never a login, whatever the password: signing in here would bypass the per-account throttle that
    // guards every proof of a password. The owner hears about the attempt.
    void deps.mailer.send({
      to: email,
      subject: 'Resemble: sign-up attempt',
      text: 'Someone tried to create a Resemble account with this address. If it was you, log in or reset your password.',
    });
    throw registrationFailed();
  }
  const hash = await deps.hasher.hash(password);
  const user: UserRow = {
    id: randomUUID(),
    email,
    password_hash: hash,
    email_verified: 0,
    role: 'user',
    created_at: new Date(deps.now()).toISOString(),
    receipt_name: null,
  };
  const verifyToken = await deps.db.transaction().execute(async (trx) => {
    // Taken by a concurrent registration since the check above: the unique index decided.
    if (!(await users.insertUser(trx, user))) throw registrationFailed();
    return createOneTimeToken(deps, trx, user.id, 'verify', VERIFY_TTL_MS);
  });
  await mailVerification(deps, user.email, verifyToken);
  return { user, session: await deps.sessions.issue(user.id, user.role) };
}

export async function login(
  deps: Deps<'db' | 'hasher' | 'sessions' | 'passwords'>,
  email: string,
  password: string,
): Promise<{ user: UserRow; session: IssuedSession }> {
  const user = await findUserByEmail(deps, email);
  // Unknown addresses are throttled too, and take as long: neither the count nor the time tells them apart.
  const ok = await deps.passwords.attempt(email, async () => {
    if (user) return deps.hasher.verify(password, user.password_hash);
    await deps.hasher.dummyVerify(password);
    return false;
  });
  if (!user || !ok) throw invalidCredentials();
  return { user, session: await deps.sessions.issue(user.id, user.role) };
}

export async function changePassword(
  deps: Deps<'db' | 'hasher' | 'sessions' | 'passwords'>,
  userId: string,
  current: string,
  next: string,
): Promise<IssuedSession> {
  const user = await findUser(deps, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  if (!(await deps.passwords.attempt(user.email, () => deps.hasher.verify(current, user.password_hash)))) {
    throw new AppError(400, 'invalid_credentials', 'current password is incorrect');
  }
  assertStrong(next, user.email);
  const hash = await deps.hasher.hash(next);
  // The sessions end in the same transaction as the change; every replica refuses them once published.
  await deps.db.transaction().execute(async (trx) => {
    await users.setPasswordHash(trx, userId, hash);
    await deps.sessions.revokeAllForUser(trx, userId);
  });
  await deps.sessions.published();
  return deps.sessions.issue(userId, user.role);
}

export async function forgotPassword(
  deps: Deps<'db' | 'mailer' | 'publicUrl' | 'now'>,
  email: string,
): Promise<void> {
  const user = await findUserByEmail(deps, email);
  if (!user) return;
  const token = await createOneTimeToken(deps, deps.db, user.id, 'reset', RESET_TTL_MS);
  const link = `${deps.publicUrl}/reset-password?token=${token}`;
  // Not awaited: waiting on SMTP only for known addresses would reveal them by response time.
  void deps.mailer.send({
    to: user.email,
    subject: 'Resemble: reset your password',
    text: `Reset your password within an hour: ${link}`,
    link,
  });
}

export async function resetPassword(
  deps: Deps<'db' | 'hasher' | 'sessions' | 'now'>,
  token: string,
  newPassword: string,
): Promise<void> {
  // Check first, hash, then consume the token in the same transaction as the change: a failure in
  // between leaves the link usable, and two concurrent uses cannot both succeed.
  const userId = await peekOneTimeToken(deps, deps.db, token, 'reset');
  const user = (await findUser(deps, userId))!;
  assertStrong(newPassword, user.email);
  const hash = await deps.hasher.hash(newPassword);
  await deps.db.transaction().execute(async (trx) => {
    await useOneTimeToken(deps, trx, token, 'reset');
    await users.setPasswordHash(trx, userId, hash, true);
    await deps.sessions.revokeAllForUser(trx, userId);
  });
  await deps.sessions.published();
}

export async function verifyEmail(deps: Deps<'db' | 'now'>, token: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const userId = await useOneTimeToken(deps, trx, token, 'verify');
    await users.markEmailVerified(trx, userId);
  });
}

export async function sendVerification(
  deps: Deps<'db' | 'mailer' | 'publicUrl' | 'now'>,
  user: UserRow,
): Promise<void> {
  if (user.email_verified) return;
  const token = await createOneTimeToken(deps, deps.db, user.id, 'verify', VERIFY_TTL_MS);
  await mailVerification(deps, user.email, token);
}

async function mailVerification(
  deps: Deps<'mailer' | 'publicUrl'>,
  email: string,
  token: string,
): Promise<void> {
  const link = `${deps.publicUrl}/verify-email?token=${token}`;
  await deps.mailer.send({
    to: email,
    subject: 'Resemble: confirm your email',
    text: `Confirm your email address: ${link}`,
    link,
  });
}

export async function deleteAccount(
  deps: Deps<'db' | 'hasher' | 'sessions' | 'passwords' | 'billing'>,
  userId: string,
  password: string,
): Promise<void> {
  const user = await findUser(deps, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  if (!(await deps.passwords.attempt(user.email, () => deps.hasher.verify(password, user.password_hash)))) {
    throw new AppError(400, 'invalid_credentials', 'password is incorrect');
  }
  await deps.billing.cancelForDeletion(userId);
  // ON DELETE CASCADE removes sessions, tokens, usage, subscription, jobs, patterns and notifications;
  // payments keep their amounts for the accounts but lose the link to the person.
  await deps.db.transaction().execute(async (trx) => {
    await deps.sessions.revokeAllForUser(trx, userId);
    await users.deleteUser(trx, userId);
  });
  await deps.sessions.published();
}

export async function me(
  deps: Deps<'db' | 'plans' | 'now' | 'usage' | 'billing'>,
  userId: string,
): Promise<MeResponse> {
  const user = await findUser(deps, userId);
  if (!user) throw new AppError(401, 'unauthenticated', 'authentication required');
  const now = deps.now();
  const { plan, sub } = await planOf(deps.db, deps.plans, userId, now);
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.email_verified === 1,
    role: user.role,
    plan: plan.id,
    billingProvider: sub && isEntitled(sub, now) ? sub.provider : null,
    testMode: deps.billing.testMode,
    usage: {
      searchesToday: await deps.usage.searchesToday(userId),
      quota: plan.limits.searchesPerDay,
      resetsAt: nextUtcMidnight(now),
    },
    limits: { maxTopK: plan.limits.maxTopK, metrics: plan.limits.metrics, models: plan.limits.models },
  };
}

async function createOneTimeToken(
  deps: Deps<'now'>,
  db: Executor,
  userId: string,
  kind: OneTimeKind,
  ttlMs: number,
): Promise<string> {
  const token = randomToken();
  await replaceOneTimeToken(db, { tokenHash: sha256(token), userId, kind, expiresAt: deps.now() + ttlMs });
  return token;
}

const invalidToken = () =>
  new AppError(400, 'invalid_token', 'this link is invalid, already used or expired; request a new one');

async function peekOneTimeToken(
  deps: Deps<'now'>,
  db: Executor,
  token: string,
  kind: OneTimeKind,
): Promise<string> {
  const row = await findOneTimeToken(db, sha256(token), kind);
  if (!row || row.used_at !== null || row.expires_at < deps.now()) throw invalidToken();
  return row.user_id;
}

/**
 * Marks the token used; callers run it inside the transaction of the change it authorises, and of two
 * concurrent uses only the first to mark it goes on.
 */
async function useOneTimeToken(
  deps: Deps<'now'>,
  trx: Executor,
  token: string,
  kind: OneTimeKind,
): Promise<string> {
  const userId = await peekOneTimeToken(deps, trx, token, kind);
  if (!(await markOneTimeTokenUsed(trx, sha256(token), deps.now()))) throw invalidToken();
  return userId;
}
