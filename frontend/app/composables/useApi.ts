import { createApiClient, readCookie, type ApiClient } from '~/utils/api-client';

let client: ApiClient | null = null;

/** The browser's API client (one per page load, so refreshes are shared). */
export function useApi(): ApiClient {
  if (client) return client;
  client = createApiClient({
    fetch: (...args) => globalThis.fetch(...args),
    csrfToken: () => (import.meta.client ? readCookie(document.cookie, 'csrf_token') : undefined),
    onSessionLost: () => {
      useState('me').value = null;
    },
  });
  return client;
}
