/**
 * A query built and compiled by Kysely once per engine, then run with each call's own parameters.
 *
 * Why: Kysely builds an operation tree, freezes it and compiles it to SQL on every call. Profiled under
 * the replicas bench (issue 15) that was about a fifth of backend's CPU on the search path, for a handful
 * of statements whose SQL never changes, only their bound values. The repositories still write their
 * SQL with the query builder; `prepared` only keeps the compiled text.
 *
 * How: the builder runs once with a marker in place of each argument. Every argument must reach the SQL
 * as a bound parameter (a `where`, `values` or `set` value), never shape it (no argument may choose a
 * column, a branch or a list length), so the compiled text holds for every call; an argument that does
 * not come out as a parameter at all is refused at the first call, never run. Compiled text is kept per
 * dialect adapter, which a Kysely instance shares with its transactions, so SQLite and PostgreSQL each
 * get their own.
 */
import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from './schema.js';

class Marker {
  constructor(readonly index: number) {}
}

interface Template {
  compiled: CompiledQuery;
  /** Per parameter: the argument it takes (index), or -1 for a constant of the query itself. */
  from: number[];
  constants: readonly unknown[];
}

export function prepared<A extends unknown[], R>(
  arity: A['length'],
  build: (db: Executor, ...args: A) => Compilable<R>,
): (db: Executor, ...args: A) => Promise<QueryResult<R>> {
  const templates = new WeakMap<object, Template>();
  const templateFor = (db: Executor): Template => {
    const key = db.getExecutor().adapter;
    let t = templates.get(key);
    if (t) return t;
    const markers = Array.from({ length: arity }, (_, i) => new Marker(i)) as unknown as A;
    const compiled = build(db, ...markers).compile();
    const from = compiled.parameters.map((p) => (p instanceof Marker ? p.index : -1));
    for (let i = 0; i < arity; i++) {
      const uses = from.filter((f) => f === i).length;
      if (uses === 0)
        throw new Error(`prepared query: argument ${i} is not a bound parameter of ${compiled.sql}`);
    }
    t = { compiled, from, constants: compiled.parameters };
    templates.set(key, t);
    return t;
  };
  return (db, ...args) => {
    const t = templateFor(db);
    const parameters = t.from.map((f, i) => (f < 0 ? t.constants[i] : args[f]));
    return db.executeQuery<R>({ ...t.compiled, parameters } as CompiledQuery<R>);
  };
}

/**
 * `prepared` for statements whose shape depends only on a count (an IN list, a multi-row VALUES): one
 * compiled text per count, made on first use. `build(n)` returns the builder for n; counts are bounded
 * by the caller (db/turn-batch.ts caps a batch at 100).
 */
export function preparedByCount<A extends unknown[], R>(
  arityOf: (n: number) => number,
  build: (n: number) => (db: Executor, ...args: A) => Compilable<R>,
): (n: number) => (db: Executor, ...args: A) => Promise<QueryResult<R>> {
  const byCount = new Map<number, (db: Executor, ...args: A) => Promise<QueryResult<R>>>();
  return (n) => {
    let q = byCount.get(n);
    if (!q) {
      q = prepared<A, R>(arityOf(n), build(n));
      byCount.set(n, q);
    }
    return q;
  };
}
