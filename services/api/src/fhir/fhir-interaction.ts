/**
 * The handlers of the FHIR REST interactions (read, vread, create, update, patch, delete, search, history, conditional
 * update and delete, batch/transaction) over the caller's repository; fhir-routes.ts declares which route runs which.
 * Used for HTTP requests and for each entry of a batch or transaction, so both behave identically. `_summary` and
 * `_elements` views are made here, from what the repository handed out.
 *
 * Conditional update and delete (`PUT|DELETE Type?criteria`) judge their criteria with the caller's own search, so a
 * resource the caller may not see is no match: an update then creates (as a POST of the body would, with its scope,
 * rules and workflows, under a new id), a delete does nothing (204). Either answer is the one an absent resource gets,
 * so neither tells hidden from absent.
 */
import {
  APPEND_ONLY_RESOURCE_TYPES,
  assertValidId,
  badRequest,
  fail,
  methodNotAllowed,
  OperationOutcomeError,
  parseSubsetting,
  subsetResource,
  VersionMismatchError,
  type Subsetting,
} from '@carecircle/fhir';
import { writeThroughWorkflows, type WorkflowSettings } from '@carecircle/care';
import type { PatchOperation, Repository } from '@carecircle/store';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { buildHistoryBundle, buildSearchBundle } from './bundles';
import { isNotModified } from '../http/conditional-read';
import { parseETag, type FhirRequest, type FhirResponse } from './fhir-request';
import type { OperationContext } from './operations/operation-context';

/** Parameters of a conditional URL that shape an answer and never choose the resource (left out of its criteria). */
const RESULT_SHAPING_PARAMETERS = new Set([
  '_count',
  '_sort',
  '_summary',
  '_elements',
  '_include',
  '_include:iterate',
  '_revinclude',
  '_revinclude:iterate',
  '_total',
  '_page',
]);

export interface InteractionContext {
  repository: Repository;
  /** FHIR base URL for links and fullUrls. */
  baseUrl: string;
  /**
   * Handles a Bundle POSTed to the base (batch/transaction), each write entry answered as `preferReturn` asks;
   * injected to keep this module free of that logic.
   */
  processBundle?: (bundle: unknown, preferReturn: FhirRequest['preferReturn']) => Promise<Bundle>;
  /** Settings of the workflows some creates start (referrals). */
  workflows: WorkflowSettings;
  /** What operations get for this request (absent inside batches: operations are not batch entries here). */
  operations?: () => OperationContext;
  /** Told the interaction's name once its route names one the log may show (`operation Subscription $status`). */
  named?: (interaction: string) => void;
}

/** The values a route's pattern captured (`resourceType`, `id`, `vid`, `operation`), checked as fhir-routes.ts says. */
export type RouteParams = Readonly<Record<string, string>>;

/** One interaction's handler: the request (its query without `_format`/`_pretty`), its route's values, the caller's capabilities. */
export type InteractionHandler = (request: FhirRequest, params: RouteParams, context: InteractionContext) => Promise<FhirResponse>;

/** `POST [base]`: a batch or transaction Bundle. */
export async function batchOrTransaction(request: FhirRequest, _params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  if (!context.processBundle) {
    fail(badRequest('Bundles cannot be nested in a batch or transaction'));
  }
  return { status: 200, resource: await context.processBundle(request.body, request.preferReturn) };
}

/** `GET [base]/_history`, `GET [type]/_history`, `GET [type]/[id]/_history`. */
export async function history(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  const { resourceType, id } = params;
  const found = await context.repository.history(resourceType, id, request.query);
  const path = [resourceType, id, '_history'].filter((part) => part !== undefined).join('/');
  return { status: 200, resource: buildHistoryBundle(found, path, request.query, context.baseUrl) };
}

/** `GET [type]?params`. */
export function search(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  return searchResponse(typeOf(params), request.query, context);
}

/** `POST [type]/_search`: form fields and query string together. */
export function searchByPost(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  return searchResponse(typeOf(params), mergeSearchParams(request.query, request.body), context);
}

/** `GET [type]/[id]`. */
export async function read(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  const resourceType = typeOf(params);
  const subsetting = parseSubsetting(resourceType, request.query, false);
  return readResponse(await context.repository.read(resourceType, idOf(params)), request, subsetting);
}

/** `GET [type]/[id]/_history/[vid]`: the version id is checked here, once the method is known to be a read. */
export async function vread(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  const resourceType = typeOf(params);
  const subsetting = parseSubsetting(resourceType, request.query, false);
  return readResponse(await context.repository.vread(resourceType, idOf(params), assertValidId(params.vid ?? '')), request, subsetting);
}

/** `POST [type]`. */
export function create(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  return createResponse(request, typeOf(params), context.repository, context.workflows);
}

/** `PUT [type]/[id]`. */
export function update(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  return updateResponse(request, typeOf(params), idOf(params), context.repository, context.workflows);
}

/** `PATCH [type]/[id]` (JSON Patch). */
export function patch(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  return patchResponse(request, typeOf(params), idOf(params), context.repository);
}

/** `DELETE [type]/[id]`. */
export async function remove(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  await context.repository.delete(typeOf(params), idOf(params), ifMatch(request));
  return { status: 204 };
}

/** `PUT [type]?criteria`. */
export function conditionalUpdate(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  return conditionalUpdateResponse(request, typeOf(params), request.query, context);
}

/** `DELETE [type]?criteria`. */
export function conditionalDelete(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  return conditionalDeleteResponse(request, typeOf(params), request.query, context.repository);
}

function typeOf(params: RouteParams): string {
  return params.resourceType ?? '';
}

function idOf(params: RouteParams): string {
  return params.id ?? '';
}

/** POST _search: form fields and query string together (both count). */
function mergeSearchParams(query: URLSearchParams, body: unknown): URLSearchParams {
  const merged = new URLSearchParams(query);
  if (body instanceof URLSearchParams) {
    for (const [name, value] of body) {
      merged.append(name, value);
    }
  } else if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v !== 'string') {
          fail(badRequest('Search form fields must be strings'));
        }
        merged.append(name, v);
      }
    }
  }
  return merged;
}

function ifMatch(request: FhirRequest): { ifMatch?: string } {
  const version = parseETag(request.ifMatch);
  return version === undefined ? {} : { ifMatch: version };
}

function requireResourceBody(request: FhirRequest, resourceType: string): Resource {
  const body = request.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    fail(badRequest('The body must be a FHIR resource (a JSON object)'));
  }
  const resource = body as Partial<Resource>;
  if (resource.resourceType !== resourceType) {
    fail(badRequest(`resourceType in the body must be ${resourceType}`, 'resourceType'));
  }
  return resource as Resource;
}

function versionOf(resource: Resource): FhirResponse['version'] {
  return {
    resourceType: resource.resourceType,
    id: resource.id ?? '',
    versionId: resource.meta?.versionId ?? '',
    lastUpdated: resource.meta?.lastUpdated ?? '',
  };
}

function readResponse(resource: Resource, request: FhirRequest, subsetting: Subsetting | undefined): FhirResponse {
  const version = versionOf(resource);
  // The read happened (and was audited as one) before its conditions are judged: a 304 tells the caller its copy is
  // still the current version, which is a disclosure of that version.
  if (version && isNotModified(request, version)) {
    return { status: 304, version };
  }
  return { status: 200, resource: subsetResource(resource, subsetting), version };
}

async function createResponse(
  request: FhirRequest,
  resourceType: string,
  repository: Repository,
  workflows: WorkflowSettings,
): Promise<FhirResponse> {
  const resource = requireResourceBody(request, resourceType);
  const { id: _ignoredClientId, ...withoutId } = resource;
  const options = {
    ...(request.ifNoneExist === undefined ? {} : { ifNoneExist: request.ifNoneExist }),
    ...(request.assignedId === undefined ? {} : { id: request.assignedId }),
  };
  const result = await writeThroughWorkflows(repository, { interaction: 'create', resource: withoutId as Resource, options }, workflows);
  return writeResponse(result.resource, result.outcome === 'created' ? 201 : 200, request, result.outcome === 'created');
}

async function updateResponse(
  request: FhirRequest,
  resourceType: string,
  id: string,
  repository: Repository,
  workflows: WorkflowSettings,
): Promise<FhirResponse> {
  const resource = requireResourceBody(request, resourceType);
  if (resource.id === undefined) {
    fail(badRequest('The resource must have an id matching the URL', 'id'));
  }
  if (resource.id !== id) {
    fail(badRequest('The id in the body does not match the id in the URL', 'id'));
  }
  // Through care's workflows: the operator's update-as-create of a referral creates it as a referral.
  const result = await writeThroughWorkflows(repository, { interaction: 'update', resource, options: ifMatch(request) }, workflows);
  return writeResponse(result.resource, result.outcome === 'created' ? 201 : 200, request, result.outcome === 'created');
}

async function patchResponse(request: FhirRequest, resourceType: string, id: string, repository: Repository): Promise<FhirResponse> {
  if (!Array.isArray(request.body)) {
    fail(badRequest('A JSON Patch body is an array of operations'));
  }
  const patched = await repository.patch(resourceType, id, request.body as PatchOperation[], ifMatch(request));
  return writeResponse(patched, 200, request, false);
}

function writeResponse(resource: Resource, status: number, request: FhirRequest, location: boolean): FhirResponse {
  const version = versionOf(resource);
  switch (request.preferReturn) {
    case 'minimal':
      return { status, version, location };
    case 'OperationOutcome':
      return {
        status,
        version,
        location,
        resource: {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'information', code: 'informational', details: { text: status === 201 ? 'Created' : 'Updated' } }],
        },
      };
    case 'representation':
    case undefined:
      return { status, resource, version, location };
    default:
      return request.preferReturn satisfies never;
  }
}

/**
 * A search and its Bundle. `_summary` views apply to every entry; `_elements` names elements of the searched type and
 * applies to its matches (included resources of other types come whole, as R5 reads an unprefixed name).
 */
async function searchResponse(resourceType: string, params: URLSearchParams, context: InteractionContext): Promise<FhirResponse> {
  // Checked before the search runs: a bad view is a 400 that discloses nothing.
  const subsetting = parseSubsetting(resourceType, params, true);
  const result = await context.repository.search(resourceType, params);
  const shown = subsetting
    ? {
        ...result,
        matches: result.matches.map((r) => subsetResource(r, subsetting)),
        included: subsetting.kind === 'summary' ? result.included.map((r) => subsetResource(r, subsetting)) : result.included,
      }
    : result;
  return { status: 200, resource: buildSearchBundle(shown, resourceType, params, context.baseUrl) };
}

/**
 * The criteria of a conditional update or delete: the query without what only shapes an answer. None is a 400 (405
 * without any query): a conditional write needs something to choose its resource by.
 */
function conditionalCriteria(query: URLSearchParams, what: string): URLSearchParams {
  if (query.size === 0) {
    // `PUT Type` and `DELETE Type` with no query at all name no interaction.
    fail(methodNotAllowed());
  }
  const criteria = new URLSearchParams([...query].filter(([name]) => !RESULT_SHAPING_PARAMETERS.has(name)));
  if (criteria.size === 0) {
    fail(badRequest(`A conditional ${what} needs search criteria in its URL (Type?parameter=value)`));
  }
  return criteria;
}

/**
 * The one resource the caller's own search finds by `criteria` (so a resource it may not see is never found), or
 * undefined; several are 412. The search is the caller's: its scope is needed and what it finds is recorded as a
 * search's disclosure.
 */
async function singleMatch(repository: Repository, resourceType: string, criteria: URLSearchParams): Promise<Resource | undefined> {
  const params = new URLSearchParams(criteria);
  params.set('_count', '2');
  params.set('_total', 'none');
  const { matches } = await repository.search(resourceType, params);
  if (matches.length > 1) {
    fail({
      resourceType: 'OperationOutcome',
      id: 'precondition-failed',
      issue: [{ severity: 'error', code: 'multiple-matches', details: { text: 'The criteria match more than one resource: narrow them to one' } }],
    });
  }
  return matches[0];
}

/**
 * `PUT Type?criteria` (FHIR conditional update). One match the caller sees: that resource is updated (If-Match
 * honoured), 200. None: the body is created as a POST would create it (the create scope, every write rule and
 * workflow), under a new id, 201; a conditional create's lock is taken, so two such updates running at once create one
 * resource, and the second updates it. A body id that is not the match's is 400; with no match, a body id is 400 too
 * (ids are the server's), except for the operator, whose update of that id it becomes. Several matches: 412.
 */
async function conditionalUpdateResponse(
  request: FhirRequest,
  resourceType: string,
  query: URLSearchParams,
  context: InteractionContext,
): Promise<FhirResponse> {
  const resource = requireResourceBody(request, resourceType);
  assertChangeable(resourceType);
  const criteria = conditionalCriteria(query, 'update');
  const { repository, workflows } = context;
  // The criteria are a search and the outcome an update: both rights before anything is looked at.
  repository.policy.assertInteraction('search', resourceType);
  repository.policy.assertInteraction('update', resourceType);
  return repository.transaction(async (tx) => {
    const match = await singleMatch(tx, resourceType, criteria);
    if (match) {
      return updateMatch(request, resource, match, tx);
    }
    if (request.ifMatch !== undefined) {
      // The version the client expected is of nothing it may see: as for an absent id.
      throw new VersionMismatchError(undefined);
    }
    if (resource.id !== undefined) {
      if (!tx.policy.clientAssignedIds) {
        fail(badRequest('No resource matches the criteria, and ids are the server\'s: leave id out to create the resource', 'id'));
      }
      return updateResponse(request, resourceType, assertValidId(resource.id), tx, workflows);
    }
    // The conditional create's lock and search again: a concurrent conditional write may have created it meanwhile.
    const created = await writeThroughWorkflows(tx, { interaction: 'create', resource, options: { ifNoneExist: criteria.toString() } }, workflows);
    if (created.outcome === 'existing') {
      return updateMatch(request, resource, created.resource, tx);
    }
    return writeResponse(created.resource, 201, request, true);
  });
}

async function updateMatch(request: FhirRequest, resource: Resource, match: Resource, repository: Repository): Promise<FhirResponse> {
  if (resource.id !== undefined && resource.id !== match.id) {
    fail(badRequest('The id in the body is not the id of the resource the criteria match', 'id'));
  }
  const result = await repository.update({ ...resource, id: match.id }, ifMatch(request));
  return writeResponse(result.resource, result.outcome === 'created' ? 201 : 200, request, result.outcome === 'created');
}

/**
 * `DELETE Type?criteria` (FHIR conditional delete, single match): the one resource the caller's search finds is
 * deleted as `DELETE Type/id` would delete it (If-Match honoured); none is 204 as well, so a resource the caller may not
 * see answers as an absent one; several are 412.
 */
async function conditionalDeleteResponse(
  request: FhirRequest,
  resourceType: string,
  query: URLSearchParams,
  repository: Repository,
): Promise<FhirResponse> {
  assertChangeable(resourceType);
  const criteria = conditionalCriteria(query, 'delete');
  repository.policy.assertInteraction('search', resourceType);
  repository.policy.assertInteraction('delete', resourceType);
  await repository.transaction(async (tx) => {
    const match = await singleMatch(tx, resourceType, criteria);
    if (match?.id !== undefined) {
      await tx.delete(resourceType, match.id, ifMatch(request));
    }
  });
  return { status: 204 };
}

/** 405 for a conditional write of a record of what happened (AuditEvent, Provenance): they are only ever appended. */
function assertChangeable(resourceType: string): void {
  if (APPEND_ONLY_RESOURCE_TYPES.has(resourceType)) {
    fail(methodNotAllowed(`${resourceType} is append-only: it cannot be updated, patched or deleted`));
  }
}

/** True when `err` is an OperationOutcomeError (for callers that collect per-entry outcomes). */
export function isOutcomeError(err: unknown): err is OperationOutcomeError {
  return err instanceof OperationOutcomeError;
}
