import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'data-image',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', '*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
