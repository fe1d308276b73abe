/**
 * `GET Patient/{id}/$disclosure-check?recipient=Organization/x&category=trauma-history[&purpose=TREAT]`: may this
 * recipient see this category of the client's information now, and which consents decide it. For the custodian and
 * the client; the answer is a Parameters resource.
 */
import { decideDisclosure, DEFAULT_PURPOSE, isShareCategory } from '@carecircle/consent';
import { badRequest, OperationOutcomeError } from '@carecircle/fhir';
import type { Consent, Parameters, Patient } from '@medplum/fhirtypes';
import { PURPOSES_OF_USE } from '../purpose-of-use';
import { assertCustodianOrClient } from './custodian-check';
import type { OperationContext } from './operation-context';
import { parseRecipient } from './recipient-reference';

/** The $disclosure-check operation on Patient. */
export async function disclosureCheck(context: OperationContext, id: string, params: URLSearchParams): Promise<Parameters> {
  const recipient = parseRecipient(params.get('recipient'));
  const category = params.get('category') ?? '';
  if (!isShareCategory(category)) {
    throw new OperationOutcomeError(badRequest('category must be a share category code', 'category'));
  }
  const purpose = params.get('purpose') ?? DEFAULT_PURPOSE;
  if (!PURPOSES_OF_USE.has(purpose)) {
    throw new OperationOutcomeError(badRequest('purpose must be a supported v3-ActReason code', 'purpose'));
  }
  const patient = await context.repository.read<Patient>('Patient', id);
  assertCustodianOrClient(context.caller, patient, true);
  const consents = await context.repository.search('Consent', new URLSearchParams({ patient: `Patient/${id}`, _count: '1000' }));
  const decision = decideDisclosure(consents.matches as Consent[], { recipient, purpose, category, now: new Date() });
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'permit', valueBoolean: decision.permit },
      { name: 'reason', valueString: decision.reason },
      { name: 'category', valueCode: category },
      { name: 'purpose', valueCode: purpose },
      { name: 'recipient', valueReference: { reference: params.get('recipient') as string } },
      ...decision.consents.map((reference) => ({ name: 'consent', valueReference: { reference } })),
    ],
  };
}
