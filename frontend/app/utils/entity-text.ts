/**
 * How a stock and the age of its data are named on screen: the name in the reader's language first
 * (Japanese names for ja, English for en, each falling back to the other and then to the code), and
 * the "as of" line every market-data answer carries (issue 13: 「データ: YYYY年M月D日時点」 / "Data as of …").
 */
import { formatDate } from './format';

export interface NamedEntity {
  code: string;
  nameJa?: string | null;
  nameEn?: string | null;
}

/** The name to show first in `locale`; the code when the master has no name. */
export function entityName(e: NamedEntity, locale: string): string {
  const [first, second] = locale === 'en' ? [e.nameEn, e.nameJa] : [e.nameJa, e.nameEn];
  return first || second || e.code;
}

/** The name in the other language, when there is one and it differs (shown small, under the first). */
export function otherName(e: NamedEntity, locale: string): string | null {
  const shown = entityName(e, locale);
  const other = locale === 'en' ? e.nameJa : e.nameEn;
  return other && other !== shown ? other : null;
}

/** 「データ: 2018年2月7日時点」 / "Data as of Feb 7, 2018"; null when there is no price date to name. */
export function asOfText(iso: string | null | undefined, locale: string): string | null {
  if (!iso) return null;
  const d = formatDate(iso, locale);
  return locale === 'en' ? `Data as of ${d}` : `データ: ${d}時点`;
}
