/**
 * The refusals of the care workflow, thrown as OperationOutcomeErrors (CONVENTIONS: errors are OperationOutcomes):
 * 400 for a malformed request, 403 for the wrong party, 422 for a move the workflow or the consents do not allow.
 * Texts name fields and statuses only, never a client's data.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { badRequest, fail, unprocessable } from '@carecircle/fhir';

/** 400: the request is malformed for this workflow (a missing or wrong field). */
export function refuseInvalid(text: string, expression: string): never {
  return fail(badRequest(text, expression));
}

/** 403 with a reason: the caller is not the party that may do this. */
export function refuseParty(text: string): never {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    id: 'forbidden',
    issue: [{ severity: 'error', code: 'forbidden', details: { text } }],
  };
  return fail(outcome);
}

/** 422: well-formed, but the workflow (or the client's consent) does not allow it. */
export function refuseUnprocessable(text: string, expression?: string): never {
  return fail(unprocessable(text, expression));
}
