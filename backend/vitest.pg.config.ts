import { defineConfig } from 'vitest/config';

/**
 * backend's app tests again, on PostgreSQL: the harness gives every app a fresh database on an ephemeral
 * server (test/support/postgres-server.ts). Tests that run on both engines by themselves (db-*, sessions,
 * usage, entitlements, webhook-once) and the ones that never open the app database stay in `backend`.
 */
export default defineConfig({
  test: {
    name: 'backend-pg',
    include: [
      'test/auth.test.ts',
      'test/billing-amazonpay.test.ts',
      'test/billing-sandbox.test.ts',
      'test/billing-resume-receipts.test.ts',
      'test/billing-stripe.test.ts',
      'test/features.test.ts',
      'test/idempotency.test.ts',
      'test/jobs-bullmq.test.ts',
      'test/jobs-in-process.test.ts',
      'test/mail.test.ts',
      'test/ml-chain.test.ts',
      'test/platform.test.ts',
      'test/quota.test.ts',
      'test/rate-limit.test.ts',
      'test/replicas-redis.test.ts',
      'test/results.test.ts',
      'test/search.test.ts',
      'test/timeframe.test.ts',
    ],
    env: { BACKEND_TEST_DB: 'postgres' },
    setupFiles: ['test/support/pg-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
