import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'frontend', include: ['test/**/*.test.ts', 'app/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 180_000 } });
