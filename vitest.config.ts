import { defineConfig } from 'vitest/config';

// One run over every workspace; each project keeps its own vitest.config.ts. backend runs twice: on
// SQLite (backend) and on PostgreSQL (backend/vitest.pg.config.ts, project backend-pg).
export default defineConfig({
  test: {
    projects: [
      'contracts',
      'scraper',
      'ml-service',
      'backend',
      'backend/vitest.pg.config.ts',
      'frontend',
      'data-image',
      'tests',
    ],
    pool: 'forks',
    maxWorkers: 2,
    passWithNoTests: true,
  },
});
