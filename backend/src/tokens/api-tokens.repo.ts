/** api_tokens: a Pro user's bearer tokens for the public API, by hash, with their scopes. */
import type { Selectable } from 'kysely';
import type { ApiTokensTable, Executor } from '../db/schema.js';

export type ApiTokenRow = Selectable<ApiTokensTable>;

/** A live token with its owner's role (a revoked one is not found). */
export function activeTokenByHash(
  db: Executor,
  tokenHash: string,
): Promise<{ id: string; user_id: string; scopes: string; role: 'user' | 'admin' } | undefined> {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id', 't.user_id', 't.scopes', 'u.role'])
    .where('t.token_hash', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function touchToken(db: Executor, id: string, nowIso: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: nowIso }).where('id', '=', id).execute();
}

export function activeTokensOfUser(db: Executor, userId: string): Promise<ApiTokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function countActiveTokens(db: Executor, userId: string): Promise<number> {
  const r = await db
    .selectFrom('api_tokens')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function insertToken(
  db: Executor,
  t: { id: string; userId: string; name: string; tokenHash: string; scopes: string; createdAt: string },
): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({
      id: t.id,
      user_id: t.userId,
      name: t.name,
      token_hash: t.tokenHash,
      scopes: t.scopes,
      created_at: t.createdAt,
    })
    .execute();
}

/** False when the user has no such live token. */
export async function revokeToken(
  db: Executor,
  userId: string,
  id: string,
  nowIso: string,
): Promise<boolean> {
  const r = await db
    .updateTable('api_tokens')
    .set({ revoked_at: nowIso })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
