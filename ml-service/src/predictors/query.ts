/**
 * Resolves a predict query (contracts similarQuerySchema) against the store: a query by code becomes its
 * entity and the row range start..end; a query by series stays a plain array.
 */
import { MAX_QUERY_LENGTH, MIN_QUERY_LENGTH, type SimilarQuery } from '@resemble/contracts';
import { PredictorError } from './errors.js';
import { firstIndexOnOrAfter, lastIndexOnOrBefore, type EntitySeries, type SeriesSource } from './series.js';

export type ResolvedQuery =
  | { kind: 'code'; entity: EntitySeries; startRow: number; endRow: number; closes: ArrayLike<number> }
  | { kind: 'series'; closes: number[] };

export function resolveQuery(source: SeriesSource, query: SimilarQuery): ResolvedQuery {
  if ('series' in query) return { kind: 'series', closes: query.series };
  const entity = source.byCode(query.code);
  if (!entity) throw new PredictorError(404, 'unknown_code', `unknown code ${query.code}`);
  const startRow = firstIndexOnOrAfter(entity.dates, query.start);
  const endRow = lastIndexOnOrBefore(entity.dates, query.end);
  const length = endRow - startRow + 1;
  if (length < MIN_QUERY_LENGTH || length > MAX_QUERY_LENGTH) {
    throw new PredictorError(
      400,
      'invalid_query',
      `${query.code} has ${Math.max(0, length)} rows in ${query.start}..${query.end}; a query needs ${MIN_QUERY_LENGTH}..${MAX_QUERY_LENGTH}`,
    );
  }
  return { kind: 'code', entity, startRow, endRow, closes: entity.closes };
}
