/**
 * `GET Patient/{id}/$disclosure-check?recipient=Organization/x&category=trauma-history[&purpose=TREAT]`: may this
 * recipient see this category of the client's information now, and which consents decide it. For the custodian and
 * the client; the answer is a Parameters resource.
 *
 * The recipient is resolved as its own tokens are (a practitioner through each organization it acts for and its
 * active roles there; a role as its practitioner at its organization), so the answer is what the recipient's token
 * gets. `demographics` is answered for the client's Patient resource, which any active consent naming the recipient
 * for the purpose discloses.
 */
import { decideDisclosure, DEFAULT_PURPOSE, isShareCategory, PURPOSES_OF_USE, type DisclosureDecision } from '@carecircle/consent';
import { badRequest, OperationOutcomeError } from '@carecircle/fhir';
import type { Consent, Parameters, Patient } from '@medplum/fhirtypes';
import { assertCustodianOrClient } from './custodian-check';
import type { OperationContext } from './operation-context';
import { defineOperation } from './operation-definition';
import type { OperationArguments } from './operation-parameters';
import { parseRecipientReference } from './recipient-reference';

const PARAMETERS = { recipient: { type: 'Reference' }, category: { type: 'code' }, purpose: { type: 'code' } } as const;

/** The $disclosure-check operation on Patient. */
export const PATIENT_DISCLOSURE_CHECK = defineOperation({
  resourceType: 'Patient',
  name: 'disclosure-check',
  level: 'instance',
  parameters: PARAMETERS,
  invoke: disclosureCheck,
});

async function disclosureCheck(context: OperationContext, given: OperationArguments<typeof PARAMETERS>, id: string): Promise<Parameters> {
  const reference = parseRecipientReference(given.recipient ?? null);
  const category = given.category ?? '';
  if (!isShareCategory(category)) {
    throw new OperationOutcomeError(badRequest('category must be a share category code', 'category'));
  }
  const purpose = given.purpose ?? DEFAULT_PURPOSE;
  if (!PURPOSES_OF_USE.has(purpose)) {
    throw new OperationOutcomeError(badRequest('purpose must be a supported v3-ActReason code', 'purpose'));
  }
  const patient = await context.repository.read<Patient>('Patient', id);
  assertCustodianOrClient(context.caller, patient, true);
  // Only consents recorded with the client's present practice are in force (a moved client's old ones grant nothing).
  const custodian = patient.managingOrganization?.reference;
  const consents = (
    (await context.repository.search('Consent', new URLSearchParams({ patient: `Patient/${id}`, _count: '1000' }))).matches as Consent[]
  ).filter((consent) => custodian !== undefined && consent.organization?.[0]?.reference === custodian);
  const now = new Date();
  const resourceType = category === 'demographics' ? 'Patient' : undefined;
  const decisions = (await context.resolveRecipients(reference)).map((recipient) =>
    decideDisclosure(consents, { recipient, purpose, category, now, ...(resourceType ? { resourceType } : {}) }),
  );
  const decision = combine(decisions);
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'permit', valueBoolean: decision.permit },
      { name: 'reason', valueString: decision.reason },
      { name: 'category', valueCode: category },
      { name: 'purpose', valueCode: purpose },
      { name: 'recipient', valueReference: { reference } },
      ...decision.consents.map((consent) => ({ name: 'consent', valueReference: { reference: consent } })),
    ],
  };
}

/** Permitted when permitted to any of the recipient's identities (any of its tokens); the consents of all of them. */
function combine(decisions: readonly DisclosureDecision[]): DisclosureDecision {
  const permitting = decisions.filter((d) => d.permit);
  if (permitting.length === 0) {
    return decisions[0] ?? { permit: false, consents: [], reason: 'The recipient is unknown' };
  }
  return {
    permit: true,
    consents: [...new Set(permitting.flatMap((d) => d.consents))],
    reason: (permitting[0] as DisclosureDecision).reason,
  };
}
