/**
 * Dispatch of one FHIR REST interaction (read, vread, create, update, patch, delete, search, history) to the caller's
 * repository. Used for HTTP requests and for each entry of a batch or transaction, so both behave identically.
 */
import {
  assertValidId,
  badRequest,
  fail,
  isSupportedResourceType,
  methodNotAllowed,
  OperationOutcomeError,
  outcomeStatus,
  safeForMessage,
  unknownEndpoint,
} from '@carecircle/fhir';
import { isReferralRequest } from '@carecircle/care';
import type { PatchOperation, Repository } from '@carecircle/store';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { buildHistoryBundle, buildSearchBundle } from './bundles';
import { createWithWorkflows, type WorkflowSettings } from './create-workflows';
import { isNotModified } from '../http/conditional-read';
import { parseETag, type FhirRequest, type FhirResponse } from './fhir-request';

/** Parameters that shape the HTTP response only and never reach the repository. */
const FORMAT_PARAMETERS = ['_format', '_pretty'];

export interface InteractionContext {
  repository: Repository;
  /** FHIR base URL for links and fullUrls. */
  baseUrl: string;
  /** Handles a Bundle POSTed to the base (batch/transaction); injected to keep this module free of that logic. */
  processBundle?: (bundle: unknown) => Promise<Bundle>;
  /** Settings of the workflows some creates start (referrals). */
  workflows: WorkflowSettings;
  /** Runs `GET [type]/[id]/$name` (absent inside batches: operations are not batch entries here). */
  invokeOperation?: (resourceType: string, id: string, name: string, params: URLSearchParams) => Promise<Resource>;
}

/** Routes a FHIR request to the repository and returns the response to send. */
export async function handleFhirInteraction(request: FhirRequest, context: InteractionContext): Promise<FhirResponse> {
  const query = withoutFormatParameters(request.query);
  const segments = request.path.split('/').filter((s) => s !== '');
  const { repository } = context;

  if (segments.length === 0) {
    return handleBase(request, query, context);
  }
  const [resourceType = '', second, third, fourth, ...rest] = segments;
  if (resourceType === '_history' && second === undefined) {
    requireMethod(request, 'GET');
    const history = await repository.history(undefined, undefined, query);
    return { status: 200, resource: buildHistoryBundle(history, '_history', query, context.baseUrl) };
  }
  if (!isSupportedResourceType(resourceType)) {
    fail(unknownEndpoint(`Resource type not supported: ${safeForMessage(resourceType)}`));
  }
  if (rest.length > 0) {
    fail(unknownEndpoint());
  }

  // [type]
  if (second === undefined) {
    switch (request.method) {
      case 'GET':
        return searchResponse(await repository.search(resourceType, query), resourceType, query, context);
      case 'POST':
        return createResponse(request, resourceType, repository, context.workflows);
      default:
        return fail(methodNotAllowed());
    }
  }
  // [type]/_search, [type]/_history
  if (second === '_search' && third === undefined) {
    if (request.method !== 'POST') {
      fail(methodNotAllowed());
    }
    const params = mergeSearchParams(query, request.body);
    return searchResponse(await repository.search(resourceType, params), resourceType, params, context);
  }
  if (second === '_history' && third === undefined) {
    requireMethod(request, 'GET');
    const history = await repository.history(resourceType, undefined, query);
    return { status: 200, resource: buildHistoryBundle(history, `${resourceType}/_history`, query, context.baseUrl) };
  }
  const id = assertValidId(second);

  // [type]/[id]
  if (third === undefined) {
    switch (request.method) {
      case 'GET':
        return readResponse(await repository.read(resourceType, id), request);
      case 'PUT':
        return updateResponse(request, resourceType, id, repository, context.workflows);
      case 'PATCH':
        return patchResponse(request, resourceType, id, repository);
      case 'DELETE':
        await repository.delete(resourceType, id, ifMatch(request));
        return { status: 204 };
      default:
        return fail(methodNotAllowed());
    }
  }
  // [type]/[id]/$operation
  if (third?.startsWith('$') && fourth === undefined) {
    requireMethod(request, 'GET');
    if (!context.invokeOperation) {
      fail(badRequest('Operations cannot be invoked from a batch or transaction'));
    }
    return { status: 200, resource: await context.invokeOperation(resourceType, id, third.slice(1), query) };
  }
  // [type]/[id]/_history[/vid]
  if (third === '_history') {
    requireMethod(request, 'GET');
    if (fourth === undefined) {
      const history = await repository.history(resourceType, id, query);
      return { status: 200, resource: buildHistoryBundle(history, `${resourceType}/${id}/_history`, query, context.baseUrl) };
    }
    return readResponse(await repository.vread(resourceType, id, assertValidId(fourth)), request);
  }
  return fail(unknownEndpoint());
}

async function handleBase(request: FhirRequest, query: URLSearchParams, context: InteractionContext): Promise<FhirResponse> {
  if (request.method === 'POST') {
    if (!context.processBundle) {
      fail(badRequest('Bundles cannot be nested in a batch or transaction'));
    }
    return { status: 200, resource: await context.processBundle(request.body) };
  }
  return fail(methodNotAllowed());
}

function requireMethod(request: FhirRequest, method: FhirRequest['method']): void {
  if (request.method !== method) {
    fail(methodNotAllowed());
  }
}

function withoutFormatParameters(query: URLSearchParams): URLSearchParams {
  const result = new URLSearchParams(query);
  for (const name of FORMAT_PARAMETERS) {
    const values = result.getAll(name);
    if (values.some((v) => !/^(json|application\/(fhir\+)?json|true|false)$/.test(v))) {
      fail(badRequest(`${name}: only JSON is supported`));
    }
    result.delete(name);
  }
  return result;
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

function readResponse(resource: Resource, request: FhirRequest): FhirResponse {
  const version = versionOf(resource);
  // The read happened (and was audited as one) before its conditions are judged: a 304 tells the caller its copy is
  // still the current version, which is a disclosure of that version.
  if (version && isNotModified(request, version)) {
    return { status: 304, version };
  }
  return { status: 200, resource, version };
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
  const result = await createWithWorkflows(repository, withoutId as Resource, options, workflows);
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
  if (repository.policy.clientAssignedIds && isReferralRequest(resource) && !(await exists(repository, resourceType, id))) {
    // The operator's update-as-create of a referral is a referral's create: consent checked, Task made with it.
    const created = await createWithWorkflows(repository, resource, { id }, workflows);
    return writeResponse(created.resource, 201, request, true);
  }
  const result = await repository.update(resource, ifMatch(request));
  return writeResponse(result.resource, result.outcome === 'created' ? 201 : 200, request, result.outcome === 'created');
}

/** Whether any version of `resourceType/id` is stored (a deleted one counts: it is not created anew). */
async function exists(repository: Repository, resourceType: string, id: string): Promise<boolean> {
  try {
    await repository.read(resourceType, id);
    return true;
  } catch (err) {
    if (err instanceof OperationOutcomeError && outcomeStatus(err.outcome) === 404) {
      return false;
    }
    if (err instanceof OperationOutcomeError && outcomeStatus(err.outcome) === 410) {
      return true;
    }
    throw err;
  }
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

function searchResponse(
  result: Awaited<ReturnType<Repository['search']>>,
  resourceType: string,
  params: URLSearchParams,
  context: InteractionContext,
): FhirResponse {
  return { status: 200, resource: buildSearchBundle(result, resourceType, params, context.baseUrl) };
}

/** True when `err` is an OperationOutcomeError (for callers that collect per-entry outcomes). */
export function isOutcomeError(err: unknown): err is OperationOutcomeError {
  return err instanceof OperationOutcomeError;
}
