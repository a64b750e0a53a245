import { errorKey, type ErrorOverrides } from '~/utils/error-text';

/**
 * Human text for any failure (ApiError or the FetchError of Nuxt's useFetch), always translated; see
 * errorKey. `overrides` give a code its meaning on one page (e.g. a bad token on the reset page).
 */
export function useErrorText(overrides: ErrorOverrides = {}) {
  const { t, te } = useI18n();
  return (e: unknown): string => t(errorKey(e, (k) => te(k), overrides));
}
