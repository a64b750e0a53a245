/**
 * The browser's API client is the typed client built from the route contract (contracts/src/api-client.ts):
 * same-origin fetch under /api/v1, the CSRF header on writes, one silent refresh on 401, ApiError on failure.
 * Imported by its own entry, not the package index: the index carries every zod schema, which would
 * put zod into the first load of every page (decision 128).
 */
export {
  ApiError,
  createApiClient,
  readCookie,
  toApiError,
  type ApiClient,
} from '@resemble/contracts/api-client';
