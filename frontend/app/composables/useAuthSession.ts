import type { MeResponse } from '@resemble/contracts';
import { ApiError, readCookie } from '~/utils/api-client';

// The one session check in flight: the early plugin (session.client.ts), the route middleware and the
// header all ask at start-up, and share one request instead of each sending its own.
let inFlight: Promise<MeResponse | null> | null = null;

/** csrf_token is the one readable cookie a session sets (and it lives as long as the session). */
export const SESSION_HINT_COOKIE = 'csrf_token';

/** Whether this browser holds a session. */
export function hasSessionCookie(): boolean {
  return import.meta.client && readCookie(document.cookie, SESSION_HINT_COOKIE) !== undefined;
}

/** The logged-in user (null when logged out, undefined before the first check). */
export function useAuthSession() {
  const me = useState<MeResponse | null | undefined>('me', () => undefined);
  const api = useApi();

  async function fetchMe(): Promise<MeResponse | null> {
    try {
      me.value = await api.me();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) me.value = null;
      else throw e;
    }
    return me.value ?? null;
  }

  function load(): Promise<MeResponse | null> {
    inFlight ??= fetchMe().finally(() => (inFlight = null));
    return inFlight;
  }

  async function logout() {
    try {
      await api.logout();
    } finally {
      me.value = null;
    }
  }

  return { me, load, logout };
}
