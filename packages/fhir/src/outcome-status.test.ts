import { badRequest, forbidden, gone, notFound, OperationOutcomeError } from '@medplum/core';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { isNotFoundOrGone, readOrUndefined, statusOf, type ResourceReader } from './outcome-status';
import { databaseUnavailable, methodNotAllowed, payloadTooLarge, unknownEndpoint, unprocessable } from './outcomes';

describe('statusOf', () => {
  test("answers our own outcomes' statuses, where @medplum/core's getStatus would say 400", () => {
    expect(statusOf(unknownEndpoint())).toBe(404);
    expect(statusOf(methodNotAllowed())).toBe(405);
    expect(statusOf(payloadTooLarge())).toBe(413);
    expect(statusOf(unprocessable('no', 'Patient.name'))).toBe(422);
    expect(statusOf(databaseUnavailable())).toBe(503);
  });

  test("answers @medplum/core's helpers as @medplum/core does", () => {
    expect(statusOf(notFound)).toBe(404);
    expect(statusOf(gone)).toBe(410);
    expect(statusOf(forbidden)).toBe(403);
    expect(statusOf(badRequest('bad'))).toBe(400);
  });
});

/** A repository whose read fails with `error`, or answers `resource`. */
function readerFailingWith(error: unknown, resource?: Resource): ResourceReader {
  return {
    read: <T extends Resource>() => (error === undefined ? Promise.resolve(resource as T) : Promise.reject(error)),
  };
}

describe('readOrUndefined', () => {
  const patient: Patient = { resourceType: 'Patient', id: 'p1' };

  test('answers the resource when the read succeeds', async () => {
    await expect(readOrUndefined<Patient>(readerFailingWith(undefined, patient), 'Patient', 'p1')).resolves.toEqual(patient);
  });

  test('answers undefined for a resource that is not found or deleted', async () => {
    await expect(readOrUndefined(readerFailingWith(new OperationOutcomeError(notFound)), 'Patient', 'p1')).resolves.toBeUndefined();
    await expect(readOrUndefined(readerFailingWith(new OperationOutcomeError(gone)), 'Patient', 'p1')).resolves.toBeUndefined();
  });

  test('throws every other error: a refusal, a database outage, anything not an OperationOutcome', async () => {
    const refused = new OperationOutcomeError(forbidden);
    await expect(readOrUndefined(readerFailingWith(refused), 'Patient', 'p1')).rejects.toBe(refused);
    const outage = new OperationOutcomeError(databaseUnavailable());
    await expect(readOrUndefined(readerFailingWith(outage), 'Patient', 'p1')).rejects.toBe(outage);
    const connectionLost = new Error('Connection terminated unexpectedly');
    await expect(readOrUndefined(readerFailingWith(connectionLost), 'Patient', 'p1')).rejects.toBe(connectionLost);
  });

  test('isNotFoundOrGone holds for not-found and gone outcomes only', () => {
    expect(isNotFoundOrGone(new OperationOutcomeError(notFound))).toBe(true);
    expect(isNotFoundOrGone(new OperationOutcomeError(gone))).toBe(true);
    expect(isNotFoundOrGone(new OperationOutcomeError(forbidden))).toBe(false);
    expect(isNotFoundOrGone(new Error('not found'))).toBe(false);
  });
});
