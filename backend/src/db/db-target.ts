/** Which engine holds the app database (config.ts reads it from DATABASE_URL, DATABASE_POOL_MAX and APP_DB). */
export type DbTarget =
  | { engine: 'sqlite'; file: string }
  | {
      engine: 'postgres';
      url: string;
      /** Connections this process may hold open at once (DATABASE_POOL_MAX); unset: openDatabase's default. */
      poolMax?: number;
    };

/** DATABASE_URL → PostgreSQL; otherwise the SQLite file. */
export function dbTarget(databaseUrl: string | undefined, sqliteFile: string, poolMax?: number): DbTarget {
  return databaseUrl
    ? { engine: 'postgres', url: databaseUrl, ...(poolMax === undefined ? {} : { poolMax }) }
    : { engine: 'sqlite', file: sqliteFile };
}
