import { defineConfig } from 'vitest/config';

// One run over every workspace; each project keeps its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['contracts', 'scraper', 'ml-service', 'backend', 'frontend', 'data-image', 'tests'],
    pool: 'forks',
    maxWorkers: 2,
    passWithNoTests: true,
  },
});
