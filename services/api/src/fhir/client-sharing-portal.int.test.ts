/**
 * What the client's sharing portal does with a client's token (the demo's CLIENT_SCOPE, `patient/*.rs
 * patient/Consent.cu`), over HTTP with PostgreSQL and Redis: find the providers the practice works with in the
 * directory (OrganizationAffiliation, which the practice keeps), preview what a provider would get
 * (`$summary?recipient=`), give, change, stop and look back on sharing (Consent and its history), and read who saw what
 * (AuditEvent by date, agent and entity type).
 */
import type { AuditEvent, Bundle, Consent, Observation, OrganizationAffiliation, Resource } from '@medplum/fhirtypes';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

const CLIENT_SCOPE = 'patient/*.rs patient/Consent.cu';

let t: TestApp;
let practice: string;
let otherPractice: string;
let obgyn: string;
let pelvicPt: string;
let urology: string;
let practiceToken: string;
let otherPracticeToken: string;
let obgynToken: string;
let clientToken: string;
let client: string;
let otherClient: string;
let affiliations: OrganizationAffiliation[];
let note: Resource;

const as = (token: string) => fhirClient(t, token);
const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const matches = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as Resource);
const includes = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource as Resource);

function tagged<T extends Resource>(resource: T, category: ShareCategory): T {
  return { ...resource, meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } };
}

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

function affiliation(organization: string, participating: string, more: Partial<OrganizationAffiliation> = {}): OrganizationAffiliation {
  return {
    resourceType: 'OrganizationAffiliation',
    active: true,
    period: { start: '2023-01-01' },
    organization: { reference: organization },
    participatingOrganization: { reference: participating },
    code: [{ coding: [{ system: 'http://hl7.org/fhir/organization-role', code: 'provider' }] }],
    specialty: [{ coding: [{ system: 'http://snomed.info/sct', code: '394585009', display: 'Obstetrics and gynecology' }] }],
    ...more,
  };
}

/** The share categories of a $summary's sections. */
function sections(bundle: Bundle): string[] {
  const composition = bundle.entry?.[0]?.resource as { section?: { code?: { coding?: { code?: string }[] } }[] };
  return (composition.section ?? []).flatMap((s) => s.code?.coding?.[0]?.code ?? []).sort();
}

async function auditCount(patient: string): Promise<number> {
  return ((await as(practiceToken).get(`AuditEvent?patient=${patient}&_summary=count`)).body as Bundle).total ?? -1;
}

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.adminToken;
  practice = ref(await created(admin, buildOrganization({ name: 'Riverside Sex Therapy' })));
  otherPractice = ref(await created(admin, buildOrganization({ name: 'Hillside Counselling' })));
  obgyn = ref(await created(admin, buildOrganization({ name: 'Harbour OB-GYN' })));
  pelvicPt = ref(await created(admin, buildOrganization({ name: 'Harbour Pelvic Health' })));
  urology = ref(await created(admin, buildOrganization({ name: 'Northside Urology' })));
  const doctor = await created(admin, buildPractitioner({ name: [{ family: 'Obi' }] }));
  await created(admin, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: ref(doctor) }, organization: { reference: obgyn } });
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  otherPracticeToken = await (await registerSystemClient(t, otherPractice, 'system/*.cruds')).token();
  obgynToken = await (await registerSystemClient(t, obgyn, 'system/*.rs')).token();
  client = ref(await created(practiceToken, buildPatient({ name: [{ family: 'Rivera' }] })));
  otherClient = ref(await created(practiceToken, buildPatient({ name: [{ family: 'Lee' }] })));
  const clientId = client.slice('Patient/'.length);
  for (const category of ['treatment-goals', 'mental-health', 'sexual-history'] as const) {
    await created(practiceToken, tagged(buildObservation(clientId), category));
  }
  note = await created(practiceToken, tagged<Observation>(buildObservation(clientId, { code: { text: 'Session note' } }), 'psychotherapy-notes'));
  affiliations = [
    await created(practiceToken, affiliation(practice, obgyn)),
    await created(practiceToken, affiliation(practice, pelvicPt, { specialty: [{ coding: [{ system: 'http://snomed.info/sct', code: '722138006', display: 'Physiotherapy' }] }] })),
  ];
  // Ended: no longer offered.
  await created(practiceToken, affiliation(practice, urology, { active: false, period: { start: '2020-01-01', end: '2022-01-01' } }));
  await created(otherPracticeToken, affiliation(otherPractice, urology));
  await created(practiceToken, {
    ...buildSharingConsent({ patient: client, custodian: practice, recipients: [obgyn], categories: ['treatment-goals', 'mental-health'] }),
    sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' },
  });
  const appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu');
  clientToken = (await logInUser(t, appId, { fhirUser: client }, CLIENT_SCOPE)).access_token;
});
afterAll(async () => {
  await t.close();
});

describe('the directory: the providers the practice works with (OrganizationAffiliation)', () => {
  test('a client finds the practice\'s active affiliations with the partner organizations included', async () => {
    // R4's parameter for OrganizationAffiliation.organization is primary-organization; `organization` is not one (400).
    const res = await as(clientToken).get(
      `OrganizationAffiliation?primary-organization=${practice}&active=true&_include=OrganizationAffiliation:participating-organization`,
    );
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    expect(matches(bundle).map(ref).sort()).toEqual(affiliations.map(ref).sort());
    expect(includes(bundle).map(ref).sort()).toEqual([obgyn, pelvicPt].sort());
    // By specialty too.
    const bySpecialty = (await as(clientToken).get(`OrganizationAffiliation?primary-organization=${practice}&specialty=http://snomed.info/sct|722138006`)).body as Bundle;
    expect(matches(bySpecialty).map((a) => (a as OrganizationAffiliation).participatingOrganization?.reference)).toEqual([pelvicPt]);
    const unknown = await as(clientToken).get(`OrganizationAffiliation?organization=${practice}`);
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('Unknown or unsupported search parameter: organization');
  });

  test('a client reads Organization, Practitioner and PractitionerRole of the directory', async () => {
    expect((await as(clientToken).get(obgyn)).status).toBe(200);
    const roles = (await as(clientToken).get(`PractitionerRole?organization=${obgyn}&_include=PractitionerRole:practitioner`)).body as Bundle;
    expect(matches(roles)).toHaveLength(1);
    expect(includes(roles).map((r) => r.resourceType)).toEqual(['Practitioner']);
    expect((await as(clientToken).get(`Practitioner?_count=10`)).status).toBe(200);
  });

  test('a practice writes only its own affiliations; a client and a partner write none', async () => {
    const own = affiliations[0] as OrganizationAffiliation;
    const moved = await as(practiceToken).put(ref(own), { ...own, organization: { reference: otherPractice } });
    expect(moved.status).toBe(403);
    const ended = await as(practiceToken).put(ref(own), { ...own, active: false, period: { start: '2023-01-01', end: '2030-01-01' } });
    expect(ended.status).toBe(200);
    expect((await as(practiceToken).put(ref(own), { ...own, meta: undefined })).status).toBe(200);

    const theirs = await created(otherPracticeToken, affiliation(otherPractice, obgyn));
    expect((await as(practiceToken).put(ref(theirs), { ...theirs, active: false })).status).toBe(403);
    expect((await as(practiceToken).post('OrganizationAffiliation', affiliation(otherPractice, pelvicPt))).status).toBe(403);
    expect((await as(clientToken).post('OrganizationAffiliation', affiliation(practice, pelvicPt))).status).toBe(403);
    const partner = await (await registerSystemClient(t, obgyn, 'system/*.cruds')).token();
    expect((await as(partner).post('OrganizationAffiliation', affiliation(practice, obgyn))).status).toBe(403);
    // Everyone reads the directory.
    expect((await as(obgynToken).get(ref(theirs))).status).toBe(200);
    const removed = await t.http.delete(`/fhir/R4/${ref(theirs)}`).set('Authorization', `Bearer ${otherPracticeToken}`);
    expect(removed.status).toBe(204);
  });
});

describe('the client previews what a provider would get ($summary?recipient=)', () => {
  test('the preview has exactly the sections the recipient\'s own $summary has, never a psychotherapy note, and is not audited', async () => {
    const before = await auditCount(client);
    const preview = await as(clientToken).get(`${client}/$summary?recipient=${obgyn}`);
    expect(preview.status).toBe(200);
    expect(await auditCount(client)).toBe(before);
    const own = (await as(obgynToken).get(`${client}/$summary`)).body as Bundle;
    expect(sections(preview.body as Bundle)).toEqual(sections(own));
    expect(sections(preview.body as Bundle)).toEqual(['mental-health', 'treatment-goals']);
    expect((preview.body as Bundle).entry?.map((e) => e.resource && ref(e.resource))).not.toContain(ref(note));
  });

  test('a recipient the client shares nothing with gets nothing shared', async () => {
    const preview = (await as(clientToken).get(`${client}/$summary?recipient=${urology}`)).body as Bundle;
    expect(sections(preview)).toEqual([]);
    expect(preview.entry?.map((e) => e.resource?.resourceType)).toEqual(['Composition']);
  });

  test('another client\'s id stays 404', async () => {
    expect((await as(clientToken).get(`${otherClient}/$summary?recipient=${obgyn}`)).status).toBe(404);
    expect((await as(clientToken).get(`${otherClient}/$summary`)).status).toBe(404);
  });
});

describe('the client gives, changes and stops sharing, and reads its accounting of disclosures', () => {
  let consent: Consent;

  test('Consent?patient= lists the own consents, the practice\'s recordings included', async () => {
    const res = await as(clientToken).get(`Consent?patient=${client}`);
    expect(res.status).toBe(200);
    expect(matches(res.body as Bundle)).toHaveLength(1);
    expect((await as(clientToken).get(`Consent?patient=${otherClient}`)).status).toBe(200);
    expect(matches((await as(clientToken).get(`Consent?patient=${otherClient}`)).body as Bundle)).toHaveLength(0);
  });

  test('creates a consent, narrows and widens it (categories and period), stops it, and reads its history', async () => {
    consent = await created(clientToken, buildSharingConsent({ patient: client, custodian: practice, recipients: [pelvicPt], categories: ['treatment-goals', 'sexual-history'] }));
    const pelvicToken = await (await registerSystemClient(t, pelvicPt, 'system/*.rs')).token();
    const seen = async () => sections((await as(pelvicToken).get(`${client}/$summary`)).body as Bundle);
    expect(await seen()).toEqual(['sexual-history', 'treatment-goals']);

    const narrowed = await as(clientToken).put(ref(consent), {
      ...consent,
      provision: { ...consent.provision, code: [{ coding: [{ system: SHARE_CATEGORY_SYSTEM, code: 'treatment-goals' }] }], period: { start: '2024-01-01', end: '2099-12-31' } },
    });
    expect(narrowed.status).toBe(200);
    expect((narrowed.body as Consent).meta?.versionId).toBe('2');
    expect(await seen()).toEqual(['treatment-goals']);

    const widened = await as(clientToken).put(ref(consent), {
      ...(narrowed.body as Consent),
      provision: {
        ...(narrowed.body as Consent).provision,
        code: ['treatment-goals', 'mental-health', 'sexual-history'].map((code) => ({ coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] })),
      },
    });
    expect(widened.status).toBe(200);
    expect(await seen()).toEqual(['mental-health', 'sexual-history', 'treatment-goals']);

    const stopped = await as(clientToken).put(ref(consent), { ...(widened.body as Consent), status: 'inactive' });
    expect(stopped.status).toBe(200);
    expect((await as(pelvicToken).get(`${client}/$summary`)).status).toBe(404);

    const history = await as(clientToken).get(`${ref(consent)}/_history`);
    expect(history.status).toBe(200);
    expect((history.body as Bundle).entry?.map((e) => (e.resource as Consent).meta?.versionId)).toEqual(['4', '3', '2', '1']);
    expect((await as(clientToken).get(`${ref(consent)}/_history/2`)).status).toBe(200);
  });

  test('AuditEvent?patient= sorted by -date, with date, agent and entity-type', async () => {
    // A disclosure to the OB-GYN, and a denial (the psychotherapy note).
    expect((await as(obgynToken).get(client)).status).toBe(200);
    expect((await as(obgynToken).get(ref(note))).status).toBe(404);
    const res = await as(clientToken).get(`AuditEvent?patient=${client}&_sort=-date&_count=50`);
    expect(res.status).toBe(200);
    const events = matches(res.body as Bundle) as AuditEvent[];
    expect(events.length).toBeGreaterThan(0);
    const recorded = events.map((e) => e.recorded);
    expect(recorded).toEqual([...recorded].sort().reverse());

    const since = new Date(Date.now() - 3600_000).toISOString();
    const byAgent = matches((await as(clientToken).get(`AuditEvent?patient=${client}&agent=${obgyn}&date=ge${since}&_sort=-date&_count=50`)).body as Bundle) as AuditEvent[];
    expect(byAgent.length).toBeGreaterThan(0);
    expect(byAgent.every((e) => e.agent?.some((a) => a.who?.reference === obgyn))).toBe(true);
    expect(matches((await as(clientToken).get(`AuditEvent?patient=${client}&date=lt2000-01-01`)).body as Bundle)).toHaveLength(0);
    // entity-type is the audit-entity-type of an entity: 1 Person (the client), 2 System Object (a resource).
    const objects = (await as(clientToken).get(`AuditEvent?patient=${client}&entity-type=http://terminology.hl7.org/CodeSystem/audit-entity-type|2&_count=50`)).body as Bundle;
    expect(matches(objects).length).toBeGreaterThan(0);
    // The denial of the note is itself about a psychotherapy note: the client is not shown it.
    expect(events.some((e) => e.entity?.some((entity) => entity.what?.reference?.startsWith(ref(note))))).toBe(false);
    expect((await as(clientToken).get(`AuditEvent?patient=${otherClient}`)).status).toBe(200);
    expect(matches((await as(clientToken).get(`AuditEvent?patient=${otherClient}`)).body as Bundle)).toHaveLength(0);
  });
});
