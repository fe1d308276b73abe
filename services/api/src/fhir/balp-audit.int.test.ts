/**
 * The disclosure audit over HTTP in IHE BALP's shape (DESIGN.md, "Audit events"): a partner's read and search are
 * recorded as events claiming IHE.BasicAudit.PatientRead / PatientQuery, which validate against the profiles in
 * fhir-profiles/ (checked here: the server builds them and does not validate them again per request), naming the
 * consent version and provision that permitted each resource, with the search
 * as sent in the query entity; and $disclosure-check names the deciding consent version and provision, for a permit and
 * for a deny.
 */
import type { AuditEvent, Bundle, Consent, Observation, Parameters as FhirParameters, ParametersParameter, Patient, Resource } from '@medplum/fhirtypes';
import { BALP_OAUTH_TOKEN_PROFILE, BALP_PATIENT_QUERY_PROFILE, BALP_PATIENT_READ_PROFILE, buildSharingConsent, PERMITTED_BY_URL, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { validateFhirResource } from '@carecircle/fhir';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import { registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let practice: string;
let clinic: string;
let practiceToken: string;
let clinicToken: string;
let client: Patient;
let consent: Consent;
let observation: Observation;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;

function as(token: string, headers: Record<string, string> = {}) {
  return fhirClient(t, token, headers);
}

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

/** The client's AuditEvents written by the request with X-Request-Id `requestId`, as the practice reads them. */
async function auditOf(requestId: string): Promise<AuditEvent[]> {
  const res = await as(practiceToken).get(`AuditEvent?patient=${ref(client)}&_count=500`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent).filter((e) => e.source?.site === requestId);
}

function permittedBy(event: AuditEvent, reference: string): string[] {
  const entity = event.entity?.find((e) => e.what?.reference === reference);
  return (entity?.extension ?? [])
    .filter((e) => e.url === PERMITTED_BY_URL)
    .map((e) => (e.extension ?? []).map((part) => part.valueReference?.reference ?? part.valueString ?? part.valueCode).join(' '));
}

function part(parameter: ParametersParameter | undefined, name: string): unknown[] {
  return (parameter?.part ?? []).filter((p) => p.name === name).map((p) => p.valueReference?.reference ?? p.valueString ?? p.valueCode ?? p.valueCoding?.code);
}

beforeAll(async () => {
  t = await createTestApp();
  practice = `Organization/${(await created(t.adminToken, buildOrganization({ name: 'Riverside Therapy' }))).id}`;
  clinic = `Organization/${(await created(t.adminToken, buildOrganization({ name: 'Eastside Clinic' }))).id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.rs')).token();
  client = await created(practiceToken, buildPatient());
  const facts = { custodian: practice, patient: ref(client), recipients: [clinic], categories: ['progress' as const], purposes: ['TREAT'] };
  consent = await created(practiceToken, {
    ...buildSharingConsent(facts),
    sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' },
  });
  const tagged = buildObservation(client.id as string);
  observation = await created(practiceToken, { ...tagged, meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] } });
});
afterAll(async () => {
  await t.close();
});

test("a partner's read is a BALP PatientRead event naming the consent version and provision that permitted it", async () => {
  const headers = { 'X-Request-Id': `balp-read-${Date.now()}` };
  expect((await as(clinicToken, headers).get(ref(observation))).status).toBe(200);
  const [event, ...more] = await auditOf(headers['X-Request-Id']);
  expect(more).toEqual([]);
  expect(event?.meta?.profile).toContain(BALP_PATIENT_READ_PROFILE);
  expect(() => validateFhirResource(event as AuditEvent)).not.toThrow();
  expect(permittedBy(event as AuditEvent, `${ref(observation)}/_history/${observation.meta?.versionId}`)).toEqual([
    `Consent/${consent.id}/_history/${consent.meta?.versionId} Consent.provision progress`,
  ]);
  const clientAgent = event?.agent?.find((a) => a.type?.coding?.some((c) => c.code === '110152'));
  expect(clientAgent?.network?.address).toBeTruthy();
  const user = event?.agent?.find((a) => a.type?.coding?.some((c) => c.code === 'IRCP'));
  expect(user?.who?.reference).toBe(clinic);
  // The authorization it was made under: the access token's jti (BALP OAUTHaccessTokenUse), never the token itself.
  expect(event?.meta?.profile).toContain(BALP_OAUTH_TOKEN_PROFILE);
  const jti = (JSON.parse(Buffer.from(clinicToken.split('.')[1] as string, 'base64url').toString('utf8')) as { jti: string }).jti;
  expect(user?.policy).toEqual([jti]);
  expect(JSON.stringify(event)).not.toContain(clinicToken);
});

test("a partner's search is a BALP PatientQuery event with the search, as sent, base64 in entity.query", async () => {
  const headers = { 'X-Request-Id': `balp-search-${Date.now()}` };
  const search = `Observation?subject=${ref(client)}&_count=5`;
  expect((await as(clinicToken, headers).get(search)).status).toBe(200);
  const [event] = await auditOf(headers['X-Request-Id']);
  expect(event?.meta?.profile).toContain(BALP_PATIENT_QUERY_PROFILE);
  const query = event?.entity?.find((e) => e.role?.code === '24')?.query;
  expect(Buffer.from(query ?? '', 'base64').toString('utf8')).toBe(search);
  expect(event?.entity?.some((e) => e.what?.reference === `${ref(observation)}/_history/${observation.meta?.versionId}`)).toBe(true);
  // The grants in force came with the page's own statement (run-search.ts): the consent that permitted it is named.
  expect(permittedBy(event as AuditEvent, `${ref(observation)}/_history/${observation.meta?.versionId}`)).toEqual([
    `Consent/${consent.id}/_history/${consent.meta?.versionId} Consent.provision progress`,
  ]);
});

test('$disclosure-check names the deciding consent version and its provision, for a permit and for a deny', async () => {
  const permit = (await as(practiceToken).get(`Patient/${client.id}/$disclosure-check?recipient=${clinic}&category=progress`)).body as FhirParameters;
  expect(permit.parameter?.find((p) => p.name === 'permit')?.valueBoolean).toBe(true);
  const granted = permit.parameter?.filter((p) => p.name === 'provision');
  expect(granted).toHaveLength(1);
  expect(part(granted?.[0], 'consent')).toEqual([`Consent/${consent.id}/_history/${consent.meta?.versionId}`]);
  expect(part(granted?.[0], 'path')).toEqual(['Consent.provision']);
  expect(part(granted?.[0], 'code')).toEqual(['progress']);
  expect(part(granted?.[0], 'decision')).toEqual(['permit']);

  const deny = (await as(practiceToken).get(`Patient/${client.id}/$disclosure-check?recipient=${clinic}&category=mental-health`)).body as FhirParameters;
  expect(deny.parameter?.find((p) => p.name === 'permit')?.valueBoolean).toBe(false);
  const considered = deny.parameter?.filter((p) => p.name === 'provision');
  expect(considered).toHaveLength(1);
  expect(part(considered?.[0], 'consent')).toEqual([`Consent/${consent.id}/_history/${consent.meta?.versionId}`]);
  expect(part(considered?.[0], 'decision')).toEqual(['deny']);
  expect(part(considered?.[0], 'reason')).toEqual(['The provision does not list mental-health']);
});
