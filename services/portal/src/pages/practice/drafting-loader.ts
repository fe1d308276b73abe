/**
 * What drafting a coordinated update needs from the API, as the signed-in practitioner: the practice's clients (the
 * Patients whose `managingOrganization` is one of the practitioner's organizations, through the practitioner's
 * PractitionerRoles), one client, the providers the client shares with (active Consents and what they cover), the
 * client's record by share category, and the reason a client gave for declining an update. The API decides what the practitioner may read; a client of another practice
 * answers 404 and is the 404 page.
 */
import type { Communication, Consent, Patient, PractitionerRole, Resource } from '@medplum/fhirtypes';
import type { FhirApi } from '../../fhir-api';
import { PortalError } from '../../http/portal-error';
import { NEVER_SHARED_CATEGORY, SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { isFhirId } from '../sharing/sharing-loader';
import { loadNamed } from '../updates/update-loader';
import { nameOf, shareCategoryOf } from './referral-board';

/** The kinds of clinical record the API serves (DESIGN.md) that a chart shows, each searched by `patient`. */
const CHART_TYPES = ['Condition', 'Observation', 'Goal', 'CarePlan', 'CareTeam', 'DocumentReference'] as const;
/** At most this many records of each kind. */
const CHART_PAGE = 100;
const IRCP = 'IRCP';

export type ClientPatient = Patient & { id: string };

/** The organizations the practitioner works for (active PractitionerRoles). */
export async function loadPractices(api: FhirApi): Promise<string[]> {
  const roles = await api.search<PractitionerRole>(`/PractitionerRole?practitioner=${encodeURIComponent(api.practitioner)}&active=true&_count=50`);
  return [...new Set((roles.entry ?? []).map((e) => e.resource?.organization?.reference).filter((r): r is string => Boolean(r?.startsWith('Organization/'))))];
}

/** The practice's clients, by family name. */
export async function loadPracticeClients(api: FhirApi): Promise<ClientPatient[]> {
  const practices = await loadPractices(api);
  if (practices.length === 0) {
    return [];
  }
  const bundle = await api.search<Patient>(`/Patient?organization=${encodeURIComponent(practices.join(','))}&_count=200`);
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((p): p is ClientPatient => p?.resourceType === 'Patient' && Boolean(p.id))
    .sort((a, b) => (a.name?.[0]?.family ?? '').localeCompare(b.name?.[0]?.family ?? ''));
}

/** One client the practitioner may see (else the 404 page). */
export async function loadClient(api: FhirApi, patientId: string | undefined): Promise<ClientPatient> {
  if (typeof patientId !== 'string' || !isFhirId(patientId)) {
    throw new PortalError(404, 'notFound');
  }
  const patient = await api.read<Patient>(`/Patient/${patientId}`);
  if (patient.resourceType !== 'Patient' || !patient.id) {
    throw new PortalError(404, 'notFound');
  }
  return patient as ClientPatient;
}

/** A provider the client shares with, by name, and the categories the client's active consents let it see. */
export interface SharingRecipient {
  readonly reference: string;
  readonly name: string;
  readonly categories: ReadonlySet<string>;
}

/** The providers the client's active consents name, with the categories they cover (a union over consents). */
export async function loadSharingRecipients(api: FhirApi, patient: ClientPatient): Promise<SharingRecipient[]> {
  const bundle = await api.search<Consent>(`/Consent?patient=Patient/${patient.id}&status=active&_count=200`);
  const categories = new Map<string, Set<string>>();
  const now = Date.now();
  for (const consent of (bundle.entry ?? []).map((e) => e.resource)) {
    if (consent?.resourceType !== 'Consent' || consent.status !== 'active' || consent.provision?.type === 'deny') {
      continue;
    }
    const period = consent.provision?.period;
    if ((period?.end && Date.parse(period.end) < now) || (period?.start && Date.parse(period.start) > now)) {
      continue;
    }
    const codes = (consent.provision?.code ?? []).flatMap((c) => c.coding ?? []).filter((c) => c.system === SHARE_CATEGORY_SYSTEM && c.code);
    for (const actor of consent.provision?.actor ?? []) {
      const reference = actor.reference?.reference;
      if (!reference || !actor.role?.coding?.some((c) => c.code === IRCP)) {
        continue;
      }
      const set = categories.get(reference) ?? new Set<string>();
      codes.forEach((c) => set.add(c.code as string));
      categories.set(reference, set);
    }
  }
  const named = await loadNamed(api, [...categories.keys()]);
  return [...categories.entries()]
    .map(([reference, set]) => ({ reference, name: nameOf({ reference }, named) ?? reference, categories: set }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The client's record, by share category (psychotherapy notes left out: they never go in an update). */
export async function loadChart(api: FhirApi, patient: ClientPatient): Promise<Map<string, Resource[]>> {
  const bundles = await Promise.all(CHART_TYPES.map((type) => api.search(`/${type}?patient=Patient/${patient.id}&_count=${CHART_PAGE}`)));
  const chart = new Map<string, Resource[]>();
  for (const resource of bundles.flatMap((b) => (b.entry ?? []).filter((e) => (e.search?.mode ?? 'match') === 'match').map((e) => e.resource))) {
    const category = shareCategoryOf(resource);
    if (!resource?.id || !category || category === NEVER_SHARED_CATEGORY) {
      continue;
    }
    chart.set(category, [...(chart.get(category) ?? []), resource]);
  }
  return chart;
}

/** The coordinated-update events the API records as Communications (a decline's reason among them). */
const UPDATE_EVENT_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/update-event';

/** The reason the client gave for declining update `compositionId` (a Communication about it), if any. */
export async function loadDeclineReason(api: FhirApi, patientId: string, compositionId: string): Promise<string | undefined> {
  const bundle = await api.search<Communication>(
    `/Communication?subject=Patient/${patientId}&category=${encodeURIComponent(`${UPDATE_EVENT_SYSTEM}|declined`)}&_sort=-sent&_count=50`,
  );
  const message = (bundle.entry ?? [])
    .map((e) => e.resource)
    .find((c) => c?.about?.some((a) => a.reference === `Composition/${compositionId}` || a.reference?.startsWith(`Composition/${compositionId}/`)));
  return message?.payload?.map((p) => p.contentString?.trim()).find(Boolean);
}
