/**
 * Which side of a referral Task the current caller is on (DESIGN.md, "who may see what"):
 *
 * - the **owner** side: the partner in `Task.owner`. An Organization owner is matched by the caller's organization
 *   (its systems and practitioners); a PractitionerRole owner by the role's organization (the partner practice acts
 *   as one, as consents match a practitioner through its organization) while the role is in force (not inactive,
 *   within its period: a role outside it names nobody); a Practitioner owner only by that practitioner's own login.
 * - the **requester** side: the custodian, i.e. the caller's organization is the `managingOrganization` of the Task's
 *   patient.
 * - the admin is on both sides; so is the server's own caller (auth's SERVER_CALLER), which acts as the admin.
 * - a client (patient login) is on neither.
 *
 * Facts come from the stored rows in the write's transaction, never from the body being written.
 */
import type { Reference, Task } from '@medplum/fhirtypes';
import type { Caller } from '@carecircle/auth';
import { periodCovers } from '@carecircle/consent';
import type { Queryable } from '@carecircle/store';
import { parseRelativeReference } from '@carecircle/fhir';
import { readCurrent, referenceTo } from './current-resources';
import type { TaskParty } from './referral-task';

/** The sides of `task` that `caller` is on (empty: neither). */
export async function resolveTaskParties(caller: Caller, task: Task, tx: Queryable): Promise<ReadonlySet<TaskParty>> {
  switch (caller.kind) {
    case 'admin':
      return new Set<TaskParty>(['owner', 'requester']);
    case 'patient':
      return new Set<TaskParty>();
    case 'system':
    case 'practitioner': {
      const parties = new Set<TaskParty>();
      if (await isOwner(caller, task.owner, tx)) {
        parties.add('owner');
      }
      if (await isCustodian(caller.organization, task.for, tx)) {
        parties.add('requester');
      }
      return parties;
    }
    default:
      return caller satisfies never;
  }
}

/** A caller acting for an organization: a practice's or partner's system or practitioner. */
export type OrganizationCaller = Extract<Caller, { kind: 'system' | 'practitioner' }>;

/** True when `caller` is (or acts for) the party `owner` references: an Organization, PractitionerRole or Practitioner. */
export async function isOwner(caller: OrganizationCaller, owner: Reference | undefined, tx: Queryable): Promise<boolean> {
  const target = parseRelativeReference(owner?.reference);
  if (target?.resourceType === 'Organization') {
    return owner?.reference === caller.organization;
  }
  if (target?.resourceType === 'Practitioner') {
    return caller.kind === 'practitioner' && owner?.reference === caller.fhirUser;
  }
  if (target?.resourceType === 'PractitionerRole') {
    const role = await readCurrent(tx, 'PractitionerRole', target.id);
    return role?.organization?.reference === caller.organization && role.active !== false && periodCovers(role.period, new Date());
  }
  return false;
}

async function isCustodian(organization: string, subject: Reference | undefined, tx: Queryable): Promise<boolean> {
  const patient = referenceTo(subject?.reference, 'Patient');
  if (!patient) {
    return false;
  }
  const stored = await readCurrent(tx, 'Patient', patient.id);
  return stored?.managingOrganization?.reference === organization;
}
