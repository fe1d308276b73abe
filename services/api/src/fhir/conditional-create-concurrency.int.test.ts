/**
 * Concurrent conditional creates over HTTP against PostgreSQL: requests whose If-None-Exist spells one search
 * differently (encoded, with `_format`, with or without the identifier's system) create one resource between them; the
 * others answer 200 with it. Each round races its requests with Promise.all on a fresh identifier.
 */
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import { registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const SYSTEM = 'http://x';
const ROUNDS = 5;

let t: TestApp;
let practiceToken: string;

beforeAll(async () => {
  t = await createTestApp();
  const practice = await fhirClient(t, t.adminToken).post('Organization', buildOrganization({ name: 'Conditional' }));
  practiceToken = await (await registerSystemClient(t, `Organization/${practice.body.id}`, 'system/*.cruds')).token();
});
afterAll(async () => {
  await t.close();
});

/** Races one conditional create per If-None-Exist value; answers their statuses and the Patients that now exist. */
async function race(value: string, conditions: readonly string[]): Promise<{ statuses: number[]; stored: Patient[] }> {
  const body = buildPatient({ identifier: [{ system: SYSTEM, value }] });
  const answers = await Promise.all(
    conditions.map((condition) => fhirClient(t, practiceToken, { 'If-None-Exist': condition }).post('Patient', body)),
  );
  const found = await fhirClient(t, practiceToken).get(`Patient?identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}&_count=100`);
  expect(found.status).toBe(200);
  return { statuses: answers.map((a) => a.status), stored: ((found.body as Bundle).entry ?? []).map((e) => e.resource as Patient) };
}

test('four spellings of one identifier search, raced, create one Patient', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const value = `ID-${round}-${Date.now()}`;
    const { statuses, stored } = await race(value, [
      `identifier=${SYSTEM}|${value}`,
      `identifier=${encodeURIComponent(SYSTEM)}%7C${value}`,
      `identifier=${SYSTEM}|${value}&_format=json`,
      `identifier=${value}`,
    ]);
    expect({ round, created: statuses.filter((s) => s === 201).length, existing: statuses.filter((s) => s === 200).length, stored: stored.length }).toEqual({
      round,
      created: 1,
      existing: 3,
      stored: 1,
    });
  }
});

test('reordered parameters, repeated values and answer-shaping parameters are one search too', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const value = `RE-${round}-${Date.now()}`;
    const { statuses, stored } = await race(value, [
      `identifier=${SYSTEM}|${value}&_count=1`,
      `_pretty=true&identifier=${value}&identifier=${value}`,
      `identifier=${value},${value}&_summary=false&_sort=_id`,
      `identifier=${SYSTEM}|${value}`,
      `identifier=${SYSTEM}|${value}`,
    ]);
    expect({ round, created: statuses.filter((s) => s === 201).length, stored: stored.length }).toEqual({ round, created: 1, stored: 1 });
  }
});
