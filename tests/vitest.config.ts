import { defineConfig } from 'vitest/config';

// Cross-service tests start real services, so each file gets generous hook time.
export default defineConfig({
  test: {
    name: 'tests',
    include: ['integration/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
