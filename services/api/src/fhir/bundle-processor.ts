/**
 * Batch and transaction Bundles POSTed to the FHIR base.
 *
 * - A batch runs each entry on its own; each entry's response carries its status or an OperationOutcome, a server
 *   fault included (a 500 outcome for that entry, logged with the request id): entries already written stay written, so
 *   the caller must learn what happened to each one.
 * - A transaction runs every entry in one database transaction, in FHIR's order (DELETE, POST, PUT/PATCH, GET), with
 *   `urn:uuid:` fullUrls of created resources replaced by their new ids wherever they are referenced, and conditional
 *   references (`Type?query`) replaced by the one resource the caller's search finds (none or several: 412). Entries
 *   may not change the same resource twice, nor reference a `urn:uuid:` no entry creates (400). Any failure rolls the
 *   whole transaction back and answers that entry's error.
 * - fullUrls are unique in either (bdl-7); a POST entry's fullUrl is a `urn:uuid:` or the absolute URL of a resource, and
 *   only a `urn:uuid:` one decides the created resource's id. A batch takes no conditional references (they are a
 *   transaction's).
 * Every entry's `request` is checked (zod) before anything runs: a malformed entry is a 400 naming it. A query in
 * `request.url` or `ifNoneExist` (or a conditional reference) that is not UTF-8 once its escapes are decoded is a 400
 * as the request's own query would be: that entry's answer in a batch, the whole transaction's otherwise.
 * Every entry goes through {@link handleFhirInteraction} with the caller's repository, so scopes and access rules apply
 * to each one exactly as to a single request. The request's `Prefer: return=` applies to every write entry (POST, PUT,
 * PATCH): `minimal` answers it without its resource, `OperationOutcome` with an outcome in `response.outcome`; a GET
 * entry is a read and always carries what it read.
 */
import { randomUUID } from 'node:crypto';
import { tryGetRequestContext } from '@carecircle/auth';
import type { WorkflowSettings } from '@carecircle/care';
import { badRequest, exceedsJsonDepth, fail, MAX_JSON_DEPTH, OperationOutcomeError, payloadTooLarge, referenceStrings } from '@carecircle/fhir';
import type { Logger } from '@carecircle/log';
import type { Repository } from '@carecircle/store';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import { errorToOutcome, logUnexpectedError } from '../http/error-handler';
import { isUtf8QueryText } from '../http/strict-text';
import type { InteractionContext } from './fhir-interaction';
import { handleFhirInteraction } from './fhir-routes';
import type { FhirMethod, FhirRequest, FhirResponse } from './fhir-request';

/** Most entries one Bundle may carry; larger ones answer 413. */
export const MAX_BUNDLE_ENTRIES = 1000;

/** Longest `request.url` / `ifNoneExist` accepted: what a search could need, far below any body limit. */
const MAX_URL_LENGTH = 8192;
const HEADER_VALUE = z.string().min(1).max(256);

/** Bundle.entry.request as this server reads it; other elements (id, extension) are allowed and ignored. */
const entryRequestSchema = z.looseObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  url: z.string().min(1).max(MAX_URL_LENGTH),
  ifMatch: HEADER_VALUE.optional(),
  ifNoneMatch: HEADER_VALUE.optional(),
  ifModifiedSince: HEADER_VALUE.optional(),
  ifNoneExist: z.string().min(1).max(MAX_URL_LENGTH).optional(),
});

const entrySchema = z.looseObject({
  fullUrl: z.string().min(1).max(MAX_URL_LENGTH).optional(),
  request: entryRequestSchema,
  resource: z.looseObject({ resourceType: z.string() }).optional(),
});
/** FHIR's processing order for transactions (http.html#trules). */
const TRANSACTION_ORDER: Record<FhirMethod, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3 };
const REASON_PHRASES: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified' };
const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A conditional reference: `Type?search` (http.html#trules). */
const CONDITIONAL_REFERENCE = /^([A-Z][A-Za-z]{0,63})\?(.+)$/s;
/** The absolute URL of a resource (`http(s)://.../Type/id`, optionally a version): a fullUrl that names no new id. */
const RESOURCE_URL = /^https?:\/\/[^\s?#]+\/[A-Z][A-Za-z]{0,63}\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
/** Parameters that shape the answer, never which resource a conditional URL names (ignored when comparing URLs). */
const RESULT_SHAPING_PARAMETERS = new Set([
  '_format',
  '_pretty',
  '_count',
  '_sort',
  '_summary',
  '_elements',
  '_include',
  '_revinclude',
  '_total',
  '_contained',
  '_containedType',
]);

interface ParsedEntry {
  index: number;
  request: FhirRequest;
  fullUrl?: string;
  /** Why the entry cannot run (its query text is not UTF-8): a batch answers it in the entry, a transaction fails. */
  refusal?: OperationOutcomeError;
}

/**
 * Processes a batch or transaction Bundle with the caller's repository. `logger` records server faults of batch
 * entries (with the request id), which are answered in the entry rather than thrown.
 */
export async function processBundle(
  body: unknown,
  repository: Repository,
  baseUrl: string,
  workflows: WorkflowSettings,
  logger: Logger,
  preferReturn?: FhirRequest['preferReturn'],
): Promise<Bundle> {
  const bundle = parseBundle(body);
  const entries = (bundle.entry ?? []).map((entry: unknown, index) => parseEntry(entry, index, baseUrl, preferReturn));
  assertUniqueFullUrls(entries);
  return bundle.type === 'transaction'
    ? processTransaction(entries, repository, baseUrl, workflows)
    : processBatch(entries, repository, baseUrl, workflows, logger);
}

function parseBundle(body: unknown): Bundle & { type: 'batch' | 'transaction' } {
  if (!body || typeof body !== 'object' || (body as Resource).resourceType !== 'Bundle') {
    fail(badRequest('POST to the FHIR base takes a Bundle of type batch or transaction'));
  }
  const bundle = body as Bundle;
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    fail(badRequest('Bundle.type must be batch or transaction', 'Bundle.type'));
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) {
    fail(badRequest('Bundle.entry must be an array', 'Bundle.entry'));
  }
  if ((bundle.entry?.length ?? 0) > MAX_BUNDLE_ENTRIES) {
    fail(payloadTooLarge(`A Bundle may carry at most ${MAX_BUNDLE_ENTRIES} entries`));
  }
  return bundle as Bundle & { type: 'batch' | 'transaction' };
}

function parseEntry(value: unknown, index: number, baseUrl: string, preferReturn: FhirRequest['preferReturn']): ParsedEntry {
  const where = `Bundle.entry[${index}]`;
  const parsed = entrySchema.safeParse(value);
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    const element = problem && problem.path.length > 0 ? `${where}.${problem.path.join('.')}` : where;
    fail(
      badRequest(
        'Each entry needs request.method (GET, POST, PUT, PATCH, DELETE) and request.url, and its other request ' +
          'elements (ifMatch, ifNoneMatch, ifNoneExist, ifModifiedSince) must be strings',
        element,
      ),
    );
  }
  const entry = parsed.data;
  const request = entry.request;
  if (request.method === 'POST' && entry.fullUrl !== undefined && !URN_UUID.test(entry.fullUrl) && !RESOURCE_URL.test(entry.fullUrl)) {
    fail(badRequest('The fullUrl of a POST entry is a urn:uuid: or the absolute URL of a resource', `${where}.fullUrl`));
  }
  const url = relativeUrl(request.url, baseUrl, where);
  const [path = '', queryString = ''] = url.split('?', 2);
  const method: FhirMethod = request.method;
  let body: unknown = entry.resource;
  if (method === 'PATCH') {
    body = binaryPatch(entry.resource as Resource | undefined, where);
  }
  const refusal = !isUtf8QueryText(queryString)
    ? notUtf8(`${where}.request.url`)
    : request.ifNoneExist !== undefined && !isUtf8QueryText(request.ifNoneExist)
      ? notUtf8(`${where}.request.ifNoneExist`)
      : undefined;
  return {
    index,
    fullUrl: entry.fullUrl,
    ...(refusal ? { refusal } : {}),
    request: {
      method,
      path,
      query: new URLSearchParams(queryString),
      body,
      ...(request.ifMatch ? { ifMatch: request.ifMatch } : {}),
      ...(request.ifNoneExist ? { ifNoneExist: request.ifNoneExist } : {}),
      ...(request.ifNoneMatch ? { ifNoneMatch: request.ifNoneMatch } : {}),
      ...(preferReturn && method !== 'GET' ? { preferReturn } : {}),
      ...(request.ifModifiedSince ? { ifModifiedSince: request.ifModifiedSince } : {}),
    },
  };
}

function notUtf8(expression: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest('The query is not valid UTF-8 once its %XX escapes are decoded', expression));
}

function relativeUrl(url: string, baseUrl: string, where: string): string {
  if (url.startsWith(`${baseUrl}/`)) {
    return url.slice(baseUrl.length + 1);
  }
  if (/^[a-z]+:/i.test(url) || url.startsWith('/') || url.includes('..')) {
    fail(badRequest('request.url must be relative to the FHIR base', `${where}.request.url`));
  }
  return url;
}

/** A PATCH entry carries its JSON Patch as a Binary resource with base64 data (FHIR R4 http.html#patch). */
function binaryPatch(resource: Resource | undefined, where: string): unknown {
  if (resource?.resourceType !== 'Binary' || resource.contentType !== 'application/json-patch+json' || !resource.data) {
    fail(badRequest('A PATCH entry carries a Binary with contentType application/json-patch+json', `${where}.resource`));
  }
  let operations: unknown;
  try {
    operations = JSON.parse(Buffer.from(resource.data, 'base64').toString('utf8')) as unknown;
  } catch {
    return fail(badRequest('The PATCH entry Binary is not valid JSON', `${where}.resource.data`));
  }
  if (exceedsJsonDepth(operations)) {
    fail(badRequest(`The PATCH entry Binary may nest at most ${MAX_JSON_DEPTH} levels deep`, `${where}.resource.data`));
  }
  return operations;
}

async function processBatch(
  entries: ParsedEntry[],
  repository: Repository,
  baseUrl: string,
  workflows: WorkflowSettings,
  logger: Logger,
): Promise<Bundle> {
  const context: InteractionContext = { repository, baseUrl, workflows };
  const responses: BundleEntry[] = [];
  // Sequential: entries of a batch are independent, and one caller should not fan out into the pool.
  for (const entry of entries) {
    try {
      if (entry.refusal) {
        throw entry.refusal;
      }
      const conditional = referenceStrings(entry.request.body).find((reference) => CONDITIONAL_REFERENCE.test(reference));
      if (conditional !== undefined) {
        fail(badRequest('Conditional references are resolved in transactions only', `Bundle.entry[${entry.index}].resource`));
      }
      responses.push(toResponseEntry(await handleFhirInteraction(entry.request, context), baseUrl));
    } catch (err) {
      responses.push(errorEntry(err, entry.index, logger));
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: responses };
}

async function processTransaction(
  entries: ParsedEntry[],
  repository: Repository,
  baseUrl: string,
  workflows: WorkflowSettings,
): Promise<Bundle> {
  const ordered = [...entries].sort(
    (a, b) => TRANSACTION_ORDER[a.request.method] - TRANSACTION_ORDER[b.request.method] || a.index - b.index,
  );
  const refused = entries.find((entry) => entry.refusal);
  if (refused?.refusal) {
    throw refused.refusal;
  }
  assertNoOverlap(entries);
  const responses = new Array<BundleEntry>(entries.length);
  await repository.transaction(async (txRepository) => {
    const context: InteractionContext = { repository: txRepository, baseUrl, workflows };
    // Kept apart: only a urn:uuid: fullUrl gives a created resource its id; a resolved conditional reference is only
    // ever a reference (a fullUrl spelled like one must not hand an existing resource's id to a new one).
    const created = await assignIds(entries, txRepository);
    const resolved = await resolveConditionalReferences(entries, txRepository);
    const assigned = new Map([...resolved, ...created]);
    for (const entry of entries) {
      entry.request.body = replaceReferences(entry.request.body, assigned);
      const dangling = referenceStrings(entry.request.body).find((reference) => reference.startsWith('urn:uuid:'));
      if (dangling !== undefined) {
        fail(badRequest(`${dangling} is not the fullUrl of a resource this transaction creates`, `Bundle.entry[${entry.index}].resource`));
      }
      entry.request.query = new URLSearchParams(
        [...entry.request.query].map(([name, value]): [string, string] => [name, assigned.get(value) ?? value]),
      );
    }
    for (const entry of ordered) {
      try {
        const response = await handleFhirInteraction(withAssignedId(entry, created), context);
        responses[entry.index] = toResponseEntry(response, baseUrl);
      } catch (err) {
        throw locate(err, entry.index);
      }
    }
  });
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}

/**
 * Decides, before anything is written, the reference every `urn:uuid:` POST entry will have: a conditional create
 * that matches one existing resource resolves to it; every other create gets a new id now.
 */
async function assignIds(entries: ParsedEntry[], repository: Repository): Promise<Map<string, string>> {
  const assigned = new Map<string, string>();
  for (const entry of entries) {
    if (entry.fullUrl === undefined || entry.request.method !== 'POST' || !URN_UUID.test(entry.fullUrl)) {
      continue;
    }
    const resourceType = entry.request.path.split('/')[0] ?? '';
    let id: string = randomUUID();
    if (entry.request.ifNoneExist !== undefined) {
      const { matches } = await repository.search(resourceType, new URLSearchParams(entry.request.ifNoneExist));
      if (matches.length === 1 && matches[0]?.id) {
        id = matches[0].id;
      }
    }
    assigned.set(entry.fullUrl, `${resourceType}/${id}`);
  }
  return assigned;
}

/**
 * Resolves every distinct conditional reference in the entries' resources with the caller's own search (so it finds
 * only what the caller may see, and is audited like any search): exactly one match becomes `Type/id`; none or several
 * fail the transaction with 412 at the first entry using it.
 */
async function resolveConditionalReferences(entries: ParsedEntry[], repository: Repository): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  const firstUse = new Map<string, number>();
  for (const entry of entries) {
    for (const reference of referenceStrings(entry.request.body)) {
      if (CONDITIONAL_REFERENCE.test(reference) && !firstUse.has(reference)) {
        firstUse.set(reference, entry.index);
      }
    }
  }
  for (const [reference, index] of firstUse) {
    const [, resourceType = '', query = ''] = CONDITIONAL_REFERENCE.exec(reference) ?? [];
    if (!isUtf8QueryText(query)) {
      throw notUtf8(`Bundle.entry[${index}].resource`);
    }
    const params = new URLSearchParams(query);
    params.set('_count', '2');
    let matches: Resource[];
    try {
      ({ matches } = await repository.search(resourceType, params));
    } catch (err) {
      throw locate(err, index);
    }
    if (matches.length !== 1 || !matches[0]?.id) {
      const found = matches.length === 0 ? 'no resource' : 'more than one resource';
      throw new OperationOutcomeError(
        locateOutcome(
          {
            resourceType: 'OperationOutcome',
            id: 'precondition-failed',
            issue: [{ severity: 'error', code: 'processing', details: { text: `A conditional reference matched ${found}` } }],
          },
          index,
        ),
      );
    }
    resolved.set(reference, `${resourceType}/${matches[0].id}`);
  }
  return resolved;
}

/** bdl-7: a fullUrl names one entry of a Bundle. */
function assertUniqueFullUrls(entries: ParsedEntry[]): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry.fullUrl === undefined) {
      continue;
    }
    if (seen.has(entry.fullUrl)) {
      fail(badRequest('Duplicate fullUrl in Bundle', `Bundle.entry[${entry.index}].fullUrl`));
    }
    seen.add(entry.fullUrl);
  }
}

/**
 * http.html#trules: the resources a transaction's DELETE, PUT and PATCH entries change must not overlap. URLs are
 * compared as {@link handleFhirInteraction} reads them: empty path segments and `_format`/`_pretty` ignored. Instance
 * URLs are compared by type and id, conditional ones by type and their (sorted) search without result-shaping
 * parameters.
 */
function assertNoOverlap(entries: ParsedEntry[]): void {
  const changedBy = new Map<string, number>();
  for (const entry of entries) {
    const { method } = entry.request;
    if (method === 'GET' || method === 'POST') {
      continue;
    }
    const identity = changedResourceIdentity(entry.request);
    const earlier = changedBy.get(identity);
    if (earlier !== undefined) {
      fail(badRequest(`Entries ${earlier} and ${entry.index} of the transaction change the same resource`, `Bundle.entry[${entry.index}].request.url`));
    }
    changedBy.set(identity, entry.index);
  }
}

/** What a DELETE, PUT or PATCH entry's URL names, spelled one way: `Type/id`, or `Type?sorted search`. */
function changedResourceIdentity(request: FhirRequest): string {
  const path = request.path
    .split('/')
    .filter((segment) => segment !== '')
    .join('/');
  const search = [...request.query]
    .filter(([name]) => !RESULT_SHAPING_PARAMETERS.has(name))
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return search.length === 0 ? path : `${path}?${new URLSearchParams(search).toString()}`;
}

/** A POST whose id was pre-assigned becomes a create with that id (still a create: 201, version 1). */
function withAssignedId(entry: ParsedEntry, created: Map<string, string>): FhirRequest {
  const reference = entry.fullUrl === undefined || !URN_UUID.test(entry.fullUrl) ? undefined : created.get(entry.fullUrl);
  if (entry.request.method !== 'POST' || reference === undefined) {
    return entry.request;
  }
  const id = reference.split('/')[1] ?? '';
  return { ...entry.request, assignedId: id } as FhirRequest;
}

/** Deep copy of `value` with every `reference` string that names a `urn:uuid:` fullUrl replaced by `Type/id`. */
function replaceReferences(value: unknown, assigned: Map<string, string>): unknown {
  if (assigned.size === 0 || value === null || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => replaceReferences(item, assigned));
  }
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    result[key] = key === 'reference' && typeof child === 'string' ? (assigned.get(child) ?? child) : replaceReferences(child, assigned);
  }
  return result;
}

function toResponseEntry(response: FhirResponse, baseUrl: string): BundleEntry {
  const phrase = REASON_PHRASES[response.status];
  const version = response.version;
  // Prefer: return=OperationOutcome answers a write entry with an outcome, which a Bundle carries in the response.
  const outcome = response.resource?.resourceType === 'OperationOutcome' && response.status < 300 ? response.resource : undefined;
  return {
    ...(version ? { fullUrl: `${baseUrl}/${version.resourceType}/${version.id}` } : {}),
    ...(response.resource && !outcome ? { resource: response.resource } : {}),
    response: {
      status: phrase ? `${response.status} ${phrase}` : String(response.status),
      ...(version && (response.status === 201 || response.location)
        ? { location: `${version.resourceType}/${version.id}/_history/${version.versionId}` }
        : {}),
      ...(version ? { etag: `W/"${version.versionId}"`, lastModified: version.lastUpdated } : {}),
      ...(outcome ? { outcome } : {}),
    },
  };
}

/** A batch entry's failure, server faults included (logged with the request id: earlier entries stay committed). */
function errorEntry(err: unknown, index: number, logger: Logger): BundleEntry {
  const { status, body, unexpected, etag } = errorToOutcome(err);
  if (unexpected) {
    logUnexpectedError(logger, tryGetRequestContext()?.requestId ?? 'unknown', err, { batchEntry: index });
  }
  return { response: { status: String(status), outcome: locateOutcome(body, index), ...(etag ? { etag } : {}) } };
}

/**
 * A transaction entry's failure, located at its entry; server faults are rethrown as they are, for the error handler
 * to log and answer 500 (the whole transaction rolls back either way).
 */
function locate(err: unknown, index: number): unknown {
  const { body, unexpected } = errorToOutcome(err);
  return unexpected ? err : new OperationOutcomeError(locateOutcome(body, index));
}

/** The entry's OperationOutcome, with issues located at `Bundle.entry[i]` so the caller knows which entry failed. */
function locateOutcome(outcome: OperationOutcome, index: number): OperationOutcome {
  return {
    ...outcome,
    issue: outcome.issue.map((issue) => ({
      ...issue,
      expression: [...(issue.expression ?? []), `Bundle.entry[${index}]`],
    })),
  };
}
