/**
 * `_include` and `_revinclude`: the resources a page of matches points at, and the resources pointing at the page;
 * with `:iterate`, also those that what was included points at or is pointed at by, level by level. Each is read in
 * the same view as the page (current rows, or the snapshot of page 1) and under the policy's visibility for ITS own
 * type (on a later page, of its current version too, as for the matches). A type the request names (every
 * `_revinclude`, an `_include` with a target type) must be one the caller may search (403 otherwise, like a search of
 * it); the possible targets of an `_include` that names no type are limited to the types the caller may search. Each
 * resource appears once overall. What the caller is shown in part is followed only as far as it is shown: an
 * `_include` from a resource shown in part follows the references of what is shown, a `_revinclude` takes a version
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
import { referenceTargets } from './search-parameters';
import type { IncludeRequest } from './search-request';

/** Bounds the included set of one page, whatever the fan-out. */
const MAX_INCLUDED_PER_TARGET = 1000;
/**
 * Levels `:iterate` follows beyond the matches (the matches' includes are level 1): a chain of references the data
 * loops through (a Task's focus, its basedOn ...) ends here however long it is.
 */
export const MAX_INCLUDE_DEPTH = 4;

/** A resource of the page (a match, or one included at an earlier level) from which includes are followed. */
export interface PageMatch {
  vid: number;
  resourceType: string;
  id: string;
  /** Shown to the caller in part (see presentation.ts). */
  partial: boolean;
  /** The match as the caller is shown it. */
  resource: Resource;
}

/** A row read for an include: the version, and whether it is shown in part. */
interface IncludedRow {
  vid: number | string;
  id: string;
  content: Resource;
  partial: boolean;
}

/**
 * Loads the `_include` and `_revinclude` resources of `matches`, without duplicates and without the matches: level 1
 * from the matches by every rule, then, level by level up to {@link MAX_INCLUDE_DEPTH}, from what the level before
 * included by the `:iterate` rules. Every level reads under the same gate (the type's visibility, in the page's view)
 * and hands out what is shown, so an iterated include discloses nothing a plain one would not.
 */
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
  const seen = new Set(matches.map((m) => `${m.resourceType}/${m.id}`));
  const result: Resource[] = [];
  let level = matches;
  for (let depth = 1; depth <= MAX_INCLUDE_DEPTH && level.length > 0; depth++) {
    const rules = (list: IncludeRequest[]): IncludeRequest[] => (depth === 1 ? list : list.filter((r) => r.iterate));
    const next: PageMatch[] = [];
    const add = (rows: IncludedRow[]): void => {
      for (const { vid, id, content, partial } of rows) {
        const key = `${content.resourceType}/${content.id}`;
        if (!seen.has(key)) {
          seen.add(key);
          const resource = shownVersion(ctx, content, partial);
          result.push(resource);
          next.push({ vid: Number(vid), resourceType: content.resourceType, id, partial, resource });
        }
      }
    };
    for (const [resourceType, group] of byType(level)) {
      for (const target of rules(include).filter((i) => i.resourceType === resourceType)) {
        add(await includedFrom(ctx, q, view, group, target));
      }
      for (const source of rules(revinclude).filter((r) => pointsAt(r, resourceType))) {
        add(await includedPointingAt(ctx, q, view, group, source));
      }
    }
    level = next;
  }
  return result;
}

/** `matches` grouped by resource type, in a fixed order. */
function byType(matches: readonly PageMatch[]): Array<[string, PageMatch[]]> {
  const groups = new Map<string, PageMatch[]>();
  for (const match of matches) {
    groups.set(match.resourceType, [...(groups.get(match.resourceType) ?? []), match]);
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

/** Whether `source` (a `_revinclude`) can point at resources of `resourceType`. */
function pointsAt(source: IncludeRequest, resourceType: string): boolean {
  if (source.targetType !== undefined) {
    return source.targetType === resourceType;
  }
  return referenceTargets(source.param).includes(resourceType);
}

/** What `group` (resources of one type) references through `target`'s parameter, as the caller may see it. */
async function includedFrom(ctx: StoreContext, q: Queryable, view: ReadView, group: PageMatch[], target: IncludeRequest): Promise<IncludedRow[]> {
  const hidden = presentationOf(ctx, target.resourceType)?.hiddenParameters;
  // Through a parameter some resources are shown without, those resources' targets are read from what is shown.
  const fromShown = hidden?.has(target.param.code) ? group.filter((m) => m.partial) : [];
  const vids = group.filter((m) => !fromShown.includes(m)).map((m) => m.vid);
  const shown = shownTargets(fromShown, target);
  const rows: IncludedRow[] = [];
  for (const targetType of await includeTargetTypes(q, vids, target, shown)) {
    if (!maySearch(ctx, targetType)) {
      continue;
    }
    const shownIds = shown.filter((t) => t.resourceType === targetType).map((t) => t.id);
    const read = await q.query<IncludedRow>(sql`
      SELECT rv.vid, rv.id, rv.content, ${partialColumn(ctx, targetType)} FROM resource_version rv
      WHERE rv.resource_type = ${targetType} AND NOT rv.deleted AND ${versionCurrentIn(view)}
        AND ${liveVisibleIn(ctx, targetType, view)}
        AND (rv.id IN (SELECT r.target_id FROM search_reference r
                       WHERE r.vid = ANY(${vids}::bigint[]) AND r.code = ${target.param.code} AND r.target_type = ${targetType})
             OR rv.id = ANY(${shownIds}::text[]))
      ORDER BY rv.id LIMIT ${MAX_INCLUDED_PER_TARGET}`);
    rows.push(...read.rows);
  }
  return rows;
}

/** What of `source`'s type points at `group` (resources of one type) through its parameter, as the caller may see it. */
async function includedPointingAt(ctx: StoreContext, q: Queryable, view: ReadView, group: PageMatch[], source: IncludeRequest): Promise<IncludedRow[]> {
  const targetType = group[0]!.resourceType;
  const ids = group.map((m) => m.id);
  const pointsAtGroup: Sql = sql`EXISTS (SELECT 1 FROM search_reference x WHERE x.vid = rv.vid AND x.code = ${source.param.code}
                  AND x.target_type = ${targetType} AND x.target_id = ANY(${ids}::text[]))`;
  const pointsAtGroupAsShown = shownFilter(
    ctx,
    source.resourceType,
    { kind: 'reference', param: source.param, values: ids.map((id) => ({ kind: 'target', resourceType: targetType, id })) },
    pointsAtGroup,
  );
  const { rows } = await q.query<IncludedRow>(sql`
    SELECT rv.vid, rv.id, rv.content, ${partialColumn(ctx, source.resourceType)} FROM resource_version rv
    WHERE rv.resource_type = ${source.resourceType} AND NOT rv.deleted AND ${versionCurrentIn(view)}
      AND ${liveVisibleIn(ctx, source.resourceType, view)}
      AND ${pointsAtGroupAsShown}
    ORDER BY rv.id LIMIT ${MAX_INCLUDED_PER_TARGET}`);
  return rows;
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
