/** revoked_sessions: sessions ended before their access tokens expire, kept across restarts. */
import type { Executor } from '../db/schema.js';

export async function revokeSession(db: Executor, sessionId: string, until: number): Promise<void> {
  await db
    .insertInto('revoked_sessions')
    .values({ session_id: sessionId, expires_at: until })
    .onConflict((oc) => oc.column('session_id').doUpdateSet({ expires_at: until }))
    .execute();
}

/** Drops the expired entries and returns the live ones. */
export async function liveRevocations(
  db: Executor,
  now: number,
): Promise<{ session_id: string; expires_at: number }[]> {
  await db.deleteFrom('revoked_sessions').where('expires_at', '<', now).execute();
  return db.selectFrom('revoked_sessions').select(['session_id', 'expires_at']).execute();
}
