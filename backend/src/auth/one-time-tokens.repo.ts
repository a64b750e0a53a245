/** one_time_tokens: e-mailed links (password reset, address verification), by hash. */
import type { Executor } from '../db/schema.js';

export type OneTimeKind = 'reset' | 'verify';

/** Only the newest link of a kind works: older ones of the user go. */
export async function replaceOneTimeToken(
  db: Executor,
  t: { tokenHash: string; userId: string; kind: OneTimeKind; expiresAt: number },
): Promise<void> {
  await db.deleteFrom('one_time_tokens').where('user_id', '=', t.userId).where('kind', '=', t.kind).execute();
  await db
    .insertInto('one_time_tokens')
    .values({ token_hash: t.tokenHash, user_id: t.userId, kind: t.kind, expires_at: t.expiresAt })
    .execute();
}

export function findOneTimeToken(
  db: Executor,
  tokenHash: string,
  kind: OneTimeKind,
): Promise<{ user_id: string; expires_at: number; used_at: number | null } | undefined> {
  return db
    .selectFrom('one_time_tokens')
    .select(['user_id', 'expires_at', 'used_at'])
    .where('token_hash', '=', tokenHash)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

/** False when it was used already (also by a concurrent request that committed first). */
export async function markOneTimeTokenUsed(db: Executor, tokenHash: string, at: number): Promise<boolean> {
  const r = await db
    .updateTable('one_time_tokens')
    .set({ used_at: at })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
