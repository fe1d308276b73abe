/**
 * `GET Patient/{id}/$disclosure-check?recipient=Organization/x&category=trauma-history[&purpose=TREAT]`: may this
 * recipient see this category of the client's information now, and which consents decide it. For the custodian and
 * the client; the answer is a Parameters resource.
 *
 * The recipient is resolved as its own tokens are (a practitioner through each organization it acts for and its
 * active roles there; a role as its practitioner at its organization), so the answer is what the recipient's token
 * gets. `demographics` is answered for the client's Patient resource, which any active consent naming the recipient
 * for the purpose discloses.
 *
 * Each consent that decides is named exactly, with its provision: a `provision` part per consent version
 * (`Consent/{id}/_history/{version}`, the provision's FHIRPath `Consent.provision`, its type, codes and purposes), with
 * `decision` `permit` for those that permit; when nothing permits, one per consent naming the recipient, each with
 * `decision` `deny` and the reason it does not apply (not active, outside its period, another purpose, the category
 * not listed).
 */
import {
  consentRecipients,
  decideDisclosure,
  DECIDING_PROVISION_PATH,
  DEFAULT_PURPOSE,
  isConsentInForce,
  isShareCategory,
  provisionCategories,
  PURPOSE_OF_USE_SYSTEM,
  PURPOSES_OF_USE,
  recipientReferences,
  type DisclosureDecision,
  type Recipient,
} from '@carecircle/consent';
import { badRequest, OperationOutcomeError } from '@carecircle/fhir';
import type { Consent, Parameters, ParametersParameter, Patient } from '@medplum/fhirtypes';
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
  const recipients = await context.resolveRecipients(reference);
  const decisions = recipients.map((recipient) =>
    decideDisclosure(consents, { recipient, purpose, category, now, ...(resourceType ? { resourceType } : {}) }),
  );
  const decision = combine(decisions);
  const provisions = decision.permit
    ? consents.filter((consent) => decision.consents.includes(`Consent/${consent.id}`)).map((consent) => provisionPart(consent, 'permit', undefined))
    : consents
        .filter((consent) => recipients.some((recipient) => namesRecipient(consent, recipient)))
        .map((consent) => provisionPart(consent, 'deny', whyNot(consent, purpose, category, now)));
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'permit', valueBoolean: decision.permit },
      { name: 'reason', valueString: decision.reason },
      { name: 'category', valueCode: category },
      { name: 'purpose', valueCode: purpose },
      { name: 'recipient', valueReference: { reference } },
      ...decision.consents.map((consent) => ({ name: 'consent', valueReference: { reference: consent } })),
      ...provisions,
    ],
  };
}

/** A consent version's deciding provision, as a `provision` part. */
function provisionPart(consent: Consent, decision: 'permit' | 'deny', reason: string | undefined): ParametersParameter {
  const provision = consent.provision;
  return {
    name: 'provision',
    part: [
      { name: 'consent', valueReference: { reference: `Consent/${consent.id}/_history/${consent.meta?.versionId ?? '1'}` } },
      { name: 'path', valueString: DECIDING_PROVISION_PATH },
      ...(provision?.type ? [{ name: 'type', valueCode: provision.type }] : []),
      ...(provision?.code ?? []).flatMap((concept) => concept.coding ?? []).map((coding) => ({ name: 'code', valueCoding: coding })),
      ...(provision?.purpose ?? []).map((coding) => ({ name: 'purpose', valueCoding: coding })),
      { name: 'decision', valueCode: decision },
      ...(reason ? [{ name: 'reason', valueString: reason }] : []),
    ],
  };
}

function namesRecipient(consent: Consent, recipient: Recipient): boolean {
  const named = new Set(consent.provision ? consentRecipients(consent.provision) : []);
  return recipientReferences(recipient).some((ref) => named.has(ref));
}

/** Why a consent naming the recipient does not permit the category for the purpose now (no PHI: codes only). */
function whyNot(consent: Consent, purpose: string, category: string, now: Date): string {
  if (consent.status !== 'active') {
    return `The consent is ${consent.status ?? 'not active'}`;
  }
  if (consent.provision?.type !== 'permit') {
    return 'The provision is not a permit';
  }
  if (!isConsentInForce(consent, now)) {
    return 'Now is outside the provision period';
  }
  if (!(consent.provision.purpose ?? []).some((p) => p.system === PURPOSE_OF_USE_SYSTEM && p.code === purpose)) {
    return `The provision does not list the purpose ${purpose}`;
  }
  if (category === 'demographics' || (provisionCategories(consent.provision) as string[]).includes(category)) {
    return 'The provision permits it for another identity of the recipient';
  }
  return `The provision does not list ${category}`;
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
