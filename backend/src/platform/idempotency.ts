/**
 * Idempotency-Key for create requests (issue 15): a client that lost the answer to a POST (a replica
 * died mid-request and the proxy answered 502, a timeout) sends it again with the same key and gets the
 * first answer back instead of a second pattern. What the request creates and the stored answer commit
 * in one transaction, so there is never one without the other: a request cut before its commit left
 * nothing, and its retry runs afresh.
 *
 * Semantics follow the IETF draft "The Idempotency-Key HTTP Header Field": the same key with the same
 * body replays the stored answer (with `Idempotent-Replayed: true`); the same key with another body or on
 * another route is 422 `idempotency_key_reused`. Only successes are stored: a refused request (409, 403)
 * may be retried with its key once the cause is gone. Keys are kept for KEY_RETENTION_MS per user.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from './errors.js';
import { claimKey, keyOfUser, pruneKeysOfUser } from './idempotency-keys.repo.js';

export const KEY_RETENTION_MS = 24 * 3_600_000;

export interface Keyed {
  userId: string;
  /** The Idempotency-Key header (validated by the route contract); undefined runs the request plainly. */
  key: string | undefined;
  /** The contract route, so one key cannot replay another route's answer. */
  operation: string;
  /** The validated body; its hash tells a retry from a different request under the same key. */
  request: unknown;
  now: number;
}

export interface Answer<S extends number, B> {
  status: S;
  body: B;
}

const hashOf = (operation: string, request: unknown) =>
  createHash('sha256').update(operation).update('\n').update(JSON.stringify(request)).digest('hex');

/**
 * Runs `create` once per (user, key): in a transaction with the key's record, or, when the key was used
 * before, answers what the first request got. `create` must do all its database work on the handle it
 * is given (on SQLite the transaction holds the one connection).
 */
export async function idempotent<S extends number, B>(
  db: Kysely<Database>,
  k: Keyed,
  create: (tx: Kysely<Database> | Transaction<Database>) => Promise<Answer<S, B>>,
): Promise<Answer<S, B> & { replayed: boolean }> {
  if (k.key === undefined) return { ...(await create(db)), replayed: false };
  const key = k.key;
  await pruneKeysOfUser(db, k.userId, k.now - KEY_RETENTION_MS);
  const hash = hashOf(k.operation, k.request);
  return db
    .transaction()
    .execute(async (tx) => {
      // A retry after the first committed: answered without running `create` (which might now refuse,
      // e.g. at the pattern limit the first request reached).
      const before = await keyOfUser(tx, k.userId, key);
      if (before) throw new KeyUsed(before.operation === k.operation && before.request_hash === hash, before);
      const answer = await create(tx);
      const claimed = await claimKey(tx, {
        user_id: k.userId,
        key,
        operation: k.operation,
        request_hash: hash,
        status: answer.status,
        response: JSON.stringify(answer.body),
        created_at: k.now,
      });
      if (claimed) return { ...answer, replayed: false };
      // Someone committed this key first (an earlier try, or a concurrent one this INSERT waited for):
      // throwing rolls back what `create` just wrote.
      const first = await keyOfUser(tx, k.userId, key);
      if (!first) throw new Error('idempotency key conflict without a row');
      throw new KeyUsed(first.operation === k.operation && first.request_hash === hash, first);
    })
    .catch((err: unknown) => {
      if (!(err instanceof KeyUsed)) throw err;
      if (!err.same)
        throw new AppError(
          422,
          'idempotency_key_reused',
          'this Idempotency-Key was already used for a different request; send a new key for a new request',
        );
      return { status: err.row.status as S, body: JSON.parse(err.row.response) as B, replayed: true };
    });
}

class KeyUsed extends Error {
  constructor(
    readonly same: boolean,
    readonly row: { status: number; response: string },
  ) {
    super('idempotency key used before');
  }
}
