/**
 * `_include` and `_revinclude`: the resources a page of matches points at, and the resources pointing at the page.
 * Each is read in the same view as the page (current rows, or the snapshot of page 1) and under the policy's
 * visibility for ITS own type (on a later page, of its current version too, as for the matches). A type the request
 * names (every `_revinclude`, an `_include` with a target type) must be one the caller may search (403 otherwise, like a
 * search of it); the possible targets of an `_include` that names no type are limited to the types the caller may
 * search. Each resource appears once overall. What the caller is shown in part is followed only as far as it is shown:
 * an `_include` from a match shown in part follows the references of what is shown, a `_revinclude` takes a version
 * shown in part only when what is shown of it points at the page (presentation.ts), and included versions are handed
 * out as shown.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { isSupportedResourceType, parseRelativeReference } from '@carecircle/fhir';
import type { Queryable } from '../database';
import { partialColumn, presentationOf, shownFilter, shownVersion } from '../presentation';
import { versionCurrentIn, type ReadView } from '../read-view';
import { sql, type Sql } from '../sql';
import { liveVisibleIn, type StoreContext } from '../store-context';
import { evaluateSearchParameter } from './search-index';
import type { IncludeRequest } from './search-request';

/** Bounds the included set of one page, whatever the fan-out. */
const MAX_INCLUDED_PER_TARGET = 1000;

export interface PageMatch {
  vid: number;
  resourceType: string;
  id: string;
  /** Shown to the caller in part (see presentation.ts). */
  partial: boolean;
  /** The match as the caller is shown it. */
  resource: Resource;
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
  const add = (rows: Array<{ content: Resource; partial: boolean }>): void => {
    for (const { content, partial } of rows) {
      const key = `${content.resourceType}/${content.id}`;
      if (!seen.has(key)) {
        seen.add(key);
        result.push(shownVersion(ctx, content, partial));
      }
    }
  };
  const searchedType = matches[0]!.resourceType;
  const hidden = presentationOf(ctx, searchedType)?.hiddenParameters;
  for (const target of include) {
    // Through a parameter some matches are shown without, those matches' targets are read from what is shown.
    const fromShown = hidden?.has(target.param.code) ? matches.filter((m) => m.partial) : [];
    const vids = matches.filter((m) => !fromShown.includes(m)).map((m) => m.vid);
    const shown = shownTargets(fromShown, target);
    for (const targetType of await includeTargetTypes(q, vids, target, shown)) {
      if (!maySearch(ctx, targetType)) {
        continue;
      }
      const shownIds = shown.filter((t) => t.resourceType === targetType).map((t) => t.id);
      const { rows } = await q.query<{ content: Resource; partial: boolean }>(sql`
        SELECT rv.content, ${partialColumn(ctx, targetType)} FROM resource_version rv
        WHERE rv.resource_type = ${targetType} AND NOT rv.deleted AND ${versionCurrentIn(view)}
          AND ${liveVisibleIn(ctx, targetType, view)}
          AND (rv.id IN (SELECT r.target_id FROM search_reference r
                         WHERE r.vid = ANY(${vids}::bigint[]) AND r.code = ${target.param.code} AND r.target_type = ${targetType})
               OR rv.id = ANY(${shownIds}::text[]))
        ORDER BY rv.id LIMIT ${MAX_INCLUDED_PER_TARGET}`);
      add(rows);
    }
  }
  const ids = matches.map((m) => m.id);
  for (const source of revinclude) {
    const pointsAtPage: Sql = sql`EXISTS (SELECT 1 FROM search_reference x WHERE x.vid = rv.vid AND x.code = ${source.param.code}
                    AND x.target_type = ${searchedType} AND x.target_id = ANY(${ids}::text[]))`;
    const pointsAtPageAsShown = shownFilter(
      ctx,
      source.resourceType,
      { kind: 'reference', param: source.param, values: ids.map((id) => ({ kind: 'target', resourceType: searchedType, id })) },
      pointsAtPage,
    );
    const { rows } = await q.query<{ content: Resource; partial: boolean }>(sql`
      SELECT rv.content, ${partialColumn(ctx, source.resourceType)} FROM resource_version rv
      WHERE rv.resource_type = ${source.resourceType} AND NOT rv.deleted AND ${versionCurrentIn(view)}
        AND ${liveVisibleIn(ctx, source.resourceType, view)}
        AND ${pointsAtPageAsShown}
      ORDER BY rv.id LIMIT ${MAX_INCLUDED_PER_TARGET}`);
    add(rows);
  }
  return result;
}

/** The local resources the shown versions of `matches` reference through `target`'s parameter (and target type). */
function shownTargets(matches: readonly PageMatch[], target: IncludeRequest): Array<{ resourceType: string; id: string }> {
  return matches.flatMap((match) =>
    evaluateSearchParameter(match.resource, target.param).flatMap((value) => {
      const reference = (value.value as { reference?: unknown } | undefined)?.reference;
      const parsed = typeof reference === 'string' ? parseRelativeReference(reference) : undefined;
      return parsed && (target.targetType === undefined || parsed.resourceType === target.targetType) ? [parsed] : [];
    }),
  );
}

async function includeTargetTypes(
  q: Queryable,
  vids: number[],
  target: IncludeRequest,
  shown: ReadonlyArray<{ resourceType: string }>,
): Promise<string[]> {
  if (target.targetType) {
    return [target.targetType];
  }
  const { rows } = await q.query<{ target_type: string }>(sql`
    SELECT DISTINCT r.target_type FROM search_reference r
    WHERE r.vid = ANY(${vids}::bigint[]) AND r.code = ${target.param.code} AND r.target_type IS NOT NULL`);
  const types = new Set([...rows.map((r) => r.target_type), ...shown.map((t) => t.resourceType)]);
  return [...types].sort().filter(isSupportedResourceType);
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
