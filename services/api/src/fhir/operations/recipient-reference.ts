/**
 * Parsing the `recipient` parameter of the consent operations: a literal reference to an Organization, Practitioner or
 * PractitionerRole. Who that reference stands for (a practitioner's organizations and roles) is resolved by
 * {@link OperationContext.resolveRecipients}, the same way the recipient's own tokens are.
 */
import { badRequest, FHIR_ID_PATTERN, OperationOutcomeError } from '@carecircle/fhir';

/** `Organization/x` | `Practitioner/x` | `PractitionerRole/x`, as given; anything else 400. */
export function parseRecipientReference(value: string | null): string {
  const match = value ? /^(Organization|Practitioner|PractitionerRole)\/(.+)$/.exec(value) : null;
  if (!match || !FHIR_ID_PATTERN.test(match[2] ?? '')) {
    throw new OperationOutcomeError(badRequest('recipient must reference an Organization, Practitioner or PractitionerRole', 'recipient'));
  }
  return `${match[1]}/${match[2]}`;
}
