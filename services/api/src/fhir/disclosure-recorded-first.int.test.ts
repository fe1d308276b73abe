/**
 * Nothing is disclosed unrecorded (DESIGN.md, "Audit events"): a partner's answer leaves only once the AuditEvent
 * recording it is committed, and when the record cannot be written the answer is an error that carries none of the
 * client's information. Shown by holding a lock the record's write needs (the note_record table, which the event's
 * statement writes and a partner's read of a client's Patient or Observations does not touch): the answer waits for
 * the lock, and once the statement timeout ends the wait, the answer is 503 without the data.
 */
import type { AuditEvent, Bundle, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { sql } from '@carecircle/store';
import { buildObservation, buildOrganization, minimalPatient } from '@carecircle/testing';
import { registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

const TIMEOUT_MS = 1000;
/** Shorter than the statement timeout: the write waits, then succeeds. */
const HELD_MS = 400;
const FAMILY = 'Quillfeather';

let t: TestApp;
let clinicToken: string;
let client: Patient;
let observation: Observation;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

/** The AuditEvents committed for the request `requestId`, read straight from the database (no caller's view). */
async function recordsOf(requestId: string): Promise<AuditEvent[]> {
  const { rows } = await t.services.db.query<{ content: AuditEvent }>(sql`
    SELECT content FROM resource_version WHERE resource_type = 'AuditEvent' AND content #>> '{source,site}' = ${requestId}`);
  return rows.map((row) => row.content);
}

/**
 * Sends `request` while a transaction of the test's own holds note_record exclusively, for `holdMs` or until the
 * answer comes; says whether the answer came while the lock was still held.
 */
async function whileRecordsLocked<T>(holdMs: number, request: () => PromiseLike<T>): Promise<{ answer: T; answeredWhileLocked: boolean }> {
  let answered = false;
  let locked = true;
  let answer!: Promise<T>;
  let answeredWhileLocked = false;
  await t.services.db.transaction(async (tx) => {
    await tx.query(sql`LOCK TABLE note_record IN ACCESS EXCLUSIVE MODE`);
    answer = Promise.resolve(request()).finally(() => {
      answered = true;
      answeredWhileLocked = locked;
    });
    const until = Date.now() + holdMs;
    while (!answered && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // From here the lock is being let go: an answer that comes now came after it.
    locked = false;
  });
  return { answer: await answer, answeredWhileLocked };
}

beforeAll(async () => {
  t = await createTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) });
  const practice = ref(await created(t.adminToken, buildOrganization({ name: 'Riverside Therapy' })));
  const clinic = ref(await created(t.adminToken, buildOrganization({ name: 'Eastside Clinic' })));
  const practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.rs')).token();
  client = await created(practiceToken, minimalPatient(FAMILY, 'Wren', { managingOrganization: { reference: practice } }));
  await created(practiceToken, {
    ...buildSharingConsent({ custodian: practice, patient: ref(client), recipients: [clinic], categories: ['progress'], purposes: ['TREAT'] }),
    sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' },
  });
  observation = await created(practiceToken, {
    ...buildObservation(client.id as string),
    meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] },
  });
});
afterAll(async () => {
  await t.close();
});

const partnerRequests: Array<[string, () => string]> = [
  ['a read', () => `Patient/${client.id}`],
  ['a search', () => `Observation?subject=${ref(client)}`],
  ['a vread', () => `Observation/${observation.id}/_history/${observation.meta?.versionId}`],
];

describe.each(partnerRequests)('%s by a partner under consent', (_name, path) => {
  test('answers only after its AuditEvent is committed', async () => {
    const { answer, answeredWhileLocked } = await whileRecordsLocked(HELD_MS, () => fhirClient(t, clinicToken).get(path()));
    expect(answer.status).toBe(200);
    expect(answeredWhileLocked).toBe(false);
    const records = await recordsOf(answer.get('x-request-id') as string);
    expect(records.map((r) => r.outcome)).toEqual(['0']);
  });

  test('when its AuditEvent cannot be written, answers 503 with none of the client’s information', async () => {
    const { answer } = await whileRecordsLocked(TIMEOUT_MS * 4, () => fhirClient(t, clinicToken).get(path()));
    expect({ status: answer.status, type: (answer.body as Resource).resourceType }).toEqual({ status: 503, type: 'OperationOutcome' });
    const text = JSON.stringify(answer.body as OperationOutcome);
    for (const secret of [FAMILY, client.id as string, observation.id as string]) {
      expect(text).not.toContain(secret);
    }
    expect(await recordsOf(answer.get('x-request-id') as string)).toEqual([]);
  });
});

test('the same search answers again once the records can be written, and each answer has its record', async () => {
  const res = await fhirClient(t, clinicToken).get(`Observation?subject=${ref(client)}`);
  expect(res.status).toBe(200);
  expect(((res.body as Bundle).entry ?? []).map((e) => e.resource?.id)).toEqual([observation.id]);
  expect(await recordsOf(res.get('x-request-id') as string)).toHaveLength(1);
});
