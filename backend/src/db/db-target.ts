/** Which engine holds the app database (config.ts reads it from DATABASE_URL and APP_DB). */
export type DbTarget = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string };

/** DATABASE_URL → PostgreSQL; otherwise the SQLite file. */
export function dbTarget(databaseUrl: string | undefined, sqliteFile: string): DbTarget {
  return databaseUrl ? { engine: 'postgres', url: databaseUrl } : { engine: 'sqlite', file: sqliteFile };
}
