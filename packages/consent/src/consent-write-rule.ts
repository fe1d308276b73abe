/**
 * The well-formedness of sharing Consents (contract, DESIGN.md "categories, labels, consent"), checked on every write
 * as a store {@link WriteRule}. Every Consent is a sharing consent: the rule claims the sharing-consent profile so the
 * validation that runs right after it checks the shape (400 for what is missing or malformed), and refuses with 422
 * what is well-formed but cannot be honoured: a patient that does not exist, an organization that is not the client's
 * custodian, a performer other than the client, a recipient that is not an existing Organization, Practitioner or
 * PractitionerRole, a purpose of use outside the supported v3-ActReason codes (it could never match a request), and
 * psychotherapy notes, which never leave the practice; and any reference it makes (patient, performer, organization,
 * IRCP actor) other than a plain `Type/id`, which the server matches exactly and so could never honour. A period that
 * ends before it starts is 400.
 *
 * A revocation (an existing consent updated to a status other than `active`) skips the lookups: it must go through
 * even when a recipient was deleted or the client changed practice since, and a consent that is not active discloses
 * nothing. The rows looked up are locked FOR SHARE until the write commits, so a concurrent change of the patient or
 * deletion of a recipient (which supersedes that row) waits for it instead of slipping in between. Messages name
 * elements and, at most, the resource type of a reference; never other caller-supplied text.
 */
import { badRequest, OperationOutcomeError, parseRelativeReference, unprocessable, type ReferenceTarget } from '@carecircle/fhir';
import { lockLiveResources, lockPatientCustodian, type Queryable, type WriteRule } from '@carecircle/store';
import type { Consent, ConsentProvision, Period, Reference, Resource } from '@medplum/fhirtypes';
import { SHARING_CONSENT_PROFILE } from './consent-builders';
import { PURPOSE_OF_USE_SYSTEM, PURPOSES_OF_USE, RECIPIENT_ROLE, RECIPIENT_ROLE_SYSTEM } from './consent-decision';
import { PSYCHOTHERAPY_NOTES, SHARE_CATEGORY_SYSTEM } from './share-category';

/** The resource types a consent may name as recipient (role IRCP). */
export const RECIPIENT_TYPES: ReadonlySet<string> = new Set(['Organization', 'Practitioner', 'PractitionerRole']);

/**
 * Write rule: claims the sharing-consent profile on every Consent, then refuses (422, or 400 for an inverted period)
 * a consent that could not be honoured as written. Resources of other types pass untouched.
 */
export const checkSharingConsent: WriteRule = async (next, current, tx) => {
  if (!isConsent(next)) {
    return;
  }
  claimSharingProfile(next);
  assertPeriodInOrder(next.provision?.period);
  assertNoPsychotherapyNotes(next.provision);
  const patient = assertPerformersAreThePatient(next);
  const revocation = current !== undefined && next.status !== 'active';
  if (!revocation) {
    assertSupportedPurposes(next.provision);
    assertReferencesAsMatched(next);
  }
  if (patient && !revocation) {
    await assertCustodianOfExistingPatient(tx, patient, next.organization?.[0]);
    await assertRecipientsExist(tx, next.provision);
  }
};

function isConsent(resource: Resource): resource is Consent {
  return resource.resourceType === 'Consent';
}

function claimSharingProfile(consent: Consent): void {
  const profiles = consent.meta?.profile ?? [];
  if (!profiles.includes(SHARING_CONSENT_PROFILE)) {
    consent.meta = { ...consent.meta, profile: [...profiles, SHARING_CONSENT_PROFILE] };
  }
}

/** 400 when `period.end` is before `period.start`, both read as instants (partial dates by their first instant). */
function assertPeriodInOrder(period: Period | undefined): void {
  if (!period?.start || !period.end) {
    return;
  }
  const start = firstInstant(period.start);
  const end = firstInstant(period.end);
  // Unparseable values are left to validation, which names them precisely.
  if (!Number.isNaN(start) && !Number.isNaN(end) && end < start) {
    throw new OperationOutcomeError(badRequest('The consent period ends before it starts', 'Consent.provision.period'));
  }
}

/** The first instant of a FHIR date or dateTime (`2026`, `2026-05`, `2026-05-01` or a full dateTime), as epoch ms. */
function firstInstant(value: string): number {
  if (/^\d{4}$/.test(value)) {
    return Date.parse(`${value}-01-01T00:00:00Z`);
  }
  if (/^\d{4}-\d{2}$/.test(value)) {
    return Date.parse(`${value}-01T00:00:00Z`);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return Date.parse(`${value}T00:00:00Z`);
  }
  return Date.parse(value);
}

function assertNoPsychotherapyNotes(provision: ConsentProvision | undefined): void {
  (provision?.code ?? []).forEach((concept, index) => {
    if (concept.coding?.some((c) => c.system === SHARE_CATEGORY_SYSTEM && c.code === PSYCHOTHERAPY_NOTES)) {
      refuse('Psychotherapy notes never leave the practice: no consent can share them', `Consent.provision.code[${index}]`);
    }
  });
}

/** A reference as consents are matched: `Type/id`, relative, without a version or a base URL. */
const MATCHED_REFERENCE = /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * 422 for a reference the server cannot resolve as it will match it: the grant index, the custodian check and the
 * recipient's identities compare `Type/id` exactly, so `Organization/x/_history/1` or an absolute URL would be stored
 * and grant nothing, and the client would be told it shared when it did not. Checks the patient, every performer,
 * every organization and every IRCP actor (nested provisions included).
 */
function assertReferencesAsMatched(consent: Consent): void {
  const check = (reference: Reference | undefined, expression: string): void => {
    if (reference?.reference !== undefined && !MATCHED_REFERENCE.test(reference.reference)) {
      refuse('A consent names resources of this server as Type/id, without a version or base URL', expression);
    }
  };
  check(consent.patient, 'Consent.patient');
  (consent.performer ?? []).forEach((performer, index) => check(performer, `Consent.performer[${index}]`));
  (consent.organization ?? []).forEach((organization, index) => check(organization, `Consent.organization[${index}]`));
  const checkProvision = (provision: ConsentProvision | undefined, path: string): void => {
    (provision?.actor ?? []).forEach((actor, index) => {
      if (actor.role?.coding?.some((c) => c.system === RECIPIENT_ROLE_SYSTEM && c.code === RECIPIENT_ROLE)) {
        check(actor.reference, `${path}.actor[${index}].reference`);
      }
    });
    (provision?.provision ?? []).forEach((nested, index) => checkProvision(nested, `${path}.provision[${index}]`));
  };
  checkProvision(consent.provision, 'Consent.provision');
}

/** 422 for a purpose that is not one of the supported v3-ActReason codes in that code system. */
function assertSupportedPurposes(provision: ConsentProvision | undefined): void {
  (provision?.purpose ?? []).forEach((purpose, index) => {
    if (purpose.system !== PURPOSE_OF_USE_SYSTEM || purpose.code === undefined || !PURPOSES_OF_USE.has(purpose.code)) {
      refuse(
        `A purpose of use is one of ${[...PURPOSES_OF_USE].join(', ')} in ${PURPOSE_OF_USE_SYSTEM}`,
        `Consent.provision.purpose[${index}]`,
      );
    }
  });
}

/**
 * The patient the consent is about; every performer must be that patient (only the client grants consent). Returns
 * undefined when `patient` is absent, which the profile's validation reports.
 */
function assertPerformersAreThePatient(consent: Consent): ReferenceTarget | undefined {
  const reference = consent.patient?.reference;
  if (reference === undefined) {
    return undefined;
  }
  const patient = parseRelativeReference(reference);
  if (patient?.resourceType !== 'Patient') {
    refuse('The consent must reference a Patient of this server', 'Consent.patient');
  }
  (consent.performer ?? []).forEach((performer, index) => {
    const target = performer.reference === undefined ? undefined : parseRelativeReference(performer.reference);
    if (target?.resourceType !== 'Patient' || target.id !== patient.id) {
      refuse('The performer of a sharing consent is the client it is about', `Consent.performer[${index}]`);
    }
  });
  return patient;
}

/** 422 unless the patient exists and `organization` is its managingOrganization (the custodian). */
async function assertCustodianOfExistingPatient(tx: Queryable, patient: ReferenceTarget, organization: Reference | undefined): Promise<void> {
  const row = await lockPatientCustodian(tx, patient.id);
  if (!row) {
    refuse('The consent references a patient that does not exist', 'Consent.patient');
  }
  if (organization?.reference === undefined) {
    return; // Consent.organization is required by the profile; validation reports its absence.
  }
  const custodian = row.custodian === undefined ? undefined : parseRelativeReference(row.custodian);
  const named = parseRelativeReference(organization.reference);
  if (!custodian || named?.resourceType !== 'Organization' || named.id !== custodian.id || custodian.resourceType !== 'Organization') {
    refuse("The consent's organization must be the client's custodian (Patient.managingOrganization)", 'Consent.organization[0]');
  }
}

/**
 * 422 unless every recipient (actor with role IRCP) is a local reference to an existing Organization, Practitioner or
 * PractitionerRole, and there is at least one.
 */
async function assertRecipientsExist(tx: Queryable, provision: ConsentProvision | undefined): Promise<void> {
  const actors = provision?.actor;
  if (!actors) {
    return; // provision.actor is required by the profile; validation reports its absence.
  }
  const wanted: Array<{ index: number; target: ReferenceTarget }> = [];
  actors.forEach((actor, index) => {
    if (!actor.role?.coding?.some((c) => c.system === RECIPIENT_ROLE_SYSTEM && c.code === RECIPIENT_ROLE)) {
      return;
    }
    const expression = `Consent.provision.actor[${index}].reference`;
    const reference = actor.reference?.reference;
    const target = reference === undefined ? undefined : parseRelativeReference(reference);
    if (!target) {
      refuse('A recipient must be a reference to an Organization, Practitioner or PractitionerRole of this server', expression);
    }
    if (!RECIPIENT_TYPES.has(target.resourceType)) {
      refuse(`A recipient must be an Organization, Practitioner or PractitionerRole, not a ${target.resourceType}`, expression);
    }
    wanted.push({ index, target });
  });
  if (wanted.length === 0) {
    refuse('A sharing consent names at least one recipient (an actor with role IRCP)', 'Consent.provision.actor');
  }
  const existing = await lockLiveResources(tx, wanted.map((w) => w.target));
  const missing = wanted.find((w) => !existing.has(`${w.target.resourceType}/${w.target.id}`));
  if (missing) {
    refuse(
      `The recipient ${missing.target.resourceType} does not exist`,
      `Consent.provision.actor[${missing.index}].reference`,
    );
  }
}

function refuse(text: string, expression: string): never {
  throw new OperationOutcomeError(unprocessable(text, expression));
}
