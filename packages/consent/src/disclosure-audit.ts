/**
 * The audit trail of disclosure: an AuditEvent for every disclosure of a client's information to a recipient, and for
 * every read a consent did not permit. One event per client per request, filed in that client's compartment (entity
 * `Patient/x`), so the client reads it with `AuditEvent?patient=Patient/x` and no one else's.
 *
 * Written before the data leaves (the repository awaits the recorder): a disclosure whose audit cannot be written is
 * not made.
 */
import type { AccessRecorder, Denial, Disclosure, Repository } from '@carecircle/store';
import { computePatientCompartments } from '@carecircle/store';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Reference, Resource } from '@medplum/fhirtypes';
import { PURPOSE_OF_USE_SYSTEM, type Recipient } from './consent-decision';
import { recipientReferences } from './consent-grants';

const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

export interface AuditContext {
  /** Where AuditEvents are written: a repository with the server's own (full) access. */
  auditRepository: Repository;
  recipient: Recipient;
  /** The OAuth client the recipient called through. */
  clientId: string;
  purpose: string;
  requestId: string;
  now: () => Date;
  /**
   * `Patient/x` of the clients whose consents the recipient holds grants under: what is shown of them is a disclosure.
   * Anything else the caller sees, it sees in its own right (its own clients, directory resources) and is not audited.
   */
  grantedPatients: ReadonlySet<string>;
}

/** A recorder writing disclosure and denial AuditEvents for `context.recipient`. */
export function createDisclosureRecorder(context: AuditContext): AccessRecorder {
  return {
    async recordDisclosure(disclosure: Disclosure): Promise<void> {
      for (const [patient, resources] of byClient(disclosure.resources, context.grantedPatients)) {
        await context.auditRepository.create(auditEvent(context, disclosure.interaction, patient, resources.map(versionedReference), 'disclosed'));
      }
    },
    async recordDenial(denial: Denial): Promise<void> {
      for (const patient of denial.compartments) {
        await context.auditRepository.create(
          auditEvent(context, denial.interaction, patient, [{ reference: `${denial.resourceType}/${denial.id}` }], 'denied'),
        );
      }
    },
  };
}

/** The resources shown under grants, grouped by the client whose compartment they are in. */
function byClient(resources: readonly Resource[], grantedPatients: ReadonlySet<string>): Map<string, Resource[]> {
  const groups = new Map<string, Resource[]>();
  for (const resource of resources) {
    for (const patient of computePatientCompartments(resource).filter((p) => grantedPatients.has(p))) {
      groups.set(patient, [...(groups.get(patient) ?? []), resource]);
    }
  }
  return groups;
}

function versionedReference(resource: Resource): Reference {
  const version = resource.meta?.versionId;
  return { reference: `${resource.resourceType}/${resource.id}${version ? `/_history/${version}` : ''}` };
}

function auditEvent(
  context: AuditContext,
  interaction: string,
  patient: string,
  what: Reference[],
  result: 'disclosed' | 'denied',
): AuditEvent {
  const agents: AuditEventAgent[] = recipientReferences(context.recipient).map((reference) => ({
    who: { reference },
    requestor: true,
  }));
  agents.push({ who: { identifier: { system: 'https://carecircle.dev/fhir/oauth-client', value: context.clientId } }, requestor: false });
  const entities: AuditEventEntity[] = [
    { what: { reference: patient }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } },
    ...what.map((reference) => ({ what: reference, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' } })),
  ];
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'Restful Operation' },
    subtype: [{ system: RESTFUL_INTERACTION, code: interaction === 'search' ? 'search-type' : interaction }],
    action: interaction === 'search' ? 'E' : 'R',
    recorded: context.now().toISOString(),
    outcome: result === 'disclosed' ? '0' : '4',
    outcomeDesc: result === 'disclosed' ? 'Disclosed under consent' : 'Denied: no consent permits it',
    purposeOfEvent: [{ coding: [{ system: PURPOSE_OF_USE_SYSTEM, code: context.purpose }] }],
    agent: agents,
    source: { observer: { display: 'CareCircle API' }, site: context.requestId },
    entity: entities,
  };
}
