/** A named-argument translate function, as vue-i18n's `t` is called in the app. */
export type Translate = (key: string, named?: Record<string, unknown>) => string;

/**
 * vue-i18n's `t` with its answers remembered per locale. Every call of vue-i18n's `t` resolves the key,
 * builds a message context and runs the message; a page re-renders its whole template on every state
 * change (the stock, its prices, the selection, the user, …), so the search page's fifty-odd labels were
 * translated again each time: about 0.2 s of its load on Lighthouse's 4× slowed phone CPU (decision 142).
 * The answer depends only on the locale, the key and the named values, so it is kept under those; reading
 * `locale()` first keeps a render that used it reactive to a change of language. At most `max` answers
 * are kept (named values such as dates and counts make new keys); then the memory starts afresh.
 */
export function memoT(t: Translate, locale: () => string, max = 500): Translate {
  const cache = new Map<string, string>();
  let cachedFor: string | undefined;
  return (key, named) => {
    const loc = locale();
    if (loc !== cachedFor || cache.size >= max) {
      cache.clear();
      cachedFor = loc;
    }
    const k = named ? `${key}\u0000${JSON.stringify(named)}` : key;
    let v = cache.get(k);
    if (v === undefined) {
      v = named ? t(key, named) : t(key);
      cache.set(k, v);
    }
    return v;
  };
}
