/**
 * The one mapping from an OperationOutcome to its HTTP status ({@link statusOf}), and the one way to read a resource
 * that may be absent ({@link readOrUndefined}). @medplum/core's getStatus knows only its own outcome ids and answers
 * 400 for ours (405, 413, 422, 404 for an unknown endpoint, 503 ...), so nothing here or elsewhere branches on it.
 */
import { getStatus, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';

/** Outcome ids that carry their own HTTP status (the builders in outcomes.ts). */
const STATUS_BY_ID: Record<string, number> = {
  'method-not-allowed': 405,
  'payload-too-large': 413,
  'unprocessable-entity': 422,
  'unknown-endpoint': 404,
  'not-modified': 304,
  'not-acceptable': 406,
  'too-costly': 400,
  'statement-timeout': 503,
  'queue-unavailable': 503,
  'database-unavailable': 503,
};

/** The HTTP status for an outcome: our own ids first, then @medplum/core's mapping for its helpers' outcomes. */
export function statusOf(outcome: OperationOutcome): number {
  return (outcome.id && STATUS_BY_ID[outcome.id]) || getStatus(outcome);
}

/** True for an OperationOutcomeError that says the resource is not there: not found (404) or deleted (410). */
export function isNotFoundOrGone(err: unknown): err is OperationOutcomeError {
  if (!(err instanceof OperationOutcomeError)) {
    return false;
  }
  const status = statusOf(err.outcome);
  return status === 404 || status === 410;
}

/** What {@link readOrUndefined} needs of a repository: its read. */
export interface ResourceReader {
  read<T extends Resource = Resource>(resourceType: string, id: string): Promise<T>;
}

/**
 * The resource, or undefined when it does not exist or was deleted (as the repository's caller sees it: a hidden
 * resource reads as absent). Every other error, a database error or a refusal among them, is thrown.
 */
export async function readOrUndefined<T extends Resource = Resource>(
  repository: ResourceReader,
  resourceType: string,
  id: string,
): Promise<T | undefined> {
  try {
    return await repository.read<T>(resourceType, id);
  } catch (err) {
    if (isNotFoundOrGone(err)) {
      return undefined;
    }
    throw err;
  }
}
