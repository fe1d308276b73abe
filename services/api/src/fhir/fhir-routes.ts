/**
 * The FHIR REST API's route table: every interaction the API answers below its base (/fhir/R4), as method + pattern
 * -> handler, read top to bottom. HTTP requests (routes.ts) and each entry of a batch or transaction
 * (bundle-processor.ts) go through {@link handleFhirInteraction}, so both are routed alike.
 *
 * Patterns (route-matcher.ts): a word matches itself, `:name` any segment, `$:name` a segment `$name`; the most
 * specific wins, empty segments are ignored. `:resourceType` must be a type this server stores (404 naming it
 * otherwise) and `:id` a valid FHIR id (400), both checked before the method; `:vid` is checked by vread after it.
 * A path no pattern matches is 404; a pattern without the method, 405. The query's `_format` and `_pretty` are checked
 * (JSON only) before any of this, and never reach a handler.
 *
 * Answered before this table, by routes.ts: `GET metadata` and the SubscriptionTopics (no token needed), and our
 * guide's conformance resources (`GET StructureDefinition[/id]` ...). Operations come from one registry
 * (operations/operation-registry.ts): each type-level operation is a route of its own (`GET Subscription/$status`),
 * so `Type/$other` is read as an id (400); after an id, every `$name` is an operation, 404 when the type has none of
 * that name.
 */
import { assertValidId, badRequest, fail, isSupportedResourceType, methodNotAllowed, safeForMessage, unknownEndpoint } from '@carecircle/fhir';
import type { Parameters } from '@medplum/fhirtypes';
import {
  batchOrTransaction,
  conditionalDelete,
  conditionalUpdate,
  create,
  history,
  patch,
  read,
  remove,
  search,
  searchByPost,
  update,
  vread,
  type InteractionContext,
  type InteractionHandler,
  type RouteParams,
} from './fhir-interaction';
import type { FhirRequest, FhirResponse } from './fhir-request';
import { findInstanceOperation, TYPE_OPERATIONS, type OperationContext, type TypeOperation } from './operations/operation-registry';
import { readOperationArguments } from './operations/operation-parameters';
import { compileRoutes, type Route } from './route-matcher';

/** The routes, most general first; within a pattern, the methods it takes. */
const FHIR_ROUTES: readonly Route<InteractionHandler>[] = [
  // The whole server
  { method: 'POST', pattern: '', handler: batchOrTransaction },
  { method: 'GET', pattern: '_history', handler: history },

  // A resource type
  { method: 'GET', pattern: ':resourceType', handler: search },
  { method: 'POST', pattern: ':resourceType', handler: create },
  { method: 'PUT', pattern: ':resourceType', handler: conditionalUpdate },
  { method: 'DELETE', pattern: ':resourceType', handler: conditionalDelete },
  { method: 'POST', pattern: ':resourceType/_search', handler: searchByPost },
  { method: 'GET', pattern: ':resourceType/_history', handler: history },
  ...TYPE_OPERATIONS.map((operation) => ({ method: 'GET' as const, pattern: `${operation.resourceType}/$${operation.name}`, handler: typeOperation(operation) })),

  // One resource
  { method: 'GET', pattern: ':resourceType/:id', handler: read },
  { method: 'PUT', pattern: ':resourceType/:id', handler: update },
  { method: 'PATCH', pattern: ':resourceType/:id', handler: patch },
  { method: 'DELETE', pattern: ':resourceType/:id', handler: remove },
  { method: 'GET', pattern: ':resourceType/:id/_history', handler: history },
  { method: 'GET', pattern: ':resourceType/:id/_history/:vid', handler: vread },
  { method: 'GET', pattern: ':resourceType/:id/$:operation', handler: instanceOperation },
  { method: 'POST', pattern: ':resourceType/:id/$:operation', handler: instanceOperation },
];

const ROUTES = compileRoutes(FHIR_ROUTES, {
  resourceType: (segment) => {
    if (!isSupportedResourceType(segment)) {
      fail(unknownEndpoint(`Resource type not supported: ${safeForMessage(segment)}`));
    }
  },
  id: (segment) => void assertValidId(segment),
});

/** Parameters that shape the HTTP response only and never reach the repository. */
const FORMAT_PARAMETERS = ['_format', '_pretty'];

/** Routes a FHIR request to its handler and returns the response to send. */
export async function handleFhirInteraction(request: FhirRequest, context: InteractionContext): Promise<FhirResponse> {
  const query = withoutFormatParameters(request.query);
  const { handler, params } = ROUTES.match(request.method, request.path);
  return handler({ ...request, query }, params, context);
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

/** `GET [type]/$name` of one registered operation. */
function typeOperation(operation: TypeOperation): InteractionHandler {
  return async function invokeTypeOperation(request, _params, context) {
    const operations = operationContext(context);
    context.named?.(`operation ${operation.resourceType} $${operation.name}`);
    const args = readOperationArguments(operation.name, operation.parameters, request.query);
    return { status: 200, resource: await operation.invoke(operations(), args) };
  };
}

/** `GET|POST [type]/[id]/$name`: the registry's operation of that type and name, 404 when there is none, 405 with the other method. */
async function instanceOperation(request: FhirRequest, params: RouteParams, context: InteractionContext): Promise<FhirResponse> {
  const operations = operationContext(context);
  const { resourceType = '', id = '', operation: name = '' } = params;
  const operation = findInstanceOperation(resourceType, name);
  if (!operation) {
    fail(unknownEndpoint(`Unknown operation: ${safeForMessage(name)}`));
  }
  if ((operation.method ?? 'GET') !== request.method) {
    fail(methodNotAllowed());
  }
  context.named?.(`operation ${resourceType} $${name}`);
  const given = request.method === 'POST' ? parametersOfBody(operation.name, request.body, request.query) : request.query;
  const args = readOperationArguments(operation.name, operation.parameters, given);
  return { status: 200, resource: await operation.invoke(operations(), args, id) };
}

/**
 * The arguments of a POSTed operation: its Parameters body (or none), each `parameter` a name with a string value
 * (`valueString`, `valueCode`...), read as strictly as a query; the query may carry only `_format` and `_pretty`.
 */
function parametersOfBody(name: string, body: unknown, query: URLSearchParams): URLSearchParams {
  const given = new URLSearchParams(query);
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
    return given;
  }
  const parameters = body as Parameters;
  if (typeof body !== 'object' || Array.isArray(body) || parameters.resourceType !== 'Parameters') {
    fail(badRequest(`The body of $${name} is a Parameters resource`, 'Parameters'));
  }
  for (const parameter of Array.isArray(parameters.parameter) ? parameters.parameter : []) {
    const value = Object.entries(parameter ?? {}).find(([key]) => key.startsWith('value'))?.[1];
    if (typeof parameter?.name !== 'string' || typeof value !== 'string') {
      fail(badRequest(`Each parameter of $${name} has a name and a string value`, 'Parameters.parameter'));
    }
    given.append(parameter.name, value);
  }
  return given;
}

function operationContext(context: InteractionContext): () => OperationContext {
  if (!context.operations) {
    fail(badRequest('Operations cannot be invoked from a batch or transaction'));
  }
  return context.operations;
}
