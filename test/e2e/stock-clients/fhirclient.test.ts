/**
 * SMART on FHIR's fhirclient (2.x, its Node entry) against CareCircle configured with nothing but the server URL and
 * a token obtained beforehand (`client({ serverUrl, tokenResponse: { access_token } })`; a backend service has no
 * launch, so no incoming request or session): create, read, search with its `pageLimit` following `next` links,
 * upsert (conditional update), conditional delete and history through `request`.
 */
import { buildObservation, buildPatient } from '@carecircle/testing';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import smart from 'fhirclient';
import { startListeningApi, type ListeningApi } from './listening-api';

const IDS = 'https://clinic.example/ids';

let api: ListeningApi;
let client: ReturnType<ReturnType<typeof smart>['client']>;

beforeAll(async () => {
  api = await startListeningApi();
  client = smart(undefined as never, undefined as never).client({ serverUrl: api.fhirBase, tokenResponse: { access_token: api.token } });
});
afterAll(async () => {
  await api.close();
});

test('create, read, search with paging, upsert, conditional delete and history', async () => {
  const patient = (await client.create(buildPatient({ managingOrganization: { reference: api.practice } }) as never)) as Patient;
  expect(((await client.request(`Patient/${patient.id}`)) as Patient).id).toBe(patient.id);

  for (const value of ['o1', 'o2', 'o3']) {
    await client.create(buildObservation(patient.id as string, { identifier: [{ system: IDS, value }] }) as never);
  }
  const pages = (await client.request(`Observation?subject=Patient/${patient.id}&_count=2`, { pageLimit: 0 })) as Bundle[];
  expect(pages).toHaveLength(2);
  expect(pages.flatMap((b) => (b.entry ?? []).map((e) => (e.resource as Observation).identifier?.[0]?.value)).sort()).toEqual(['o1', 'o2', 'o3']);

  const upsert = { resourceType: 'Patient', identifier: [{ system: IDS, value: 'p-1' }], managingOrganization: { reference: api.practice } };
  const put = (body: object) =>
    client.request({
      url: `Patient?identifier=${encodeURIComponent(`${IDS}|p-1`)}`,
      method: 'PUT',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/fhir+json' },
    }) as Promise<Patient>;
  const first = await put(upsert);
  const second = await put({ ...upsert, active: true });
  expect(second.id).toBe(first.id);
  expect(second.meta?.versionId).toBe('2');

  await client.delete(`Observation?identifier=${encodeURIComponent(`${IDS}|o1`)}`);
  const after = (await client.request(`Observation?identifier=${encodeURIComponent(`${IDS}|o1`)}`)) as Bundle;
  expect(after.entry ?? []).toHaveLength(0);

  const history = (await client.request(`Patient/${first.id}/_history`)) as Bundle;
  expect(history.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2', '1']);
});
