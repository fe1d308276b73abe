/**
 * OperationOutcome builders for the statuses @medplum/core has no helper for (400 too-costly, 405, 406, 413, 422, 503,
 * 404 for an unsupported type) and the 412 of a stale If-Match that says which version is current. Their ids map to
 * their statuses in outcome-status.ts.
 */
import { OperationOutcomeError, preconditionFailed } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

function outcome(id: string, code: OperationOutcomeIssue['code'], text: string, expression?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    id,
    issue: [{ severity: 'error', code, details: { text }, ...(expression ? { expression: [expression] } : {}) }],
  };
}

/** 405: the interaction is not defined for this URL. */
export function methodNotAllowed(text = 'Method not allowed'): OperationOutcome {
  return outcome('method-not-allowed', 'not-supported', text);
}

/** 406: the caller accepts no format this server answers in (only FHIR JSON). */
export function notAcceptable(text = 'Only application/fhir+json is supported'): OperationOutcome {
  return outcome('not-acceptable', 'not-supported', text);
}

/** 413: a body or bundle beyond our documented limits. */
export function payloadTooLarge(text = 'Request body too large'): OperationOutcome {
  return outcome('payload-too-large', 'too-costly', text);
}

/** 400: a well-formed request that asks for more work than the server's documented limits allow (issue too-costly). */
export function tooCostly(text: string): OperationOutcome {
  return outcome('too-costly', 'too-costly', text);
}

/** 503: a database statement ran past the server's statement timeout and was cancelled (issue timeout). */
export function statementTimeout(
  text = 'The request took longer in the database than the server allows and was stopped; narrow it, or retry later',
): OperationOutcome {
  return outcome('statement-timeout', 'timeout', text);
}

/**
 * 503: the database connection was lost or refused (a failover, a restart, a killed connection); the request did not
 * complete and may be retried shortly (issue transient).
 */
export function databaseUnavailable(
  text = 'The database connection was lost or refused (a restart or failover, most likely); retry in a few seconds',
): OperationOutcome {
  return outcome('database-unavailable', 'transient', text);
}

/**
 * 503: the queues' Redis did not answer; nothing was queued or read, and the request may be retried shortly (issue
 * transient).
 */
export function queueUnavailable(text = 'The queue store (Redis) did not answer; nothing was queued. Retry in a few seconds'): OperationOutcome {
  return outcome('queue-unavailable', 'transient', text);
}

/** 422: well-formed, but the business rules refuse it. */
export function unprocessable(text: string, expression?: string): OperationOutcome {
  return outcome('unprocessable-entity', 'business-rule', text, expression);
}

/** 404: no such endpoint, e.g. a resource type this server does not serve. */
export function unknownEndpoint(text = 'Not found'): OperationOutcome {
  return outcome('unknown-endpoint', 'not-supported', text);
}

/** Throws an OperationOutcomeError for `value`. */
export function fail(value: OperationOutcome): never {
  throw new OperationOutcomeError(value);
}

/**
 * 412 for an If-Match that is not the current version. It names the current version (and the error handler sends it
 * as the `ETag`), so the caller can read again and retry without guessing. Thrown only once the caller is known to
 * see the resource: a hidden one is 404 before If-Match is looked at, so no version of it ever leaks.
 */
export class VersionMismatchError extends OperationOutcomeError {
  /** The current version id, undefined when there is none (an operator's update of an id that does not exist). */
  readonly currentVersionId: string | undefined;

  constructor(currentVersionId: string | undefined) {
    const text =
      currentVersionId === undefined
        ? 'Precondition failed: If-Match names a version, but the resource does not exist; send the update without If-Match'
        : `Precondition failed: the resource is at version ${currentVersionId} (ETag W/"${currentVersionId}"), not the ` +
          `version in If-Match; read it again, reapply your change and send If-Match: W/"${currentVersionId}"`;
    super({
      ...preconditionFailed,
      issue: [
        {
          severity: 'error',
          code: 'conflict',
          details: { text },
          ...(currentVersionId === undefined ? {} : { diagnostics: `Current version: ${currentVersionId}` }),
        },
      ],
    });
    this.currentVersionId = currentVersionId;
  }
}
