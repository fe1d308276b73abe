/**
 * @medplum/core's MedplumClient against CareCircle configured with nothing but the base URL (origin and `fhir/R4`)
 * and a bearer token (`setAccessToken`): createResource, readResource, searchResourcePages (following `next`),
 * upsertResource (conditional update), a conditional delete (`delete` of the search URL, as MedplumClient builds it
 * with `fhirSearchUrl`) and readHistory.
 */
import { MedplumClient } from '@medplum/core';
import { buildObservation, buildPatient } from '@carecircle/testing';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { startListeningApi, type ListeningApi } from './listening-api';

const IDS = 'https://clinic.example/ids';

let api: ListeningApi;
let medplum: MedplumClient;

beforeAll(async () => {
  api = await startListeningApi();
  medplum = new MedplumClient({ baseUrl: api.origin, fhirUrlPath: 'fhir/R4' });
  medplum.setAccessToken(api.token);
});
afterAll(async () => {
  await api.close();
});

test('create, read, search with paging, upsert, conditional delete and history', async () => {
  const patient = await medplum.createResource<Patient>(buildPatient({ managingOrganization: { reference: api.practice } }));
  expect((await medplum.readResource('Patient', patient.id)).id).toBe(patient.id);

  for (const value of ['o1', 'o2', 'o3']) {
    await medplum.createResource<Observation>(buildObservation(patient.id, { identifier: [{ system: IDS, value }] }));
  }
  const pages: string[][] = [];
  for await (const page of medplum.searchResourcePages('Observation', { subject: `Patient/${patient.id}`, _count: 2 })) {
    pages.push(page.map((o) => o.identifier?.[0]?.value as string));
  }
  expect(pages).toHaveLength(2);
  expect(pages.flat().sort()).toEqual(['o1', 'o2', 'o3']);

  const upsert: Patient = { resourceType: 'Patient', identifier: [{ system: IDS, value: 'p-1' }], managingOrganization: { reference: api.practice } };
  const first = await medplum.upsertResource(upsert, { identifier: `${IDS}|p-1` });
  const second = await medplum.upsertResource({ ...upsert, active: true }, { identifier: `${IDS}|p-1` });
  expect(second.id).toBe(first.id);
  expect(second.meta?.versionId).toBe('2');

  await medplum.delete(medplum.fhirSearchUrl('Observation', { identifier: `${IDS}|o1` }));
  expect(await medplum.searchResources('Observation', { identifier: `${IDS}|o1` }, { cache: 'no-cache' })).toHaveLength(0);

  const history = await medplum.readHistory('Patient', first.id);
  expect(history.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2', '1']);
});
