/**
 * The access policy of a caller (contract: "who may see what"), handed to the repository, which applies it to every
 * read, search, include, history, count and write. Two layers:
 *
 * 1. Scopes, per interaction: `read`/`vread`/`history` need `r`, `search` needs `s`, `create` `c`, `update`/`patch`
 *    `u`, `delete` `d`, in the caller's contexts (systems `system/`, practitioners `user/`, clients `patient/`).
 *    Outside them: 403.
 * 2. Custodianship, as conditions over `rv` (resource_version) that store writes (tables/client-custody.ts), so
 *    invisible resources are absent from pages and counts:
 *    - Shared directory and conformance types ({@link SHARED_RESOURCE_TYPES}) are readable by every caller whose
 *      scopes allow.
 *    - Every other type is a client's data (or not yet shared with anyone, fail-closed), visible only:
 *      to a practice (its systems and practitioners: callers with organization O) for the Patients whose current
 *      `managingOrganization` is `Organization/O` and the resources in those Patients' compartments (a deleted
 *      Patient stays with its last custodian);
 *      to a client (fhirUser `Patient/p`) for the own Patient and the own compartment, except psychotherapy notes;
 *      to nobody else (the consent issue widens this to what active Consents permit).
 *    - The admin has full access.
 *
 * Who may write what:
 *    - The admin: anything.
 *    - A practice (systems and practitioners of O): Patients managed by O (a new Patient gets
 *      `managingOrganization` O when it has none; naming another organization, or moving a Patient away, is 403), and
 *      any resource whose Patient references all point at Patients managed by O, with at least one (a clinical
 *      resource about nobody, or about a client of another practice, is 403; changing one it cannot see is 404).
 *      Of the directory, the OrganizationAffiliations whose `organization` is O (the providers the practice works
 *      with, which its clients are offered); other directory and conformance resources only through the admin.
 *    - A client: the own Consents (every Patient reference in them is the client), nothing else.
 */
import {
  describedReferences,
  DESCRIBING_RECORD_TYPES,
  missingScopeText,
  parseScopes,
  permissionFor,
  scopesPermit,
  SHARED_RESOURCE_TYPES,
  type Caller,
  type OrganizationReference,
  type ScopeContext,
} from '@carecircle/auth';
import {
  badRequest,
  forbidden,
  NOTE_CUSTODIAN_URL,
  notFound,
  OperationOutcomeError,
  parseRelativeReference,
  patientReferences,
  unprocessable,
} from '@carecircle/fhir';
import type { Resource } from '@medplum/fhirtypes';
import {
  findPatientsManagedBy,
  fullAccess,
  inCompartmentOfClientOf,
  inOwnCompartmentWithoutNotes,
  isClientOf,
  isPatient,
  isRecordOfClientOf,
  isVisibleTo,
  type AccessPolicy,
  type Interaction,
  type Queryable,
  type Sql,
} from '@carecircle/store';
import { assertSubscriptionWrite, ownedSubscriptions, type SubscriberCaller } from './subscription-ownership';

type WriteInteraction = 'create' | 'update' | 'patch' | 'delete';

/**
 * The policy for `caller`. Write checks look up which organization manages each Patient in the write's own
 * transaction, so a transaction that creates a Patient and its resources together sees the new Patient.
 */
export function createAccessPolicy(caller: Caller): AccessPolicy {
  switch (caller.kind) {
    case 'admin':
      return fullAccess;
    case 'system':
      return practicePolicy(caller, ['system']);
    case 'practitioner':
      return practicePolicy(caller, ['user']);
    case 'patient':
      return clientPolicy(caller.fhirUser.slice('Patient/'.length), parseScopes(caller.scope));
    default:
      return caller satisfies never;
  }
}

function scopeCheck(scopes: ReturnType<typeof parseScopes>, contexts: readonly ScopeContext[]) {
  return function assertInteraction(interaction: Interaction, resourceType: string): void {
    if (!scopesPermit(scopes, contexts, permissionFor(interaction), resourceType)) {
      // Keeps the id `forbidden` (callers such as $summary tell a scope refusal by it), with the scope it lacks.
      throw new OperationOutcomeError({
        ...forbidden,
        issue: [{ severity: 'error', code: 'forbidden', details: { text: missingScopeText(interaction, resourceType, contexts) } }],
      });
    }
  };
}

/**
 * The condition "this row belongs to a client of `organization`" over `rv`: a Patient row whose custodian it is, or a
 * row in such a Patient's compartment, unless it is a psychotherapy note held by another practice (a note stamped with
 * its practice is that practice's only, whoever manages the client now; notes stored before the stamp follow the
 * client's custodian). Records (Provenance, AuditEvent), which accumulate by the hundred thousand per client, are
 * judged by their compartments and the note_record index alone, never by what they describe.
 */
function custodiedBy(organization: OrganizationReference, resourceType: string): Sql {
  if (DESCRIBING_RECORD_TYPES.has(resourceType)) {
    return isRecordOfClientOf(organization, resourceType);
  }
  if (resourceType === 'Patient') {
    return isClientOf(organization);
  }
  return inCompartmentOfClientOf(organization, NOTE_CUSTODIAN_URL);
}

function managingOrganizationOf(resource: Resource | undefined): string | undefined {
  return resource?.resourceType === 'Patient' ? resource.managingOrganization?.reference : undefined;
}

function practicePolicy(caller: SubscriberCaller, contexts: readonly ScopeContext[]): AccessPolicy {
  const organization = caller.organization;
  const scopes = parseScopes(caller.scope);
  async function allManagedHere(tx: Queryable, patientIds: readonly string[]): Promise<boolean> {
    const unknown = [...new Set(patientIds)];
    if (unknown.length === 0) {
      return true;
    }
    const managed = await findPatientsManagedBy(tx, unknown, organization);
    return managed.length === unknown.length;
  }

  async function assertPatientWrite(
    interaction: WriteInteraction,
    next: Resource | undefined,
    current: Resource | undefined,
    tx: Queryable,
  ): Promise<void> {
    if (current && managingOrganizationOf(current) !== organization) {
      throw new OperationOutcomeError(notFound);
    }
    if (!next || next.resourceType !== 'Patient') {
      return;
    }
    if (interaction === 'create' && !next.managingOrganization) {
      // The repository stores `next` as given to the policy: a practice's new Patient is its own.
      next.managingOrganization = { reference: organization };
    }
    if (next.managingOrganization?.reference !== organization) {
      throw new OperationOutcomeError(forbidden);
    }
    const linked = patientReferences(next).filter((id) => id !== next.id);
    if (!(await allManagedHere(tx, linked))) {
      throw new OperationOutcomeError(forbidden);
    }
  }

  async function assertCompartmentWrite(next: Resource | undefined, current: Resource | undefined, tx: Queryable): Promise<void> {
    if (current) {
      const ids = patientReferences(current);
      if (ids.length === 0 || !(await allManagedHere(tx, ids))) {
        throw new OperationOutcomeError(notFound);
      }
    }
    if (next) {
      const ids = patientReferences(next);
      if (ids.length === 0 || !(await allManagedHere(tx, ids))) {
        throw new OperationOutcomeError(forbidden);
      }
    }
  }

  /**
   * A Provenance or AuditEvent takes the labels of what it describes, so it may describe only what the practice sees
   * (its clients' records, the shared directory): otherwise its answer would tell whether a hidden id exists, and its
   * category. An id that does not exist is refused alike.
   */
  async function assertDescribesOwnRecords(next: Resource | undefined, tx: Queryable): Promise<void> {
    for (const reference of next ? describedReferences(next) : []) {
      const target = parseRelativeReference(reference);
      if (!target) {
        continue;
      }
      if (!(await isVisibleTo(tx, policy, target.resourceType, target.id))) {
        const element = next?.resourceType === 'Provenance' ? 'Provenance.target' : 'AuditEvent.entity.what';
        throw new OperationOutcomeError(unprocessable(`Each ${element} must be a resource of your clients or the directory`, element));
      }
    }
  }

  const policy: AccessPolicy = {
    assertInteraction: scopeCheck(scopes, contexts),
    visibility(resourceType) {
      if (SHARED_RESOURCE_TYPES.has(resourceType)) {
        return undefined;
      }
      if (resourceType === 'Subscription') {
        return ownedSubscriptions(organization);
      }
      return custodiedBy(organization, resourceType);
    },
    async assertWrite(interaction, next, current, tx) {
      const resourceType = next?.resourceType ?? current?.resourceType;
      if (resourceType === 'OrganizationAffiliation') {
        assertOwnAffiliation(organization, next, current);
        return;
      }
      if (resourceType === undefined || SHARED_RESOURCE_TYPES.has(resourceType)) {
        throw new OperationOutcomeError(forbidden);
      }
      if (resourceType === 'Subscription') {
        assertSubscriptionWrite(caller, next, current);
      } else if (resourceType === 'Patient') {
        await assertPatientWrite(interaction, next, current, tx);
      } else {
        // Custodianship first: someone who may not record the consent at all hears 403, not what it would need.
        await assertCompartmentWrite(next, current, tx);
        await assertDescribesOwnRecords(next, tx);
        assertConsentRecordedOnRequest(next);
      }
    },
  };
  return policy;
}

/**
 * A practice keeps its own entries of the directory's affiliations: an OrganizationAffiliation it writes, and the one
 * it changes or deletes, has the practice as `organization` (exactly `Organization/{id}`). Everyone reads them (a
 * directory type), so one of another organization is 403, not 404; moving one to another organization is 403 too.
 */
function assertOwnAffiliation(organization: OrganizationReference, next: Resource | undefined, current: Resource | undefined): void {
  for (const resource of [current, next]) {
    if (resource?.resourceType === 'OrganizationAffiliation' && resource.organization?.reference !== organization) {
      throw new OperationOutcomeError({
        ...forbidden,
        issue: [
          {
            severity: 'error',
            code: 'forbidden',
            details: { text: `A practice writes only OrganizationAffiliations whose organization is its own (${organization})` },
            expression: ['OrganizationAffiliation.organization'],
          },
        ],
      });
    }
  }
}

/**
 * A practice records a client's sharing consent only on the client's written request, so the signed form must come
 * with it (Consent.sourceAttachment); a client's own consents need no form.
 */
function assertConsentRecordedOnRequest(next: Resource | undefined): void {
  if (next?.resourceType === 'Consent' && !next.sourceAttachment) {
    throw new OperationOutcomeError(
      badRequest("A practice records a client's consent only with the signed request attached (Consent.sourceAttachment)", 'Consent.sourceAttachment'),
    );
  }
}

function clientPolicy(patientId: string, scopes: ReturnType<typeof parseScopes>): AccessPolicy {
  const ownReference = `Patient/${patientId}`;
  const isOwnConsent = (resource: Resource | undefined): boolean =>
    resource?.resourceType === 'Consent' &&
    resource.patient?.reference === ownReference &&
    patientReferences(resource).every((id) => id === patientId);

  return {
    assertInteraction: scopeCheck(scopes, ['patient']),
    visibility(resourceType) {
      if (SHARED_RESOURCE_TYPES.has(resourceType)) {
        return undefined;
      }
      if (resourceType === 'Patient') {
        return isPatient(patientId);
      }
      // Records (Provenance, AuditEvent): hidden when they are, or describe, a psychotherapy note, by the note_record
      // index, so the client's accounting of disclosures lists at the cost of its rows, not of re-reading each. A
      // deletion has no content and passes the tag check; the store shows it only with the version it deleted
      // (store-context.ts), so a deleted note stays as hidden as the note.
      return inOwnCompartmentWithoutNotes(ownReference, DESCRIBING_RECORD_TYPES.has(resourceType) ? resourceType : undefined);
    },
    assertWrite(interaction, next, current) {
      if (current && !isOwnConsent(current)) {
        throw new OperationOutcomeError(current.resourceType === 'Consent' ? notFound : forbidden);
      }
      if (interaction === 'delete' || !isOwnConsent(next)) {
        throw new OperationOutcomeError(forbidden);
      }
    },
  };
}
