import { ApiError } from '~/utils/api-client';

interface FetchErrorLike {
  statusCode?: number;
  data?: { error?: { code?: string; message?: string } };
}

/**
 * Human text for any failure: a translated sentence for codes we know, otherwise backend's own
 * message (it is written for people), otherwise a generic line. Accepts ApiError and the FetchError
 * that Nuxt's useFetch produces.
 */
export function useErrorText() {
  const { t, te } = useI18n();
  return (e: unknown): string => {
    let code: string | undefined;
    let message: string | undefined;
    if (e instanceof ApiError) {
      code = e.code;
      message = e.message;
    } else if (e && typeof e === 'object') {
      const f = e as FetchErrorLike;
      code = f.data?.error?.code ?? ((f.statusCode ?? 0) >= 500 ? 'server_unavailable' : undefined);
      message = f.data?.error?.message;
    }
    if (code && te(`errors.${code}`)) return t(`errors.${code}`);
    return message ?? t('errors.unexpected');
  };
}
