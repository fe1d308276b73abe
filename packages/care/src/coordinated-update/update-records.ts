/**
 * The records of a coordinated update's lifecycle: for each step (drafted, edited, submitted, withdrawn, approved,
 * declined, released) a Provenance of the version it made (who, when; the client's approval carries the electronic
 * signature) and an AuditEvent filed with the client, so the client reads every step in the accounting
 * (`AuditEvent?patient=`). Both take the update's labels (the share-label rule sees to it), so they are disclosed no
 * more widely than the update. Built here, written by whoever writes the step (update-drafting.ts, update-workflow.ts).
 */
import { DEFAULT_PURPOSE, PURPOSE_OF_USE_SYSTEM, UPDATE_EVENT_SYSTEM } from '@carecircle/consent';
import type { AuditEvent, Composition, Provenance, Reference, Signature } from '@medplum/fhirtypes';
import type { ProvenanceAgentReference } from '../provenance-record';

/** A step of an update's lifecycle (CodeSystem update-event). */
export type UpdateEvent = 'drafted' | 'edited' | 'submitted' | 'withdrawn' | 'approved' | 'declined' | 'released';

const EVENT_DISPLAY: Readonly<Record<UpdateEvent, string>> = {
  drafted: 'Drafted',
  edited: 'Draft edited',
  submitted: "Submitted for the client's approval",
  withdrawn: 'Withdrawn',
  approved: 'Approved by the client',
  declined: 'Declined by the client',
  released: 'Released to the recipient',
};

/** ASTM E1762 signature type of the client's approval. */
const APPROVAL_SIGNATURE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5', display: 'Approval Signature' };

/** The client's electronic signature: the typed name, the instant, the statement agreed to. */
export interface ElectronicSignature {
  name: string;
  statement: string;
  signed: Date;
}

function versionOf(update: Composition): Reference {
  return { reference: `Composition/${update.id ?? ''}/_history/${update.meta?.versionId ?? ''}` };
}

/** The Provenance of `update`'s version made by `event`, by `agent`; with the client's signature for an approval. */
export function updateProvenance(update: Composition, event: UpdateEvent, agent: ProvenanceAgentReference, now: Date, signature?: ElectronicSignature): Provenance {
  const signed: Signature[] = signature
    ? [
        {
          type: [APPROVAL_SIGNATURE],
          when: signature.signed.toISOString(),
          who: agent,
          sigFormat: 'text/plain; charset=utf-8',
          data: Buffer.from(`${signature.name}\n${signature.signed.toISOString()}\n${signature.statement}`, 'utf8').toString('base64'),
        },
      ]
    : [];
  return {
    resourceType: 'Provenance',
    target: [versionOf(update), ...(update.subject?.reference ? [{ reference: update.subject.reference }] : [])],
    recorded: now.toISOString(),
    activity: { coding: [{ system: UPDATE_EVENT_SYSTEM, code: event, display: EVENT_DISPLAY[event] }] },
    agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }] }, who: agent }],
    ...(signed.length > 0 ? { signature: signed } : {}),
  };
}

/** The AuditEvent of `event` on `update`'s version, filed with its client. */
export function updateAuditEvent(update: Composition, event: UpdateEvent, agent: ProvenanceAgentReference, now: Date): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' },
    subtype: [{ system: UPDATE_EVENT_SYSTEM, code: event, display: EVENT_DISPLAY[event] }],
    action: event === 'drafted' ? 'C' : 'U',
    recorded: now.toISOString(),
    outcome: '0',
    outcomeDesc: `Coordinated update: ${EVENT_DISPLAY[event].toLowerCase()}`,
    purposeOfEvent: [{ coding: [{ system: PURPOSE_OF_USE_SYSTEM, code: DEFAULT_PURPOSE }] }],
    agent: [{ who: agent, requestor: true }],
    source: { observer: { display: 'CareCircle API' } },
    entity: [
      {
        what: { reference: update.subject?.reference ?? '' },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      },
      { what: versionOf(update), type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' } },
    ],
  };
}
