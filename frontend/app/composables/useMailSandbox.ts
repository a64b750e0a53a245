/**
 * Whether backend keeps sent mail in its sandbox outbox (MAIL_SANDBOX: development without a mail
 * server). Asked once per page load; the outbox answers 404 everywhere else, production included.
 */
export function useMailSandbox() {
  const on = useState<boolean | null>('mail-sandbox', () => null);
  if (import.meta.client && on.value === null) {
    on.value = false;
    useApi()
      .$response('devOutbox', { query: { limit: 0 } })
      .then((r) => (on.value = r.ok))
      .catch(() => undefined);
  }
  return on;
}
