/**
 * The FHIR route table's answer to every shape of path and method, malformed ones above all: which interaction runs
 * (seen as the repository method it calls, or the operation it reaches) or which OperationOutcome the path gets, and
 * that `_format` is judged before the path. Nothing here touches a database: the repository only says what was asked.
 */
import { OperationOutcomeError, statusOf } from '@carecircle/fhir';
import type { Repository } from '@carecircle/store';
import type { InteractionContext } from './fhir-interaction';
import type { FhirMethod } from './fhir-request';
import { handleFhirInteraction } from './fhir-routes';
import type { OperationContext } from './operations/operation-context';

const NOT_A_TYPE = '404 Resource type not supported';
const INVALID_ID = '400 Invalid id: ids are 1-64 characters of A-Z, a-z, 0-9, - and .';
const NOT_FOUND = '404 Not found';
const NOT_ALLOWED = '405 Method not allowed';

/** A repository that answers every call by naming it. */
const repository = new Proxy({} as Repository, {
  get(_target, method) {
    if (method === 'policy') {
      return { clientAssignedIds: false, assertInteraction: () => undefined };
    }
    return (...args: unknown[]) => {
      throw new Error(`${String(method)}(${args.filter((a) => typeof a === 'string').join(',')})`);
    };
  },
});

function context(inBatch: boolean): InteractionContext {
  return {
    repository,
    baseUrl: 'https://carecircle.example/fhir/R4',
    workflows: {},
    ...(inBatch
      ? {}
      : {
          processBundle: () => Promise.reject(new Error('bundle')),
          operations: () => ({ repository, subscriptionEvents: { lastEventNumber: () => Promise.resolve(0) } }) as unknown as OperationContext,
        }),
  };
}

/** What a request comes to: the repository call or other step it reached, or its outcome's id, status and text. */
async function routed(method: string, path: string, { query = '', body = undefined as unknown, inBatch = false } = {}): Promise<string> {
  try {
    await handleFhirInteraction({ method: method as FhirMethod, path, query: new URLSearchParams(query), body }, context(inBatch));
    return 'answered';
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return `${statusOf(err.outcome)} ${err.outcome.issue?.[0]?.details?.text ?? ''}`;
    }
    return (err as Error).message;
  }
}

test.each([
  // The whole server
  ['POST', '', 'bundle'],
  ['GET', '', NOT_ALLOWED],
  ['GET', '_history', 'history()'],
  ['POST', '_history', NOT_ALLOWED],
  ['GET', '_history/x', `${NOT_A_TYPE}: _history`],
  ['GET', '$status', `${NOT_A_TYPE}: ?status`],
  ['GET', 'metadata', `${NOT_A_TYPE}: metadata`],
  ['POST', 'NotAType/1', `${NOT_A_TYPE}: NotAType`],
  ['GET', 'NotAType/1/2/3/4/5', `${NOT_A_TYPE}: NotAType`],
  // A type
  ['GET', 'Patient', 'search(Patient)'],
  ['GET', '/Patient//', 'search(Patient)'],
  ['PATCH', 'Patient', NOT_ALLOWED],
  ['POST', 'Patient/_search', 'search(Patient)'],
  ['GET', 'Patient/_search', NOT_ALLOWED],
  ['GET', 'Patient/_history', 'history(Patient)'],
  ['DELETE', 'Patient/_history', NOT_ALLOWED],
  ['GET', 'Patient/_search/x', INVALID_ID],
  ['GET', 'Patient/_history/x', INVALID_ID],
  ['GET', 'Patient/$summary', INVALID_ID],
  ['GET', 'Subscription/$events', INVALID_ID],
  ['GET', 'Subscription/$status', 'search(Subscription)'],
  ['POST', 'Subscription/$status', NOT_ALLOWED],
  ['GET', 'Subscription/$status/x', INVALID_ID],
  // One resource
  ['GET', 'Patient/1', 'read(Patient,1)'],
  ['PUT', 'Patient/1', '400 The body must be a FHIR resource (a JSON object)'],
  ['POST', 'Patient/1', NOT_ALLOWED],
  ['POST', 'Patient/bad$id', INVALID_ID],
  ['GET', `Patient/${'x'.repeat(65)}`, INVALID_ID],
  ['GET', 'Patient/bad$id/x/y', INVALID_ID],
  ['GET', 'Patient/bad$id/x/y/z', NOT_FOUND],
  ['GET', 'Patient/1/2/3/4/5', NOT_FOUND],
  ['GET', 'Patient/1/x', NOT_FOUND],
  ['GET', 'Patient/1/_history', 'history(Patient,1)'],
  ['GET', 'Patient/1/_history/2', 'vread(Patient,1,2)'],
  ['GET', 'Patient/1/_history/bad$id', INVALID_ID],
  ['POST', 'Patient/1/_history/bad$id', NOT_ALLOWED],
  ['GET', 'Patient/1/_history/2/3', NOT_FOUND],
  // Operations on one resource
  ['GET', 'Patient/1/$summary', 'read(Patient,1)'],
  ['POST', 'Patient/1/$summary', NOT_ALLOWED],
  ['GET', 'Patient/1/$nope', '404 Unknown operation: nope'],
  ['POST', 'Patient/1/$nope', '404 Unknown operation: nope'],
  ['GET', 'Composition/1/$submit', NOT_ALLOWED],
  ['GET', 'Patient/1/$summary/x', NOT_FOUND],
  ['GET', 'Subscription/1/$status', 'read(Subscription,1)'],
  ['GET', 'Subscription/1/$events', 'read(Subscription,1)'],
  ['GET', 'Subscription/1/$summary', '404 Unknown operation: summary'],
])('%s %s: %s', async (method, path, expected) => {
  expect(await routed(method, path)).toBe(expected);
});

test('PUT and DELETE of a type with no query at all are 405, as no interaction', async () => {
  expect(await routed('PUT', 'Patient', { body: { resourceType: 'Patient' } })).toBe(NOT_ALLOWED);
  expect(await routed('DELETE', 'Patient')).toBe(NOT_ALLOWED);
});

test('a method FHIR does not use is 405 where the path names something, and the path error otherwise', async () => {
  expect(await routed('OPTIONS', 'Patient/1')).toBe(NOT_ALLOWED);
  expect(await routed('OPTIONS', 'Patient/bad$id')).toBe(INVALID_ID);
});

test('_format other than JSON is a 400 before the path is looked at', async () => {
  expect(await routed('GET', 'NotAType', { query: '_format=xml' })).toBe('400 _format: only JSON is supported');
  expect(await routed('GET', 'Patient', { query: '_format=json&_pretty=true' })).toBe('search(Patient)');
});

test('inside a batch, Bundles and operations are refused as entries', async () => {
  expect(await routed('POST', '', { inBatch: true })).toBe('400 Bundles cannot be nested in a batch or transaction');
  expect(await routed('GET', 'Patient/1/$summary', { inBatch: true })).toBe('400 Operations cannot be invoked from a batch or transaction');
  expect(await routed('GET', 'Subscription/$status', { inBatch: true })).toBe('400 Operations cannot be invoked from a batch or transaction');
});

test("an operation's parameters are read against its definition before it runs", async () => {
  expect(await routed('GET', 'Subscription/1/$status', { query: 'eventsSinceNumber=1' })).toBe(
    '400 Unknown parameter for $status: eventsSinceNumber (it takes none)',
  );
  expect(await routed('GET', 'Subscription/$status', { query: 'id=a&id=b&status=active' })).toBe('search(Subscription)');
  expect(await routed('GET', 'Patient/1/$summary', { query: 'recipient=Organization/a&recipient=Organization/b' })).toBe('400 recipient may appear only once');
});
