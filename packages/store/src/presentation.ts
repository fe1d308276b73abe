/**
 * Applies the policy's {@link Presentation} (a caller's view of versions it may see only in part) where resources leave
 * the store and where searches judge them. Every read path selects the `partial` flag next to the content with
 * {@link partialColumn} (or {@link partialColumnByType} for history, which spans types) and hands rows out through
 * {@link shownVersion}; search filters go through {@link shownFilter}, so a version shown in part is found only by what
 * is shown of it. Nothing here writes: a version shown in part is a fresh object, never what is stored.
 */
import { forbidden, OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Presentation } from './access-policy';
import { handedOutWhole } from './compartments';
import type { SearchFilter, SortRule } from './search/search-request';
import { join, sql, type Sql } from './sql';
import type { StoreContext } from './store-context';

/** The policy's presentation of `resourceType`, if it shows some of its versions in part. */
export function presentationOf(ctx: StoreContext, resourceType: string): Presentation | undefined {
  return ctx.policy.presentation?.(resourceType);
}

/** A select-list item `partial`: true when the row `rv` (a version of `resourceType`) is shown in part. */
export function partialColumn(ctx: StoreContext, resourceType: string): Sql {
  const presentation = presentationOf(ctx, resourceType);
  return presentation ? sql`((${presentation.partial}) IS TRUE) AS partial` : sql`FALSE AS partial`;
}

/** {@link partialColumn} for rows of any of `resourceTypes` (history). */
export function partialColumnByType(ctx: StoreContext, resourceTypes: readonly string[]): Sql {
  const cases = resourceTypes.flatMap((type) => {
    const presentation = presentationOf(ctx, type);
    return presentation ? [sql`WHEN rv.resource_type = ${type} THEN (${presentation.partial}) IS TRUE`] : [];
  });
  return cases.length > 0 ? sql`(CASE ${join(cases, ' ')} ELSE FALSE END) AS partial` : sql`FALSE AS partial`;
}

/**
 * The stored `content` as the caller is shown it. Shown whole, it is handed out as stored, noted with the
 * `compartments` stored with it when the statement read them (compartments.ts, handedOutWhole).
 */
export function shownVersion<T extends Resource>(
  ctx: StoreContext,
  content: T,
  partial: boolean | null | undefined,
  compartments?: readonly string[],
): T {
  if (!partial) {
    return handedOutWhole(content, compartments);
  }
  const presentation = presentationOf(ctx, content.resourceType);
  // The flag comes from the same policy: a row flagged partial without a presentation cannot happen; fail closed.
  if (!presentation) {
    throw new Error(`A ${content.resourceType} version is flagged as shown in part, but the policy has no presentation for it`);
  }
  return presentation.present(content) as T;
}

/**
 * The condition of `filter` over `rv` (a version of `resourceType`) as the caller sees it: `stored` (the filter on the
 * stored version) unless the version is shown in part and the filter's parameter is one its view leaves out or
 * narrows; then what the presentation says the shown version meets.
 */
export function shownFilter(ctx: StoreContext, resourceType: string, filter: SearchFilter, stored: Sql): Sql {
  const presentation = presentationOf(ctx, resourceType);
  if (!presentation?.hiddenParameters.has(filter.param.code)) {
    return stored;
  }
  return sql`(CASE WHEN (${presentation.partial}) IS TRUE THEN (${presentation.filterShown(filter)}) ELSE (${stored}) END)`;
}

/**
 * 403 for a sort by a parameter some versions of `resourceType` are shown without: their order would tell what is
 * not shown.
 */
export function assertSortShown(ctx: StoreContext, resourceType: string, sort: readonly SortRule[]): void {
  const presentation = presentationOf(ctx, resourceType);
  if (presentation && sort.some((rule) => presentation.hiddenParameters.has(rule.param.code))) {
    throw refusedForWhatIsNotShown('_sort');
  }
}

/** 403 naming `parameter`: a search through what the caller is not shown. */
export function refusedForWhatIsNotShown(parameter: string): OperationOutcomeError {
  return new OperationOutcomeError({
    ...forbidden,
    issue: [
      {
        severity: 'error',
        code: 'forbidden',
        details: { text: `${parameter} may not go through what some of these resources are shown without` },
        expression: [parameter],
      },
    ],
  });
}

/**
 * 403 for an update, patch or delete of a version the caller is shown only in part: it is not the caller's to change,
 * and anything run on the stored version for it (If-Match, the patch, validation) would tell it what it is not shown.
 */
export function refusedAsShownInPart(resourceType: string): OperationOutcomeError {
  return new OperationOutcomeError({
    ...forbidden,
    issue: [
      {
        severity: 'error',
        code: 'forbidden',
        details: { text: `This ${resourceType} is shown to the caller only in part; it may not change it` },
      },
    ],
  });
}
