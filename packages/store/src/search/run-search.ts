/**
 * Runs a search: the matches of one page in sort order, the total, the includes and the paging tokens. Page 1 reads
 * current rows inside one REPEATABLE READ transaction (with nothing else to read, in its one statement) and records
 * its snapshot; later pages (`_page` token) read "as of" that snapshot. The caller's visibility is part of the WHERE
 * clause, before counting and paging; on a later page it covers the resource's current version too, so a snapshot
 * never serves what the caller may no longer see.
 */
import { badRequest, OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../database';
import { CURRENT_VIEW, versionCurrentIn, type ReadView } from '../read-view';
import type { SearchOutcome } from '../repository';
import { assertSortShown, partialColumn, shownVersion } from '../presentation';
import { foundIn, hasRecorderColumns, recorderColumns, type FoundForRecord, type RecorderColumnValues } from '../recorder-columns';
import { compartmentList, parseCompartmentList } from '../compartments';
import { join, raw, sql, type Sql } from '../sql';
import { judgesNoTargets } from '../withheld-references';
import { inConsistentRead, liveVisibleIn, queryable, type StoreContext } from '../store-context';
import { loadIncluded } from './includes';
import { decodePageToken, encodePageToken, type PageToken, type PageTokenBinding } from './page-token';
import { assertLinksSearchable, shownFilterCondition, withHiddenTargetsLeftOutOfLinks } from './chained-search';
import { orderBy } from './search-query';
import { parseSearchRequest, type SearchRequest } from './search-request';

/** A search's outcome, with what the statement that read its page found for the disclosure record. */
export type RanSearch = SearchOutcome & { found: FoundForRecord };

/** Parses and runs a search of `resourceType` for the context's caller. */
export async function runSearch(ctx: StoreContext, resourceType: string, params: URLSearchParams): Promise<RanSearch> {
  const request = assertLinksSearchable(ctx, parseSearchRequest(resourceType, params));
  assertSortShown(ctx, resourceType, request.sort);
  const binding = pageTokenBinding(ctx, `search:${resourceType}`, params);
  if (request.page !== undefined) {
    const page = decodePageToken(request.page, binding, ctx.now());
    const view: ReadView = { kind: 'snapshot', snapshot: page.snapshot };
    return searchPage(ctx, queryable(ctx), request, view, binding, page);
  }
  // No snapshot yet: the one later pages read as of comes with this page's rows (searchPage).
  const first: PageToken = { snapshot: '', offset: 0, count: request.count, issuedAt: unixSeconds(ctx.now()) };
  if (!ctx.tx && isOneStatementSearch(request)) {
    // Nothing else to read with the page: its one statement is its own snapshot, and no transaction need wrap it.
    return searchPage(ctx, queryable(ctx), request, CURRENT_VIEW, binding, first, 'alone');
  }
  return inConsistentRead(ctx, (q) => searchPage(ctx, q, request, CURRENT_VIEW, binding, first));
}

/**
 * Whether page 1 of `request` is one statement: no includes to read beside the page, no filter through a link (chain,
 * `_has`: chained-search.ts), and no reference target whose hiding is looked up first (withheld-references.ts).
 */
function isOneStatementSearch(request: SearchRequest): boolean {
  return (
    request.include.length === 0 &&
    request.revinclude.length === 0 &&
    request.filters.every((f) => f.kind !== 'chain' && f.kind !== 'has') &&
    judgesNoTargets(request)
  );
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
  /** `alone`: page 1 read in no transaction, so a count cannot share its snapshot and reads as of it instead. */
  statement: 'alone' | 'in-snapshot' = 'in-snapshot',
): Promise<RanSearch> {
  const { offset, count } = page;
  const shown = await withHiddenTargetsLeftOutOfLinks(ctx, q, request);
  const where = searchCondition(ctx, shown, view);
  const outcome: SearchOutcome = { matches: [], included: [] };
  const countAll = (): Promise<number> => countIn(q, where);
  if (count === 0) {
    if (request.total !== 'none') {
      outcome.total = await countAll();
    }
    return { ...outcome, found: {} };
  }
  // Page 1 reads the snapshot later pages are bound to in the same statement as its rows (the transaction's).
  const snapshotColumn = page.snapshot === '' ? sql`, pg_current_snapshot()::text AS snapshot` : sql``;
  const pageQuery = sql`
    SELECT rv.vid, rv.id, rv.content, ${compartmentList(raw('rv'))} AS compartments, ${partialColumn(ctx, request.resourceType)}${snapshotColumn} FROM resource_version rv
    WHERE ${where} ORDER BY ${orderBy(request.sort)} LIMIT ${count + 1} OFFSET ${offset}`;
  const { rows } = await q.query<PageRow>(withRecorderColumns(ctx, pageQuery, request));
  const more = rows.length > count;
  if (request.total !== 'none') {
    // With no page after this one, the matches up to here are all there are, in the same snapshot: counting them
    // again would cost as much as the page itself. Only a search with more pages counts (or one that paged past the end).
    // Page 1 read without a transaction counts as of its own snapshot, under the condition later pages read with.
    const snapshot = rows[0]?.snapshot;
    outcome.total =
      more || (rows.length === 0 && offset > 0)
        ? statement === 'alone' && snapshot
          ? await countIn(q, searchCondition(ctx, shown, { kind: 'snapshot', snapshot }))
          : await countAll()
        : offset + rows.length;
  }
  const pageRows = rows.slice(0, count).map((r) => ({
    vid: Number(r.vid),
    resourceType: request.resourceType,
    id: r.id,
    partial: r.partial,
    resource: shownVersion(ctx, r.content, r.partial, parseCompartmentList(r.compartments)),
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
  // The first row carries the columns, asked for all the page's clients (withRecorderColumns).
  return { ...outcome, found: foundIn(rows[0]) };
}

interface PageRow extends RecorderColumnValues {
  vid: number | string;
  id: string;
  content: Resource;
  /** compartments.ts's compartmentList. */
  compartments: string;
  partial: boolean;
  snapshot?: string;
}

async function countIn(q: Queryable, where: Sql): Promise<number> {
  const { rows } = await q.query<{ total: number }>(sql`SELECT count(*)::int AS total FROM resource_version rv WHERE ${where}`);
  return rows[0]?.total ?? 0;
}

/**
 * `pageQuery` (rows in page order, with `compartments` as a compartmentList), with the recorder's columns asked once for the clients of all
 * its rows, not per row: which are the caller's own, and the grants in force of them. The first row carries both. Not
 * with includes: what they add is in no page row, and the recorder asks for it.
 */
function withRecorderColumns(ctx: StoreContext, pageQuery: Sql, request: SearchRequest): Sql {
  const { recorder } = ctx.policy;
  if (!hasRecorderColumns(recorder) || request.include.length > 0 || request.revinclude.length > 0) {
    return pageQuery;
  }
  // The columns are expressions over `rv.compartments`: here `rv` is one row holding every client of the page. Only
  // the first row carries them (runSearch reads them there): twenty copies of a page's clients as text arrays had
  // cost the API more to parse (node-postgres parses arrays a character at a time) than the rest of the search.
  const overThePage = (column: Sql): Sql =>
    sql`CASE WHEN page.position = 1 THEN (SELECT ${column}
      FROM (SELECT ARRAY(SELECT DISTINCT c FROM page, unnest(string_to_array(page.compartments, ' ')) AS c) AS compartments) rv) END`;
  return sql`WITH page AS MATERIALIZED (SELECT q.*, row_number() OVER () AS position FROM (${pageQuery}) q)
    SELECT page.*${recorderColumns(recorder, overThePage)} FROM page ORDER BY page.position`;
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
