/**
 * fhir-kit-client (2.x) against CareCircle configured with nothing but the base URL and a bearer token: create, read,
 * search and paging by the `next` link, upsert (conditional update, `update({ searchParams })`), conditional delete
 * (its generic `request` with DELETE, the client having no conditional delete of its own) and history.
 */
import { buildObservation, buildPatient } from '@carecircle/testing';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { startListeningApi, type ListeningApi } from './listening-api';

const IDS = 'https://clinic.example/ids';

interface FhirKitClient {
  create(params: { resourceType: string; body: object }): Promise<unknown>;
  read(params: { resourceType: string; id: string }): Promise<unknown>;
  search(params: { resourceType: string; searchParams: Record<string, string | number> }): Promise<unknown>;
  nextPage(params: { bundle: Bundle }): Promise<unknown> | undefined;
  update(params: { resourceType: string; searchParams?: Record<string, string>; id?: string; body: object }): Promise<unknown>;
  request(url: string, params: { method: string }): Promise<unknown>;
  resourceHistory(params: { resourceType: string; id: string }): Promise<unknown>;
}

let api: ListeningApi;
let client: FhirKitClient;

beforeAll(async () => {
  api = await startListeningApi();
  // ESM-only package: loaded through Node's loader.
  const { Client } = (await import('fhir-kit-client')) as unknown as { Client: new (config: { baseUrl: string; bearerToken: string }) => FhirKitClient };
  client = new Client({ baseUrl: api.fhirBase, bearerToken: api.token });
});
afterAll(async () => {
  await api.close();
});

test('create, read, search with paging, upsert, conditional delete and history', async () => {
  const patient = (await client.create({ resourceType: 'Patient', body: buildPatient({ managingOrganization: { reference: api.practice } }) })) as Patient;
  expect(patient.id).toBeDefined();
  expect(((await client.read({ resourceType: 'Patient', id: patient.id as string })) as Patient).id).toBe(patient.id);

  for (const value of ['o1', 'o2', 'o3']) {
    await client.create({ resourceType: 'Observation', body: buildObservation(patient.id as string, { identifier: [{ system: IDS, value }] }) });
  }
  const seen: string[] = [];
  let page = (await client.search({ resourceType: 'Observation', searchParams: { subject: `Patient/${patient.id}`, _count: 2 } })) as Bundle | undefined;
  let pages = 0;
  while (page) {
    pages++;
    seen.push(...(page.entry ?? []).map((e) => (e.resource as Observation).identifier?.[0]?.value as string));
    page = (await client.nextPage({ bundle: page })) as Bundle | undefined;
  }
  expect(pages).toBe(2);
  expect(seen.sort()).toEqual(['o1', 'o2', 'o3']);

  const upsert = { resourceType: 'Patient', identifier: [{ system: IDS, value: 'p-1' }], managingOrganization: { reference: api.practice } };
  const first = (await client.update({ resourceType: 'Patient', searchParams: { identifier: `${IDS}|p-1` }, body: upsert })) as Patient;
  const second = (await client.update({ resourceType: 'Patient', searchParams: { identifier: `${IDS}|p-1` }, body: { ...upsert, active: true } })) as Patient;
  expect(second.id).toBe(first.id);
  expect(second.meta?.versionId).toBe('2');

  await client.request(`Observation?identifier=${encodeURIComponent(`${IDS}|o1`)}`, { method: 'DELETE' });
  const after = (await client.search({ resourceType: 'Observation', searchParams: { identifier: `${IDS}|o1` } })) as Bundle;
  expect(after.total ?? after.entry?.length ?? 0).toBe(0);

  const history = (await client.resourceHistory({ resourceType: 'Patient', id: first.id as string })) as Bundle;
  expect(history.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2', '1']);
});
