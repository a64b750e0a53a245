const MS_PER_DAY = 86_400_000;

/** 'YYYY-MM-DD' → days since 1970-01-01 (UTC). */
export function isoToDay(iso: string): number {
  return Math.round(Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY);
}

export function dayToIso(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}
