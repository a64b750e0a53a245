/**
 * One statement for what many requests ask of PostgreSQL in the same event-loop turn (DataLoader).
 *
 * Why: on PostgreSQL every statement is a round trip, a socket write and a wake-up of a server process;
 * in the replicas bench (issue 15, decision 136) the plan lookup and the recent-search upsert of each
 * search were a third of all CPU spent per request (backends and PostgreSQL together). Under load
 * dozens of searches reach the same statement in one turn; one statement for all of them costs little
 * more than one for each.
 *
 * How: loads made during one turn of the event loop are collected and run at its check phase
 * (setImmediate), after every socket that was ready has been read, so nothing waits for a timer. Each
 * batch is a new statement started after all its loads were made: it sees what each of them would have
 * seen on its own, so nothing is cached and nothing can be stale. Only the root Kysely instance on
 * PostgreSQL batches: a transaction's statements must stay inside it, and on SQLite a statement is a
 * function call, not a round trip (`loaderFor` returns null and the caller runs its own statement).
 */
import DataLoader from 'dataloader';
import { PostgresAdapter } from 'kysely';
import type { Executor } from './schema.js';

/** A batch answers every key, in order: a value, or the Error that this key's load rejects with. */
export type BatchFn<K, V> = (db: Executor, keys: readonly K[]) => Promise<(V | Error)[]>;

/** Bounds one statement's parameter list; a longer queue makes several batches of the same turn. */
const MAX_BATCH = 100;

export function turnBatch<K, V>(batch: BatchFn<K, V>): (db: Executor) => DataLoader<K, V> | null {
  const loaders = new WeakMap<Executor, DataLoader<K, V> | null>();
  return (db) => {
    let loader = loaders.get(db);
    if (loader !== undefined) return loader;
    loader = null;
    if (!db.isTransaction && db.getExecutor().adapter instanceof PostgresAdapter) {
      // At most one statement of this kind in flight: loads made meanwhile wait for it and go together
      // in the next (ioredis's auto-pipelining does the same for Redis commands).
      let inflight: Promise<unknown> | null = null;
      loader = new DataLoader<K, V>(
        (keys) => {
          const run = batch(db, keys);
          inflight = run;
          const clear = () => {
            if (inflight === run) inflight = null;
          };
          run.then(clear, clear);
          return run;
        },
        {
          cache: false,
          maxBatchSize: MAX_BATCH,
          batchScheduleFn: (dispatch) => {
            const next = () => setImmediate(dispatch);
            if (inflight) inflight.then(next, next);
            else next();
          },
        },
      );
    }
    loaders.set(db, loader);
    return loader;
  };
}
