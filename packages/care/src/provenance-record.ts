/**
 * Provenance for care-plan changes (issue 5: "every change versioned with Provenance"): who made which version of a
 * CarePlan, Goal, CareTeam (or any resource), written in the same transaction as the change, so there is never a
 * version without its Provenance or a Provenance without its version.
 *
 * Each Provenance points at the exact version (`Type/id/_history/v`) and also lists the client (`Patient/{id}`) as a
 * target: R4 places a Provenance in a patient compartment only through `target.where(resolve() is Patient)`, and
 * custodianship and consent work over compartments, so without it nobody but the admin could write or read it. It
 * carries the share-category tag and security labels of what it describes, so it is disclosed exactly as that is.
 */
import type { Provenance, ProvenanceAgent, Resource } from '@medplum/fhirtypes';
import type { Caller } from '@carecircle/auth';
import { SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { computePatientCompartments, type Repository } from '@carecircle/store';

/** What the change did, as v3-DataOperation codes. */
export type ProvenanceActivity = 'CREATE' | 'UPDATE';

/** Who made a change: a Practitioner, PractitionerRole, Organization, Patient, RelatedPerson or Device. */
export type ProvenanceAgentReference = ProvenanceAgent['who'];

/** Provenance.activity codes. */
export const DATA_OPERATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
/** Provenance.agent.type codes (`author`). */
export const PROVENANCE_PARTICIPANT_SYSTEM = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

export interface ProvenanceOptions {
  /** When the change was recorded; now by default. */
  now?: Date;
}

export interface ProvenancedWrite<T extends Resource> {
  resource: T;
  provenance: Provenance;
}

/**
 * Records that `agent` made (`CREATE`) or changed (`UPDATE`) `target`, which must be a stored version (id and
 * meta.versionId set). Writes through `repository`, so the caller's access applies; returns the stored Provenance.
 */
export async function recordProvenance(
  repository: Repository,
  target: Resource,
  activity: ProvenanceActivity,
  agent: ProvenanceAgentReference,
  options: ProvenanceOptions = {},
): Promise<Provenance> {
  if (!target.id || !target.meta?.versionId) {
    throw new Error('recordProvenance needs a stored version (id and meta.versionId)');
  }
  const patients = target.resourceType === 'Patient' ? [] : computePatientCompartments(target);
  const tags = (target.meta.tag ?? []).filter((tag) => tag.system === SHARE_CATEGORY_SYSTEM);
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: {
      ...(tags.length > 0 ? { tag: tags } : {}),
      ...(target.meta.security ? { security: target.meta.security } : {}),
    },
    target: [
      { reference: `${target.resourceType}/${target.id}/_history/${target.meta.versionId}` },
      ...patients.map((reference) => ({ reference })),
    ],
    recorded: (options.now ?? new Date()).toISOString(),
    activity: { coding: [{ system: DATA_OPERATION_SYSTEM, code: activity }] },
    agent: [{ type: { coding: [{ system: PROVENANCE_PARTICIPANT_SYSTEM, code: 'author' }] }, who: agent }],
  };
  return (await repository.create(provenance)).resource;
}

/**
 * Performs `write` and records its Provenance in one transaction: both are stored, or neither. `write` must write
 * through the repository it is handed (the transaction's); the activity is `CREATE` for a version 1, else `UPDATE`.
 * (A conditional create that matched an existing resource still gets a Provenance: callers should not wrap those.)
 */
export async function withProvenance<T extends Resource>(
  repository: Repository,
  write: (repository: Repository) => Promise<T>,
  agent: ProvenanceAgentReference,
  options: ProvenanceOptions = {},
): Promise<ProvenancedWrite<T>> {
  return repository.transaction(async (tx) => {
    const resource = await write(tx);
    const activity: ProvenanceActivity = resource.meta?.versionId === '1' ? 'CREATE' : 'UPDATE';
    const provenance = await recordProvenance(tx, resource, activity, agent, options);
    return { resource, provenance };
  });
}

/** The Provenance agent for a caller: the practitioner or client who logged in, a system's organization, the operator. */
export function callerAgent(caller: Caller): ProvenanceAgentReference {
  switch (caller.kind) {
    case 'admin':
      return { display: 'CareCircle administrator' };
    case 'system':
      return { reference: caller.organization };
    case 'practitioner':
    case 'patient':
      return { reference: caller.fhirUser };
    default:
      return caller satisfies never;
  }
}
