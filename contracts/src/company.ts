/**
 * The company master: what every entity (listed issue) is, independent of whether it has prices yet.
 * Stored in the catalog's `companies` table (CompanyRow in store-layout.ts, DDL in store.ts); exposed by
 * ml-service's entity list and the public API as the camelCase fields of entitySummarySchema (ml.ts).
 */
import { z } from 'zod';
import { ENTITY_KINDS, LISTING_STATUSES, type CompanyRow } from './store-layout.js';
import { entityCodeSchema, isoDateSchema } from './store.js';

export const entityKindSchema = z.enum(ENTITY_KINDS);
export const listingStatusSchema = z.enum(LISTING_STATUSES);
/** Market of an entity: 'JP' (Tokyo), 'US', ... (upper-case letters). */
export const marketSchema = z
  .string()
  .regex(/^[A-Z]{2,8}$/, 'market must be 2-8 upper-case letters (JP, US, ...)');

const optText = z.string().trim().min(1).max(200).nullable();

/** A company master record as the API and the importers speak it (camelCase of CompanyRow). */
export const companySchema = z
  .object({
    /** TSE codes are four characters and may contain a letter since 2024 (e.g. '285A'). */
    code: entityCodeSchema,
    market: marketSchema,
    nameJa: optText,
    nameEn: optText,
    kind: entityKindSchema,
    sector33Code: optText,
    sector33Name: optText,
    sector17Code: optText,
    sector17Name: optText,
    gicsSector: optText,
    segment: optText,
    sizeCode: optText,
    sizeClass: optText,
    status: listingStatusSchema,
    listedSince: isoDateSchema.nullable(),
    delistedSince: isoDateSchema.nullable(),
  })
  .refine((c) => c.nameJa !== null || c.nameEn !== null, {
    message: 'a company needs a Japanese or English name',
    path: ['nameEn'],
  })
  .refine((c) => (c.status === 'delisted') === (c.delistedSince !== null), {
    message: 'delistedSince is set exactly when status is delisted',
    path: ['delistedSince'],
  });
export type Company = z.infer<typeof companySchema>;

export function companyFromRow(r: CompanyRow): Company {
  return {
    code: r.code,
    market: r.market,
    nameJa: r.name_ja,
    nameEn: r.name_en,
    kind: r.kind,
    sector33Code: r.sector33_code,
    sector33Name: r.sector33_name,
    sector17Code: r.sector17_code,
    sector17Name: r.sector17_name,
    gicsSector: r.gics_sector,
    segment: r.segment,
    sizeCode: r.size_code,
    sizeClass: r.size_class,
    status: r.status,
    listedSince: r.listed_since,
    delistedSince: r.delisted_since,
  };
}

export function companyToRow(c: Company, source: string, updatedAt: string): CompanyRow {
  return {
    code: c.code,
    market: c.market,
    name_ja: c.nameJa,
    name_en: c.nameEn,
    kind: c.kind,
    sector33_code: c.sector33Code,
    sector33_name: c.sector33Name,
    sector17_code: c.sector17Code,
    sector17_name: c.sector17Name,
    gics_sector: c.gicsSector,
    segment: c.segment,
    size_code: c.sizeCode,
    size_class: c.sizeClass,
    status: c.status,
    listed_since: c.listedSince,
    delisted_since: c.delistedSince,
    source,
    updated_at: updatedAt,
  };
}
