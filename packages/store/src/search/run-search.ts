/**
 * Runs a search: the matches of one page in sort order, the total, the includes and the paging tokens. Page 1 reads
 * current rows inside one REPEATABLE READ transaction and records its snapshot; later pages (`_page` token) read "as
 * of" that snapshot. The caller's visibility is part of the WHERE clause, before counting and paging; on a later page it
 * covers the resource's current version too, so a snapshot never serves what the caller may no longer see.
 */
import { badRequest, OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../database';
import { CURRENT_VIEW, versionCurrentIn, type ReadView } from '../read-view';
import type { SearchOutcome } from '../repository';
import { assertSortShown, partialColumn, shownVersion } from '../presentation';
import { join, sql, type Sql } from '../sql';
import { inConsistentRead, liveVisibleIn, queryable, type StoreContext } from '../store-context';
import { loadIncluded } from './includes';
import { decodePageToken, encodePageToken, type PageToken, type PageTokenBinding } from './page-token';
import { assertLinksSearchable, shownFilterCondition, withHiddenTargetsLeftOutOfLinks } from './chained-search';
import { orderBy } from './search-query';
import { parseSearchRequest, type SearchRequest } from './search-request';

/** Parses and runs a search of `resourceType` for the context's caller. */
export async function runSearch(ctx: StoreContext, resourceType: string, params: URLSearchParams): Promise<SearchOutcome> {
  const request = assertLinksSearchable(ctx, parseSearchRequest(resourceType, params));
  assertSortShown(ctx, resourceType, request.sort);
  const binding = pageTokenBinding(ctx, `search:${resourceType}`, params);
  if (request.page !== undefined) {
    const page = decodePageToken(request.page, binding, ctx.now());
    const view: ReadView = { kind: 'snapshot', snapshot: page.snapshot };
    return searchPage(ctx, queryable(ctx), request, view, binding, page);
  }
  return inConsistentRead(ctx, async (q) => {
    // No snapshot yet: the one later pages read as of comes with this page's rows (searchPage).
    const first: PageToken = { snapshot: '', offset: 0, count: request.count, issuedAt: unixSeconds(ctx.now()) };
    return searchPage(ctx, q, request, CURRENT_VIEW, binding, first);
  });
}

/** What the `_page` tokens of a search or history are bound to: this caller, this search, the store's key. */
export function pageTokenBinding(ctx: StoreContext, scope: string, params: URLSearchParams): PageTokenBinding {
  return { key: ctx.pageTokenKey, principal: ctx.principal, scope, params };
}

/** `date` in whole Unix seconds. */
export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * The WHERE condition of a search: type, live version in `view`, visibility (on a later page, of the resource's current
 * version too), filters (each judged on what the caller is shown of the version; chains and `_has` through what it may
 * see, chained-search.ts).
 */
export function searchCondition(ctx: StoreContext, request: SearchRequest, view: ReadView): Sql {
  return join(
    [
      sql`rv.resource_type = ${request.resourceType}`,
      sql`NOT rv.deleted`,
      versionCurrentIn(view),
      liveVisibleIn(ctx, request.resourceType, view),
      ...request.filters.map((f) => shownFilterCondition(ctx, request.resourceType, f, view)),
    ],
    ' AND ',
  );
}

async function searchPage(
  ctx: StoreContext,
  q: Queryable,
  request: SearchRequest,
  view: ReadView,
  binding: PageTokenBinding,
  page: PageToken,
): Promise<SearchOutcome> {
  const { offset, count } = page;
  const where = searchCondition(ctx, await withHiddenTargetsLeftOutOfLinks(ctx, q, request), view);
  const outcome: SearchOutcome = { matches: [], included: [] };
  const countAll = async (): Promise<number> => {
    const { rows } = await q.query<{ total: number }>(sql`SELECT count(*)::int AS total FROM resource_version rv WHERE ${where}`);
    return rows[0]!.total;
  };
  if (count === 0) {
    if (request.total !== 'none') {
      outcome.total = await countAll();
    }
    return outcome;
  }
  // Page 1 reads the snapshot later pages are bound to in the same statement as its rows (the transaction's).
  const snapshotColumn = page.snapshot === '' ? sql`, pg_current_snapshot()::text AS snapshot` : sql``;
  const { rows } = await q.query<{ vid: number | string; id: string; content: Resource; partial: boolean; snapshot?: string }>(sql`
    SELECT rv.vid, rv.id, rv.content, ${partialColumn(ctx, request.resourceType)}${snapshotColumn} FROM resource_version rv WHERE ${where}
    ORDER BY ${orderBy(request.sort)} LIMIT ${count + 1} OFFSET ${offset}`);
  const more = rows.length > count;
  if (request.total !== 'none') {
    // With no page after this one, the matches up to here are all there are, in the same snapshot: counting them
    // again would cost as much as the page itself. Only a search with more pages counts (or one that paged past the end).
    outcome.total = more || (rows.length === 0 && offset > 0) ? await countAll() : offset + rows.length;
  }
  const pageRows = rows.slice(0, count).map((r) => ({
    vid: Number(r.vid),
    resourceType: request.resourceType,
    id: r.id,
    partial: r.partial,
    resource: shownVersion(ctx, r.content, r.partial),
  }));
  outcome.matches = pageRows.map((r) => r.resource);
  outcome.included = await loadIncluded(ctx, q, view, pageRows, request.include, request.revinclude);
  // Only a page with rows links on: page 1's rows carry its snapshot, a later page's token has it.
  const snapshot = page.snapshot || (rows[0]?.snapshot ?? '');
  if (more) {
    outcome.next = encodePageToken({ ...page, snapshot, offset: offset + count }, binding);
  }
  if (offset > 0) {
    outcome.previous = encodePageToken({ ...page, snapshot, offset: Math.max(0, offset - count) }, binding);
  }
  return outcome;
}

/** Parses a conditional-create query (`identifier=sys|val`) as a search of `resourceType`; 400 without criteria. */
export function parseConditionalSearch(resourceType: string, query: string): SearchRequest {
  const request = parseSearchRequest(resourceType, new URLSearchParams(query));
  if (request.filters.length === 0) {
    throw conditionalWithoutCriteria();
  }
  return request;
}

/**
 * The resources matching a conditional-create search, at most `limit`, read in `q` (the write transaction) under the
 * caller's visibility. This is a search: the caller must hold the search interaction (the repository checks it) and
 * what it returns is disclosed like a search's matches.
 */
export async function findConditionalMatches(ctx: StoreContext, q: Queryable, request: SearchRequest, limit: number): Promise<Resource[]> {
  const shown = await withHiddenTargetsLeftOutOfLinks(ctx, q, assertLinksSearchable(ctx, request));
  const { rows } = await q.query<{ content: Resource; partial: boolean }>(sql`
    SELECT rv.content, ${partialColumn(ctx, request.resourceType)} FROM resource_version rv
    WHERE ${searchCondition(ctx, shown, CURRENT_VIEW)}
    ORDER BY rv.id LIMIT ${limit}`);
  return rows.map((r) => shownVersion(ctx, r.content, r.partial));
}

function conditionalWithoutCriteria(): Error {
  return new OperationOutcomeError(badRequest('If-None-Exist needs at least one search parameter'));
}
