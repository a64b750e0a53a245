import { describe, expect, it } from 'vitest';
import { companyFromRow, companySchema, companyToRow, type Company } from './company.js';
import { COMPANY_COLUMNS, displayName, displaySector } from './store-layout.js';
import { entitySummarySchema } from './ml.js';

const toyota: Company = {
  code: '7203',
  market: 'JP',
  nameJa: 'トヨタ自動車',
  nameEn: null,
  kind: 'stock',
  sector33Code: '3700',
  sector33Name: '輸送用機器',
  sector17Code: '6',
  sector17Name: '自動車・輸送機',
  gicsSector: null,
  segment: 'プライム（内国株式）',
  sizeCode: '1',
  sizeClass: 'TOPIX Core30',
  status: 'listed',
  listedSince: '2019-09-30',
  delistedSince: null,
};

describe('company master contract', () => {
  it('accepts a TSE code with a letter and round-trips through the row shape', () => {
    const c = companySchema.parse({ ...toyota, code: '285A', nameJa: 'キオクシアホールディングス' });
    const row = companyToRow(c, 'jpx-listings', '2026-01-01T00:00:00.000Z');
    expect(Object.keys(row)).toEqual([...COMPANY_COLUMNS]);
    expect(companyFromRow(row)).toEqual(c);
  });
  it('needs a name, a known kind and a delisted date exactly when delisted', () => {
    expect(companySchema.safeParse({ ...toyota, nameJa: null }).success).toBe(false);
    expect(companySchema.safeParse({ ...toyota, kind: 'bond' }).success).toBe(false);
    expect(companySchema.safeParse({ ...toyota, status: 'delisted' }).success).toBe(false);
    expect(companySchema.safeParse({ ...toyota, delistedSince: '2020-01-01' }).success).toBe(false);
    expect(
      companySchema.safeParse({ ...toyota, status: 'delisted', delistedSince: '2020-01-01' }).success,
    ).toBe(true);
    expect(companySchema.safeParse({ ...toyota, market: 'jp' }).success).toBe(false);
  });
  it('names and sectors for display: Japanese first for JP, English first elsewhere', () => {
    const row = companyToRow(toyota, 'x', 't');
    expect(displayName(row)).toBe('トヨタ自動車');
    expect(displayName({ ...row, market: 'US', name_en: 'Toyota Motor' })).toBe('Toyota Motor');
    expect(displayName({ ...row, name_ja: null })).toBe('7203');
    expect(displaySector(row)).toBe('輸送用機器');
    expect(displaySector({ sector33_name: null, gics_sector: 'Energy' })).toBe('Energy');
  });
  it('an entity summary may have no prices yet', () => {
    const s = entitySummarySchema.parse({
      ...toyota,
      name: 'トヨタ自動車',
      currency: 'JPY',
      sector: '輸送用機器',
      hasPrices: false,
      firstDate: null,
      lastDate: null,
      rows: 0,
    });
    expect(s.hasPrices).toBe(false);
  });
});
