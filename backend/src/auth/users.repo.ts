/** users: accounts. Deleting one cascades to everything it owns (see the migrations). */
import type { Executor, NewUser, UserRow } from '../db/schema.js';

export type { UserRow } from '../db/schema.js';

export function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function userExists(db: Executor, id: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** False when the e-mail is taken (also by a concurrent registration: the unique index decides). */
export async function insertUser(db: Executor, user: NewUser): Promise<boolean> {
  const r = await db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.column('email').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function setPasswordHash(
  db: Executor,
  id: string,
  hash: string,
  verified?: true,
): Promise<void> {
  await db
    .updateTable('users')
    .set(verified ? { password_hash: hash, email_verified: 1 } : { password_hash: hash })
    .where('id', '=', id)
    .execute();
}

export async function markEmailVerified(db: Executor, id: string): Promise<void> {
  await db.updateTable('users').set({ email_verified: 1 }).where('id', '=', id).execute();
}

export async function makeAdmin(db: Executor, id: string): Promise<void> {
  await db.updateTable('users').set({ role: 'admin' }).where('id', '=', id).execute();
}

export async function deleteUser(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function countUsers(db: Executor): Promise<number> {
  const r = await db
    .selectFrom('users')
    .select((e) => e.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The name receipts are made out to (宛名); null goes back to the e-mail address. */
export async function setReceiptName(db: Executor, id: string, name: string | null): Promise<void> {
  await db.updateTable('users').set({ receipt_name: name }).where('id', '=', id).execute();
}
