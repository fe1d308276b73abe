/**
 * History: every version of one resource, of a type or of the whole system, newest first, deletions included. Paging
 * uses the same snapshot tokens as search (a later page lists only versions that existed when page 1 was read), and
 * the caller's visibility applies to every version row, and to the resource's current version as well: an older
 * version is shown only to a caller who may see both it and the current one, so a resource that became more sensitive
 * (relabelled, moved to another practice) takes its past with it. What the caller cannot see has no history.
 *
 * `_since` keeps the versions written at or after an instant; `_at` the versions that were current at some point of
 * the period a date covers (`_at=2024-05-01` is that whole day): written before its end, and not replaced by the next
 * version before its start. Both only narrow what the caller may see already.
 */
import { badRequest, notFound, OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { safeForMessage, SUPPORTED_RESOURCE_TYPES } from '@carecircle/fhir';
import type { Queryable } from './database';
import { CURRENT_VIEW, versionCreatedIn, type ReadView } from './read-view';
import type { HistoryEntry, HistoryOutcome } from './repository';
import { parseDateRange, timestamptz, type DateRange } from './search/date-range';
import { decodePageToken, encodePageToken, type PageToken, type PageTokenBinding } from './search/page-token';
import { pageTokenBinding, unixSeconds } from './search/run-search';
import { DEFAULT_COUNT, parseCount } from './search/search-request';
import { partialColumnByType, shownVersion } from './presentation';
import { join, sql, type Sql } from './sql';
import { inConsistentRead, queryable, visibleWithCurrent, type StoreContext } from './store-context';

interface HistoryRequest {
  count: number;
  /** Epoch milliseconds. */
  since: number | undefined;
  /** The period `_at` names. */
  at: DateRange | undefined;
  /** The `_page` token as given. */
  page: string | undefined;
}

/**
 * Reads history. `resourceTypes` are the types the caller may read history of (one for type and instance history);
 * instance history of a resource with no visible version answers 404.
 */
export async function runHistory(
  ctx: StoreContext,
  resourceTypes: readonly string[],
  id: string | undefined,
  params: URLSearchParams,
): Promise<HistoryOutcome> {
  const request = parseHistoryRequest(params);
  const scope = historyScope(ctx, resourceTypes, id);
  const binding = pageTokenBinding(ctx, `history:${resourceTypes.length === 1 ? resourceTypes[0] : '*'}/${id ?? '*'}`, params);
  if (request.page !== undefined) {
    const page = decodePageToken(request.page, binding, ctx.now());
    const q = queryable(ctx);
    await assertInstanceVisible(q, scope, id);
    return historyPage(ctx, q, resourceTypes, scope, request, { kind: 'snapshot', snapshot: page.snapshot }, binding, page);
  }
  return inConsistentRead(ctx, async (q) => {
    await assertInstanceVisible(q, scope, id);
    const { rows } = await q.query<{ snapshot: string }>(sql`SELECT pg_current_snapshot()::text AS snapshot`);
    const first: PageToken = { snapshot: rows[0]!.snapshot, offset: 0, count: request.count, issuedAt: unixSeconds(ctx.now()) };
    return historyPage(ctx, q, resourceTypes, scope, request, CURRENT_VIEW, binding, first);
  });
}

/** Which rows belong to this history, visibility included. */
function historyScope(ctx: StoreContext, resourceTypes: readonly string[], id: string | undefined): Sql {
  const unlimited: string[] = [];
  const limited: Sql[] = [];
  for (const type of resourceTypes) {
    const visibility = visibleWithCurrent(ctx, type);
    if (visibility) {
      limited.push(sql`(rv.resource_type = ${type} AND ${visibility})`);
    } else {
      unlimited.push(type);
    }
  }
  const byType = [...(unlimited.length > 0 ? [sql`rv.resource_type = ANY(${unlimited}::text[])`] : []), ...limited];
  const conditions = [sql`(${join(byType, ' OR ', 'FALSE')})`];
  if (id !== undefined) {
    conditions.push(sql`rv.id = ${id}`);
  }
  return join(conditions, ' AND ');
}

async function assertInstanceVisible(q: Queryable, scope: Sql, id: string | undefined): Promise<void> {
  if (id === undefined) {
    return;
  }
  const { rows } = await q.query<{ found: boolean }>(
    sql`SELECT EXISTS (SELECT 1 FROM resource_version rv WHERE ${scope}) AS found`,
  );
  if (!rows[0]?.found) {
    throw new OperationOutcomeError(notFound);
  }
}

async function historyPage(
  ctx: StoreContext,
  q: Queryable,
  resourceTypes: readonly string[],
  scope: Sql,
  request: HistoryRequest,
  view: ReadView,
  binding: PageTokenBinding,
  page: PageToken,
): Promise<HistoryOutcome> {
  const { offset, count } = page;
  const conditions = [scope, versionCreatedIn(view)];
  if (request.since !== undefined) {
    conditions.push(sql`rv.last_updated >= ${timestamptz(request.since)}::timestamptz`);
  }
  if (request.at !== undefined) {
    // Current during the period: written before it ends, and its successor (if any) written after it begins.
    conditions.push(sql`rv.last_updated < ${timestamptz(request.at.high)}::timestamptz AND NOT EXISTS (
      SELECT 1 FROM resource_version successor
      WHERE successor.resource_type = rv.resource_type AND successor.id = rv.id AND successor.version_id = rv.version_id + 1
        AND successor.last_updated <= ${timestamptz(request.at.low)}::timestamptz)`);
  }
  const where = join(conditions, ' AND ');
  const totalRows = await q.query<{ total: number }>(sql`SELECT count(*)::int AS total FROM resource_version rv WHERE ${where}`);
  const outcome: HistoryOutcome = { entries: [], total: totalRows.rows[0]!.total };
  if (count === 0) {
    return outcome;
  }
  const { rows } = await q.query<{
    resource_type: string;
    id: string;
    version_id: number;
    last_updated: Date | string;
    deleted: boolean;
    content: Resource | null;
    partial: boolean;
  }>(sql`
    SELECT rv.resource_type, rv.id, rv.version_id, rv.last_updated, rv.deleted, rv.content, ${partialColumnByType(ctx, resourceTypes)}
    FROM resource_version rv WHERE ${where}
    ORDER BY rv.last_updated DESC, rv.vid DESC LIMIT ${count + 1} OFFSET ${offset}`);
  outcome.entries = rows.slice(0, count).map((row): HistoryEntry => {
    const entry: HistoryEntry = {
      resourceType: row.resource_type,
      id: row.id,
      versionId: String(row.version_id),
      lastUpdated: new Date(row.last_updated).toISOString(),
      method: row.deleted ? 'DELETE' : row.version_id === 1 ? 'POST' : 'PUT',
    };
    if (row.content) {
      entry.resource = shownVersion(ctx, row.content, row.partial);
    }
    return entry;
  });
  if (rows.length > count) {
    outcome.next = encodePageToken({ ...page, offset: offset + count }, binding);
  }
  if (offset > 0) {
    outcome.previous = encodePageToken({ ...page, offset: Math.max(0, offset - count) }, binding);
  }
  return outcome;
}

function parseHistoryRequest(params: URLSearchParams): HistoryRequest {
  const request: HistoryRequest = { count: DEFAULT_COUNT, since: undefined, at: undefined, page: undefined };
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (seen.has(key)) {
      throw new OperationOutcomeError(badRequest(`Invalid history parameter ${safeForMessage(key)}: may appear only once`));
    }
    seen.add(key);
    switch (key) {
      case '_count':
        request.count = parseCount(value);
        break;
      case '_since': {
        const range = parseDateRange(value);
        if (!range) {
          throw new OperationOutcomeError(badRequest('Invalid history parameter _since: expected an instant', '_since'));
        }
        request.since = range.low;
        break;
      }
      case '_at': {
        const range = parseDateRange(value);
        if (!range) {
          throw new OperationOutcomeError(badRequest('Invalid history parameter _at: expected a date, dateTime or instant', '_at'));
        }
        request.at = range;
        break;
      }
      case '_page':
        request.page = value;
        break;
      case '_format':
      case '_pretty':
        break;
      default:
        throw new OperationOutcomeError(
          badRequest(`Unknown or unsupported history parameter: ${safeForMessage(key)}`, safeForMessage(key)),
        );
    }
  }
  return request;
}

/** Every resource type history can cover (system history). */
export const ALL_RESOURCE_TYPES: readonly string[] = SUPPORTED_RESOURCE_TYPES;
