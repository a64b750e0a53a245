import { defineConfig } from 'vitest/config';

// Runs the cross-service tests alone: npx vitest run --config tests/integration/vitest.config.ts
export default defineConfig({ test: { name: 'integration', root: import.meta.dirname, include: ['**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } });
