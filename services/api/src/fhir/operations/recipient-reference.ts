/**
 * Parsing the `recipient` parameter of the consent operations: a literal reference to an Organization, Practitioner or
 * PractitionerRole, turned into the {@link Recipient} the decision speaks about.
 */
import type { Recipient } from '@carecircle/consent';
import { badRequest, FHIR_ID_PATTERN, OperationOutcomeError } from '@carecircle/fhir';

/** `Organization/x` | `Practitioner/x` | `PractitionerRole/x` -> Recipient; anything else 400. */
export function parseRecipient(value: string | null): Recipient {
  const match = value ? /^(Organization|Practitioner|PractitionerRole)\/(.+)$/.exec(value) : null;
  if (!match || !FHIR_ID_PATTERN.test(match[2] ?? '')) {
    throw new OperationOutcomeError(badRequest('recipient must reference an Organization, Practitioner or PractitionerRole', 'recipient'));
  }
  const reference = `${match[1]}/${match[2]}`;
  switch (match[1]) {
    case 'Organization':
      return { organization: reference };
    case 'Practitioner':
      return { practitioner: reference };
    default:
      return { practitionerRole: reference };
  }
}
