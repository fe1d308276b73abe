/**
 * Chained parameters (`Observation?subject:Patient.name=x`) and reverse chains (`Patient?_has:Observation:subject:code=x`)
 * as SQL, and the one place every filter of a search becomes its condition. A chain or `_has` learns about other
 * resources than the matches, so it goes only THROUGH resources the caller may see: the linked versions are read in the
 * search's view and under the policy's visibility of their own type (on a later page, of their current version too),
 * each judged on what the caller is shown of it, exactly as a search of that type would judge them. A hidden Condition
 * is then no link, as an absent one: `Patient?_has:Condition:subject:code=x` cannot tell that it exists. The linked
 * type must be one the caller may search (403 otherwise, as a search of it would be).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Queryable } from '../database';
import { presentationOf, shownFilter } from '../presentation';
import { versionCurrentIn, type ReadView } from '../read-view';
import { join, sql, type Sql } from '../sql';
import { liveVisibleIn, type StoreContext } from '../store-context';
import { withHiddenTargetsLeftOut } from '../withheld-references';
import { filterCondition } from './search-query';
import type { ChainTarget, SearchFilter, SearchRequest } from './search-request';

/**
 * The condition over `rv` (a version of `resourceType`) of `filter` as the caller sees the version, in `view`: a plain
 * filter on what is shown of it (presentation.ts), a chain or `_has` through what the caller may see.
 */
export function shownFilterCondition(ctx: StoreContext, resourceType: string, filter: SearchFilter, view: ReadView): Sql {
  switch (filter.kind) {
    case 'chain':
      // A version shown without the chained reference is judged by its presentation, which finds no chain through it.
      return shownFilter(ctx, resourceType, filter, chainCondition(ctx, filter.param.code, filter.targets, view));
    case 'has':
      return hasCondition(ctx, resourceType, filter, view);
    default:
      return shownFilter(ctx, resourceType, filter, filterCondition(filter, ctx.now()));
  }
}

/** Some `param` reference of `rv` points at a version of a target type, live in `view` and visible, meeting its filter. */
function chainCondition(ctx: StoreContext, code: string, targets: readonly ChainTarget[], view: ReadView): Sql {
  const links = targets.map(
    ({ resourceType, filter }) => sql`(chain_link.target_type = ${resourceType} AND chain_link.target_id IN (
      SELECT rv.id FROM resource_version rv WHERE ${linkedVersion(ctx, resourceType, view)}
        AND ${shownFilterCondition(ctx, resourceType, filter, view)}))`,
  );
  return sql`EXISTS (SELECT 1 FROM search_reference chain_link WHERE chain_link.vid = rv.vid AND chain_link.code = ${code}
    AND (${join(links, ' OR ', 'FALSE')}))`;
}

/**
 * Some version of the `_has` source type, live in `view` and visible, meeting the filter, points at `rv` through the
 * parameter. A source version shown without that reference (presentation.ts) is no link: what it is not shown cannot
 * be searched through.
 */
function hasCondition(ctx: StoreContext, resourceType: string, filter: Extract<SearchFilter, { kind: 'has' }>, view: ReadView): Sql {
  const { sourceType, param } = filter;
  const presentation = presentationOf(ctx, sourceType);
  const shownReference = presentation?.hiddenParameters.has(param.code) ? sql`(${presentation.partial}) IS NOT TRUE` : sql`TRUE`;
  // The outer `rv` (the candidate match) is named before the subquery, whose own `rv` is the source version.
  return sql`rv.id IN (
    SELECT has_link.target_id FROM resource_version rv JOIN search_reference has_link ON has_link.vid = rv.vid
    WHERE has_link.code = ${param.code} AND has_link.target_type = ${resourceType} AND ${linkedVersion(ctx, sourceType, view)}
      AND ${shownReference} AND ${shownFilterCondition(ctx, sourceType, filter.filter, view)})`;
}

/** `rv` is a live version of `resourceType`, current in `view`, that the caller may see (as a search match would be). */
function linkedVersion(ctx: StoreContext, resourceType: string, view: ReadView): Sql {
  return sql`rv.resource_type = ${resourceType} AND NOT rv.deleted AND ${versionCurrentIn(view)} AND ${liveVisibleIn(ctx, resourceType, view)}`;
}

/**
 * 403 unless the caller may search every type a chain or `_has` of `request` goes through. A chain that names no type
 * follows only the target types the caller may search (as an `_include` without a type does), and is refused when
 * there are none.
 */
export function assertLinksSearchable(ctx: StoreContext, request: SearchRequest): SearchRequest {
  return { ...request, filters: request.filters.map((f) => searchableLinks(ctx, f)) };
}

function searchableLinks(ctx: StoreContext, filter: SearchFilter): SearchFilter {
  switch (filter.kind) {
    case 'chain': {
      let refusal: unknown;
      const targets = filter.targets.flatMap((target) => {
        try {
          ctx.policy.assertInteraction('search', target.resourceType);
          return [{ ...target, filter: searchableLinks(ctx, target.filter) }];
        } catch (err) {
          if (!(err instanceof OperationOutcomeError)) {
            throw err;
          }
          refusal ??= err;
          return [];
        }
      });
      if (targets.length === 0) {
        throw refusal;
      }
      return { ...filter, targets };
    }
    case 'has':
      ctx.policy.assertInteraction('search', filter.sourceType);
      return { ...filter, filter: searchableLinks(ctx, filter.filter) };
    default:
      return filter;
  }
}

/**
 * `request` with every reference value naming a resource the caller may not see marked so it matches nothing
 * (withheld-references.ts), in chained and `_has` filters too, each judged as a search of its own type.
 */
export async function withHiddenTargetsLeftOutOfLinks(ctx: StoreContext, q: Queryable, request: SearchRequest): Promise<SearchRequest> {
  const shown = await withHiddenTargetsLeftOut(ctx, q, request);
  const filters: SearchFilter[] = [];
  for (const filter of shown.filters) {
    filters.push(await linkedTargetsLeftOut(ctx, q, request, filter));
  }
  return { ...shown, filters };
}

async function linkedTargetsLeftOut(ctx: StoreContext, q: Queryable, request: SearchRequest, filter: SearchFilter): Promise<SearchFilter> {
  const ofType = async (resourceType: string, inner: SearchFilter): Promise<SearchFilter> => {
    const judged = await withHiddenTargetsLeftOutOfLinks(ctx, q, { ...request, resourceType, filters: [inner] });
    return judged.filters[0] ?? inner;
  };
  switch (filter.kind) {
    case 'chain': {
      const targets: ChainTarget[] = [];
      for (const target of filter.targets) {
        targets.push({ ...target, filter: await ofType(target.resourceType, target.filter) });
      }
      return { ...filter, targets };
    }
    case 'has':
      return { ...filter, filter: await ofType(filter.sourceType, filter.filter) };
    default:
      return filter;
  }
}
