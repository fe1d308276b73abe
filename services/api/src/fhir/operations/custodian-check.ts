/**
 * Who may ask about a client's sharing: the client's custodian (the practice in Patient.managingOrganization, or the
 * operator) and, where noted, the client. Everyone else gets 403: partners do not learn what others are shown.
 */
import type { Caller } from '@carecircle/auth';
import { forbidden, OperationOutcomeError } from '@carecircle/fhir';
import type { Patient } from '@medplum/fhirtypes';

/** Throws 403 unless `caller` is the custodian of `patient` (or the operator, or — when allowed — the client). */
export function assertCustodianOrClient(caller: Caller, patient: Patient, allowClient: boolean): void {
  switch (caller.kind) {
    case 'admin':
      return;
    case 'patient':
      if (allowClient && caller.fhirUser === `Patient/${patient.id}`) {
        return;
      }
      break;
    case 'system':
    case 'practitioner':
      if (patient.managingOrganization?.reference === caller.organization) {
        return;
      }
      break;
    default:
      return caller satisfies never;
  }
  throw new OperationOutcomeError(forbidden);
}
