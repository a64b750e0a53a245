/**
 * What a receipt prints, derived from the API's receipt: dates in Japan time (a receipt's transaction
 * date is the Japanese calendar day, wherever it is opened) and the amounts per tax rate that a
 * qualified invoice (適格請求書) shows. Prices include tax, so the net is what remains after the tax.
 */
import type { Receipt } from '@resemble/contracts';

export function formatDateJst(iso: string, locale: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-US' : 'ja-JP', {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'Asia/Tokyo',
  }).format(d);
}

export interface ReceiptRateLine {
  ratePercent: number;
  /** Amount subject to this rate, tax included. */
  totalJpy: number;
  taxJpy: number;
  netJpy: number;
}

export function receiptLines(r: Pick<Receipt, 'amountJpy' | 'taxJpy' | 'taxRatePercent'>): ReceiptRateLine[] {
  return [
    {
      ratePercent: r.taxRatePercent,
      totalJpy: r.amountJpy,
      taxJpy: r.taxJpy,
      netJpy: r.amountJpy - r.taxJpy,
    },
  ];
}

/** "2026-12" → "2026年12月" / "December 2026"; null stays null. */
export function formatPeriod(period: string | null, locale: string): string | null {
  if (!period || !/^\d{4}-\d{2}$/.test(period)) return period;
  const d = new Date(`${period}-01T00:00:00Z`);
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-US' : 'ja-JP', {
    year: 'numeric',
    month: 'long',
    timeZone: 'UTC',
  }).format(d);
}
