/**
 * `GET Patient/{id}/$summary[?recipient=Organization/x]`: the client's record as a FHIR document — a Bundle of type
 * document, Composition first, one section per share category the caller may see, each with a readable narrative and
 * its entries. Everything is read through the caller's repository, so a partner's summary holds exactly what consent
 * permits; the whole summary is one disclosure, audited as one AuditEvent per client. With `recipient`, the custodian
 * or the client itself previews what that recipient would get, within what the asker's own scopes let it read (so
 * never a psychotherapy note, which no recipient gets either); a preview discloses nothing and is not audited.
 */
import { randomUUID } from 'node:crypto';
import { markBundleAgainstRedisclosure, SHARE_CATEGORIES, SHARE_CATEGORY_SYSTEM, withOneAuditEventPerClient, type ShareCategory } from '@carecircle/consent';
import { getConformanceResource, OperationOutcomeError } from '@carecircle/fhir';
import { getSupportedSearchParameters, type Repository } from '@carecircle/store';
import type { Bundle, CodeSystem, Composition, CompositionSection, Patient, Resource } from '@medplum/fhirtypes';
import { assertCustodianOrClient } from './custodian-check';
import type { OperationContext } from './operation-context';
import { defineOperation } from './operation-definition';
import { parseRecipientReference } from './recipient-reference';

/** The types a summary gathers, in the order sections list them. */
const SUMMARY_TYPES = [
  'Condition',
  'Goal',
  'CarePlan',
  'CareTeam',
  'ServiceRequest',
  'Task',
  'Observation',
  'Communication',
  'DocumentReference',
  'Composition',
  'Basic',
] as const;

const MAX_ENTRIES_PER_TYPE = 1000;

/** The $summary operation on Patient. */
export const PATIENT_SUMMARY = defineOperation({
  resourceType: 'Patient',
  name: 'summary',
  level: 'instance',
  parameters: { recipient: { type: 'Reference' } },
  // The entries a partner is shown are marked against re-disclosure when the audit is written, so the Bundle after it.
  invoke: async (context, args, id) => markBundleAgainstRedisclosure(await withOneAuditEventPerClient('operation', () => summarize(context, id, args.recipient))),
});

async function summarize(context: OperationContext, id: string, recipientParam: string | undefined): Promise<Bundle> {
  const patient = await context.repository.read<Patient>('Patient', id);
  if (recipientParam === undefined) {
    return summaryDocument(patient, await gatherCompartment(context.repository, id), context.baseUrl, true);
  }
  // A preview for the custodian, or for the client before (or after) sharing: what this recipient would get now.
  // Another client's id never gets here (the read above is 404 for it). Without any grant the recipient would not
  // even see the client, so the preview is a document with nothing shared.
  assertCustodianOrClient(context.caller, patient, true);
  const recipients = await context.resolveRecipients(parseRecipientReference(recipientParam));
  const view = await context.recipientView(recipients, context.purpose);
  const seesClient = await view.read('Patient', id).then(
    () => true,
    () => false,
  );
  const resources = seesClient ? await gatherCompartment(view, id) : [];
  return summaryDocument(patient, resources, context.baseUrl, seesClient);
}

async function gatherCompartment(repository: Repository, patientId: string): Promise<Resource[]> {
  const gathered: Resource[] = [];
  for (const type of SUMMARY_TYPES) {
    const names = getSupportedSearchParameters(type).map((p) => p.name);
    const param = names.includes('patient') ? 'patient' : names.includes('subject') ? 'subject' : undefined;
    if (!param) {
      continue;
    }
    try {
      const { matches } = await repository.search(type, new URLSearchParams({ [param]: `Patient/${patientId}`, _count: String(MAX_ENTRIES_PER_TYPE), _total: 'none' }));
      gathered.push(...matches);
    } catch (err) {
      // A type outside the caller's scopes simply has no section.
      if (err instanceof OperationOutcomeError && err.outcome.id === 'forbidden') {
        continue;
      }
      throw err;
    }
  }
  return gathered;
}

function categoryOf(resource: Resource): ShareCategory | undefined {
  const code = resource.meta?.tag?.find((t) => t.system === SHARE_CATEGORY_SYSTEM)?.code;
  return SHARE_CATEGORIES.find((c) => c === code);
}

function summaryDocument(patient: Patient, resources: Resource[], baseUrl: string, includePatient: boolean): Bundle {
  const codeSystem = getConformanceResource('CodeSystem', 'share-category') as CodeSystem | undefined;
  const display = (code: ShareCategory) => codeSystem?.concept?.find((c) => c.code === code)?.display ?? code;
  const fullUrl = (r: Resource) => `${baseUrl}/${r.resourceType}/${r.id}`;
  const sections: CompositionSection[] = SHARE_CATEGORIES.flatMap((category) => {
    const entries = resources.filter((r) => categoryOf(r) === category);
    if (entries.length === 0) {
      return [];
    }
    return [
      {
        title: display(category),
        code: { coding: [{ system: SHARE_CATEGORY_SYSTEM, code: category, display: display(category) }] },
        text: { status: 'generated', div: narrative(display(category), entries) },
        entry: entries.map((r) => ({ reference: `${r.resourceType}/${r.id}` })),
      },
    ];
  });
  const now = new Date().toISOString();
  const composition: Composition = {
    resourceType: 'Composition',
    id: randomUUID(),
    status: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '34133-9', display: 'Summary of episode note' }] },
    subject: { reference: `Patient/${patient.id}` },
    date: now,
    author: [patient.managingOrganization ?? { display: 'CareCircle' }],
    title: 'Care coordination summary',
    section: sections.length > 0 ? sections : [{ title: 'No information shared', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Nothing in this record is shared with you.</p></div>' }, emptyReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'withheld' }] } }],
  };
  return {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    timestamp: now,
    entry: [
      { fullUrl: `urn:uuid:${composition.id}`, resource: composition },
      ...(includePatient ? [{ fullUrl: fullUrl(patient), resource: patient }] : []),
      ...resources.filter((r) => categoryOf(r) !== undefined).map((r) => ({ fullUrl: fullUrl(r), resource: r })),
    ],
  };
}

function narrative(title: string, entries: Resource[]): string {
  const items = entries.map((r) => `<li>${escapeHtml(describe(r))}</li>`).join('');
  return `<div xmlns="http://www.w3.org/1999/xhtml"><h3>${escapeHtml(title)}</h3><ul>${items}</ul></div>`;
}

/** A one-line human description: type, what it is, and when. */
function describe(resource: Resource): string {
  const r = resource as Resource & {
    code?: { text?: string; coding?: { display?: string }[] };
    description?: { text?: string } | string;
    title?: string;
    status?: string;
    effectiveDateTime?: string;
    authoredOn?: string;
    sent?: string;
    date?: string;
  };
  const what =
    r.code?.text ??
    r.code?.coding?.[0]?.display ??
    (typeof r.description === 'string' ? r.description : r.description?.text) ??
    r.title ??
    '';
  const when = r.effectiveDateTime ?? r.authoredOn ?? r.sent ?? r.date ?? '';
  return [resource.resourceType, what, r.status, when].filter(Boolean).join(' · ');
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
