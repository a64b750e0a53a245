/** refresh_tokens: one row per issued refresh token (by hash), grouped in families (= sessions). */
import type { Executor } from '../db/schema.js';

export interface RefreshTokenRow {
  user_id: string;
  family_id: string;
  expires_at: number;
  used_at: number | null;
}

export async function insertRefreshToken(
  db: Executor,
  t: { tokenHash: string; userId: string; familyId: string; expiresAt: number; createdAt: number },
): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({
      token_hash: t.tokenHash,
      user_id: t.userId,
      family_id: t.familyId,
      expires_at: t.expiresAt,
      created_at: t.createdAt,
    })
    .execute();
}

export function findRefreshToken(db: Executor, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db
    .selectFrom('refresh_tokens')
    .select(['user_id', 'family_id', 'expires_at', 'used_at'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/**
 * False when another request used it first: of two concurrent refreshes with one token, the second
 * waits on the first's row lock (PostgreSQL) or write lock (SQLite), then finds it used.
 */
export async function markRefreshTokenUsed(db: Executor, tokenHash: string, at: number): Promise<boolean> {
  const r = await db
    .updateTable('refresh_tokens')
    .set({ used_at: at })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function familyOfToken(db: Executor, tokenHash: string): Promise<string | undefined> {
  const r = await db
    .selectFrom('refresh_tokens')
    .select('family_id')
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return r?.family_id;
}

export async function familiesOfUser(db: Executor, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('refresh_tokens')
    .select('family_id')
    .distinct()
    .where('user_id', '=', userId)
    .execute();
  return rows.map((r) => r.family_id);
}

export async function deleteFamily(db: Executor, familyId: string): Promise<void> {
  await db.deleteFrom('refresh_tokens').where('family_id', '=', familyId).execute();
}
