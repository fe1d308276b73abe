/**
 * `_include` and `_revinclude`: the resources a page of matches points at, and the resources pointing at the page.
 * Each is read in the same view as the page (current rows, or the snapshot of page 1) and under the policy's
 * visibility for ITS own type (on a later page, of its current version too, as for the matches). A type the request
 * names (every `_revinclude`, an `_include` with a target type) must be one the caller may search (403 otherwise, like a
 * search of it); the possible targets of an `_include` that names no type are limited to the types the caller may
 * search. Each resource appears once overall.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { isSupportedResourceType } from '@carecircle/fhir';
import type { Queryable } from '../database';
import { versionCurrentIn, type ReadView } from '../read-view';
import { sql } from '../sql';
import { liveVisibleIn, type StoreContext } from '../store-context';
import type { IncludeRequest } from './search-request';

/** Bounds the included set of one page, whatever the fan-out. */
const MAX_INCLUDED_PER_TARGET = 1000;

export interface PageMatch {
  vid: number;
  resourceType: string;
  id: string;
}

/** Loads the `_include` and `_revinclude` resources of `matches`, without duplicates and without the matches. */
export async function loadIncluded(
  ctx: StoreContext,
  q: Queryable,
  view: ReadView,
  matches: PageMatch[],
  include: IncludeRequest[],
  revinclude: IncludeRequest[],
): Promise<Resource[]> {
  for (const named of [...include.flatMap((i) => (i.targetType ? [i.targetType] : [])), ...revinclude.map((r) => r.resourceType)]) {
    ctx.policy.assertInteraction('search', named);
  }
  if (matches.length === 0) {
    return [];
  }
  const seen = new Set(matches.map((m) => `${m.resourceType}/${m.id}`));
  const result: Resource[] = [];
  const add = (rows: Array<{ content: Resource }>): void => {
    for (const { content } of rows) {
      const key = `${content.resourceType}/${content.id}`;
      if (!seen.has(key)) {
        seen.add(key);
        result.push(content);
      }
    }
  };
  const vids = matches.map((m) => m.vid);
  for (const target of include) {
    for (const targetType of await includeTargetTypes(q, vids, target)) {
      if (!maySearch(ctx, targetType)) {
        continue;
      }
      const { rows } = await q.query<{ content: Resource }>(sql`
        SELECT rv.content FROM resource_version rv
        WHERE rv.resource_type = ${targetType} AND NOT rv.deleted AND ${versionCurrentIn(view)}
          AND ${liveVisibleIn(ctx, targetType, view)}
          AND rv.id IN (SELECT r.target_id FROM search_reference r
                        WHERE r.vid = ANY(${vids}::bigint[]) AND r.code = ${target.param.code} AND r.target_type = ${targetType})
        ORDER BY rv.id LIMIT ${MAX_INCLUDED_PER_TARGET}`);
      add(rows);
    }
  }
  const searchedType = matches[0]!.resourceType;
  const ids = matches.map((m) => m.id);
  for (const source of revinclude) {
    const { rows } = await q.query<{ content: Resource }>(sql`
      SELECT rv.content FROM resource_version rv
      WHERE rv.resource_type = ${source.resourceType} AND NOT rv.deleted AND ${versionCurrentIn(view)}
        AND ${liveVisibleIn(ctx, source.resourceType, view)}
        AND EXISTS (SELECT 1 FROM search_reference r WHERE r.vid = rv.vid AND r.code = ${source.param.code}
                    AND r.target_type = ${searchedType} AND r.target_id = ANY(${ids}::text[]))
      ORDER BY rv.id LIMIT ${MAX_INCLUDED_PER_TARGET}`);
    add(rows);
  }
  return result;
}

async function includeTargetTypes(q: Queryable, vids: number[], target: IncludeRequest): Promise<string[]> {
  if (target.targetType) {
    return [target.targetType];
  }
  const { rows } = await q.query<{ target_type: string }>(sql`
    SELECT DISTINCT r.target_type FROM search_reference r
    WHERE r.vid = ANY(${vids}::bigint[]) AND r.code = ${target.param.code} AND r.target_type IS NOT NULL
    ORDER BY r.target_type`);
  return rows.map((r) => r.target_type).filter(isSupportedResourceType);
}

function maySearch(ctx: StoreContext, resourceType: string): boolean {
  try {
    ctx.policy.assertInteraction('search', resourceType);
    return true;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return false;
    }
    throw err;
  }
}
