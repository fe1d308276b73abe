/**
 * What a call under test came to, as the HTTP status the API would answer: the status of the OperationOutcomeError
 * it threw or rejected with (through @carecircle/fhir's statusOf, the server's own mapping), or 'ok' when it did
 * not fail. Any other error is rethrown, so it fails the test with its own message.
 */
import { OperationOutcomeError, statusOf } from '@carecircle/fhir';
import type { OperationOutcome } from '@medplum/fhirtypes';

/** The status of the OperationOutcomeError `call` throws, or 'ok' when it returns. */
export function thrownStatus(call: () => unknown): number | 'ok' {
  try {
    call();
    return 'ok';
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return statusOf(err.outcome);
    }
    throw err;
  }
}

/** The status of the OperationOutcomeError `result` rejects with, or 'ok' when it resolves (or is no promise). */
export async function rejectionStatus(result: unknown): Promise<number | 'ok'> {
  try {
    await result;
    return 'ok';
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return statusOf(err.outcome);
    }
    throw err;
  }
}

/** The OperationOutcomeError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<OperationOutcomeError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err;
    }
    throw err;
  }
  throw new Error('expected an OperationOutcomeError, but the call succeeded');
}

/** The OperationOutcome `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function rejectionOutcome(promise: Promise<unknown>): Promise<OperationOutcome> {
  return (await rejectionOf(promise)).outcome;
}

/** What a refusal says: its status and its first issue's text and expression. */
export interface Refusal {
  status: number;
  text: string | undefined;
  expression: string | undefined;
}

/** The refusal `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function refusalOf(promise: Promise<unknown>): Promise<Refusal> {
  const outcome = await rejectionOutcome(promise);
  const issue = outcome.issue[0];
  return { status: statusOf(outcome), text: issue?.details?.text, expression: issue?.expression?.[0] };
}
