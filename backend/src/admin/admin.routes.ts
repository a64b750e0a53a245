import type { z } from 'zod';
import type { adminPaymentSchema, adminUserSchema } from '@resemble/contracts';
import type { Impls } from '../platform/contract-router.js';
import * as admin from './admin.service.js';

/** Administrators only: the contract marks these routes 'admin'. */
export function adminRoutes(deps: admin.AdminDeps): Impls<'adminOverview' | 'adminUsers' | 'adminPayments'> {
  return {
    adminOverview: {
      handler: async () => ({ status: 200, body: await admin.overview(deps) }),
    },
    // The rows' columns are the SELECT's aliases (admin.service.ts), which the contract's schemas name.
    adminUsers: {
      handler: async () => ({
        status: 200,
        body: { users: (await admin.listUsers(deps)) as z.input<typeof adminUserSchema>[] },
      }),
    },
    adminPayments: {
      handler: async () => ({
        status: 200,
        body: { payments: (await admin.listPayments(deps.db)) as z.input<typeof adminPaymentSchema>[] },
      }),
    },
  };
}
