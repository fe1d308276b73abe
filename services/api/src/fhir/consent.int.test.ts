/**
 * Consent-gated disclosure (issue 4), end to end over HTTP with real tokens, PostgreSQL and Redis: a partner sees
 * exactly what the client's consents permit, through every read path, before, during and after consent; every
 * disclosure and denial is audited; revocation works on the very next request.
 */
import type { AuditEvent, Bundle, Consent, Goal, Parameters as FhirParameters, Patient, Resource } from '@medplum/fhirtypes';
import type { SharingConsentFacts } from '@carecircle/consent';
import { buildSharingConsent, decideDisclosure, SHARE_CATEGORIES, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';


let t: TestApp;
let admin: string;
let practice: string;
let obgyn: string;
let urology: string;
let practiceToken: string;
let obgynToken: string;
let urologyToken: string;
let obgynDoctorToken: string;
let clientToken: string;
let client: Patient;
let otherClient: Patient;

function tagged<T extends Resource>(resource: T, category: ShareCategory): T {
  return { ...resource, meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } };
}

function as(token: string, headers: Record<string, string> = {}) {
  return fhirClient(t, token, headers);
}

async function created<T extends Resource>(token: string, resource: T): Promise<T> {
  const res = await as(token).post(resource.resourceType, resource);
  if (res.status !== 201) {
    throw new Error(`create ${resource.resourceType} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body as T;
}

/** Every match of a search, following next links to the end. */
async function searchAll(token: string, query: string, headers: Record<string, string> = {}): Promise<Resource[]> {
  const found: Resource[] = [];
  let path: string | undefined = query;
  while (path) {
    const res = await as(token, headers).get(path);
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    found.push(...(bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as Resource));
    path = bundle.link?.find((l) => l.relation === 'next')?.url?.replace(`${t.services.config.fhirBaseUrl}/`, '');
  }
  return found;
}

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;

beforeAll(async () => {
  t = await createTestApp();
  admin = t.adminToken;
  practice = `Organization/${(await created(admin, buildOrganization({ name: 'Riverside Sex Therapy' }))).id}`;
  obgyn = `Organization/${(await created(admin, buildOrganization({ name: 'Eastside OB-GYN' }))).id}`;
  urology = `Organization/${(await created(admin, buildOrganization({ name: 'Northside Urology' }))).id}`;
  const doctor = await created(admin, buildPractitioner());
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  obgynToken = await (await registerSystemClient(t, obgyn, 'system/*.rs')).token();
  urologyToken = await (await registerSystemClient(t, urology, 'system/*.rs')).token();
  client = await created(practiceToken, buildPatient());
  otherClient = await created(practiceToken, buildPatient({ name: [{ family: 'Other' }] }));
  const appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu user/*.rs');
  obgynDoctorToken = (await logInUser(t, appId, { fhirUser: `Practitioner/${doctor.id}`, organization: obgyn }, 'user/*.rs')).access_token;
  clientToken = (await logInUser(t, appId, { fhirUser: `Patient/${client.id}` }, 'launch/patient patient/*.rs patient/Consent.cu')).access_token;
});
afterAll(async () => {
  await t.close();
});

describe('labels', () => {
  test('the server fills in the share category and its security labels', async () => {
    const goal = await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Reduce pain with penetration' }, subject: { reference: ref(client) } });
    expect(goal.meta?.tag).toEqual([expect.objectContaining({ system: SHARE_CATEGORY_SYSTEM, code: 'treatment-goals' })]);
    expect(goal.meta?.security).toEqual([expect.objectContaining({ code: 'R' })]);
    const trauma = await created(practiceToken, tagged(buildObservation(client.id as string), 'trauma-history'));
    expect(trauma.meta?.security?.map((c) => c.code)).toEqual(['V', 'SDV']);
  });

  test('a writer cannot lower a label', async () => {
    const trauma = await created(practiceToken, tagged(buildObservation(client.id as string), 'trauma-history'));
    const res = await as(practiceToken).put(`Observation/${trauma.id}`, { ...trauma, meta: { tag: trauma.meta?.tag, security: [] } });
    expect(res.status).toBe(200);
    expect((res.body as Resource).meta?.security?.map((c) => c.code)).toEqual(['V', 'SDV']);
  });
});

describe('writing consents', () => {
  const consentFor = (overrides: Partial<SharingConsentFacts> = {}) =>
    buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [obgyn], categories: ['treatment-goals'], ...overrides });

  // Overrides are functions: the organizations exist only once beforeAll has run.
  test.each<[string, () => Partial<SharingConsentFacts>, number]>([
    ['an unknown recipient', () => ({ recipients: ['Organization/does-not-exist'] }), 422],
    ['a period ending before it starts', () => ({ period: { start: '2026-05-01', end: '2026-04-01' } }), 400],
    ['psychotherapy notes', () => ({ categories: ['psychotherapy-notes'] }), 422],
    ['the wrong custodian', () => ({ custodian: obgyn }), 422],
  ])('refuses %s', async (_name, overrides, status) => {
    const res = await as(clientToken).post('Consent', consentFor(overrides()));
    expect({ status: res.status, issue: res.body.issue?.[0]?.details?.text }).toEqual({ status, issue: expect.any(String) });
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('an unknown category is refused', async () => {
    const consent = consentFor();
    consent.provision!.code = [{ coding: [{ system: SHARE_CATEGORY_SYSTEM, code: 'everything' }] }];
    expect((await as(clientToken).post('Consent', consent)).status).toBe(400);
  });

  test('the practice records a consent only with the signed request attached; partners cannot write consents', async () => {
    expect((await as(practiceToken).post('Consent', consentFor())).status).toBe(400);
    const signed = { ...consentFor(), sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' } };
    const recorded = await as(practiceToken).post('Consent', signed);
    expect(recorded.status).toBe(201);
    expect([403, 404]).toContain((await as(obgynToken).post('Consent', consentFor())).status);
    // Revoked again at once (on the client's request), so the disclosure tests below start from no consent.
    expect((await as(practiceToken).put(`Consent/${recorded.body.id}`, { ...recorded.body, status: 'inactive' })).status).toBe(200);
  });
});

describe('disclosure before, during and after consent', () => {
  let goal: Resource;
  let trauma: Resource;
  let progress: Resource;
  let note: Resource;
  let consent: Consent;

  beforeAll(async () => {
    goal = await created(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Sensate focus stage 2' }, subject: { reference: ref(client) } });
    trauma = await created(practiceToken, tagged(buildObservation(client.id as string), 'trauma-history'));
    progress = await created(practiceToken, tagged(buildObservation(client.id as string), 'progress'));
    note = await created(practiceToken, tagged({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'c2Vzc2lvbg==' } }], subject: { reference: ref(client) } }, 'psychotherapy-notes'));
  });

  test('before: the partner sees nothing', async () => {
    expect((await as(obgynToken).get(`Patient/${client.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect(await searchAll(obgynToken, 'Observation')).toEqual([]);
    expect((await as(obgynToken).get(`Patient/${client.id}/$summary`)).status).toBe(404);
  });

  test('during: exactly the consented categories, through read, search, include, history and batch', async () => {
    consent = await created(clientToken, buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [obgyn], categories: ['treatment-goals', 'trauma-history'] }));

    expect((await as(obgynToken).get(`Patient/${client.id}`)).status).toBe(200);
    expect((await as(obgynToken).get(`Patient/${otherClient.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`Goal/${goal.id}`)).status).toBe(200);
    expect((await as(obgynToken).get(`Observation/${trauma.id}`)).status).toBe(200);
    expect((await as(obgynToken).get(`Observation/${progress.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`DocumentReference/${note.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`Consent/${consent.id}`)).status).toBe(404);

    const observations = await searchAll(obgynToken, `Observation?subject=${ref(client)}&_count=1`);
    expect(observations.map(ref).sort()).toEqual(
      (await searchAll(practiceToken, `Observation?subject=${ref(client)}&_tag=${SHARE_CATEGORY_SYSTEM}|trauma-history&_count=100`)).map(ref).sort(),
    );
    const count = (await as(obgynToken).get(`Observation?subject=${ref(client)}&_summary=count`)).body as Bundle;
    expect(count.total).toBe(observations.length);

    const withPatient = (await as(obgynToken).get(`Patient?_id=${client.id}&_revinclude=Observation:subject&_revinclude=DocumentReference:subject`)).body as Bundle;
    const included = (withPatient.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => ref(e.resource as Resource));
    expect(included).toContain(ref(trauma));
    expect(included).not.toContain(ref(progress));
    expect(included).not.toContain(ref(note));

    expect((await as(obgynToken).get(`Observation/${progress.id}/_history`)).status).toBe(404);
    const batch = await as(obgynToken).post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation/${trauma.id}` } }, { request: { method: 'GET', url: `Observation/${progress.id}` } }] });
    expect((batch.body as Bundle).entry?.map((e) => e.response?.status)).toEqual(['200 OK', '404']);
  });

  test('during: a practitioner of the named organization matches through it; another clinic and another purpose do not', async () => {
    expect((await as(obgynDoctorToken).get(`Goal/${goal.id}`)).status).toBe(200);
    expect((await as(urologyToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(obgynToken, { 'X-Purpose-Of-Use': 'HPAYMT' }).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(obgynToken, { 'X-Purpose-Of-Use': 'NONSENSE' }).get(`Goal/${goal.id}`)).status).toBe(400);
  });

  test('during: the scoped summary has one section per permitted category; the custodian previews any recipient', async () => {
    const summary = (await as(obgynToken).get(`Patient/${client.id}/$summary`)).body as Bundle;
    expect(summary.type).toBe('document');
    const composition = summary.entry?.[0]?.resource as { resourceType: string; section: { code?: { coding?: { code?: string }[] }; text?: { div: string } }[] };
    expect(composition.resourceType).toBe('Composition');
    expect(composition.section.map((s) => s.code?.coding?.[0]?.code).sort()).toEqual(['trauma-history', 'treatment-goals']);
    expect(composition.section.every((s) => s.text?.div.startsWith('<div'))).toBe(true);
    const entries = summary.entry?.map((e) => e.resource?.resourceType);
    expect(entries).not.toContain('DocumentReference');

    const preview = (await as(practiceToken).get(`Patient/${client.id}/$summary?recipient=${obgyn}`)).body as Bundle;
    expect((preview.entry?.[0]?.resource as { section: unknown[] }).section).toHaveLength(2);
    const none = (await as(practiceToken).get(`Patient/${client.id}/$summary?recipient=${urology}`)).body as Bundle;
    expect(none.entry?.some((e) => e.resource?.resourceType === 'Patient')).toBe(false);
    expect((await as(obgynToken).get(`Patient/${client.id}/$summary?recipient=${urology}`)).status).toBe(403);
  });

  test('during: $disclosure-check explains the decision to the custodian and the client, not to partners', async () => {
    const permit = (await as(practiceToken).get(`Patient/${client.id}/$disclosure-check?recipient=${obgyn}&category=trauma-history`)).body as FhirParameters;
    expect(permit.parameter?.find((p) => p.name === 'permit')?.valueBoolean).toBe(true);
    expect(permit.parameter?.filter((p) => p.name === 'consent').map((p) => p.valueReference?.reference)).toContain(`Consent/${consent.id}`);
    const deny = (await as(clientToken).get(`Patient/${client.id}/$disclosure-check?recipient=${obgyn}&category=progress`)).body as FhirParameters;
    expect(deny.parameter?.find((p) => p.name === 'permit')?.valueBoolean).toBe(false);
    expect((await as(obgynToken).get(`Patient/${client.id}/$disclosure-check?recipient=${obgyn}&category=progress`)).status).toBe(403);
    expect((await as(practiceToken).get(`Patient/${client.id}/$disclosure-check?recipient=nobody&category=progress`)).status).toBe(400);
  });

  test('the client sees who saw what; partners cannot read the audit trail', async () => {
    const events = (await searchAll(clientToken, `AuditEvent?patient=${ref(client)}&_count=200`)) as AuditEvent[];
    const disclosed = events.filter((e) => e.outcome === '0').flatMap((e) => e.entity?.map((x) => x.what?.reference) ?? []);
    expect(disclosed.some((r) => r?.startsWith(`Observation/${trauma.id}/_history/`))).toBe(true);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.agent?.some((a) => a.requestor && /^(Organization|Practitioner)\//.test(a.who?.reference ?? '')))).toBe(true);
    expect(events.some((e) => e.outcome === '0' && e.agent?.some((a) => a.who?.reference === obgyn))).toBe(true);
    const denied = events.filter((e) => e.outcome === '4').flatMap((e) => e.entity?.map((x) => x.what?.reference) ?? []);
    expect(denied).toContain(`Observation/${progress.id}`);
    expect(await searchAll(obgynToken, 'AuditEvent')).toEqual([]);
  });

  test('after: revocation takes effect on the very next request', async () => {
    const revoke = await as(clientToken).put(`Consent/${consent.id}`, { ...consent, status: 'inactive' });
    expect(revoke.status).toBe(200);
    expect((await as(obgynToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`Patient/${client.id}`)).status).toBe(404);
    expect(await searchAll(obgynToken, `Observation?subject=${ref(client)}`)).toEqual([]);
  });
});

/** A small deterministic PRNG (mulberry32), so a failing property run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('property: nothing outside the permitted set is ever returned', () => {
  test.each([1, 2, 3])('seed %i', async (seed) => {
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const patients = [
      await created(practiceToken, buildPatient({ name: [{ family: `Prop${seed}a` }] })),
      await created(practiceToken, buildPatient({ name: [{ family: `Prop${seed}b` }] })),
    ];
    const resources: Resource[] = [];
    for (let i = 0; i < 24; i++) {
      const patient = pick(patients);
      resources.push(await created(practiceToken, tagged(buildObservation(patient.id as string), pick(SHARE_CATEGORIES))));
    }
    const consents: Consent[] = [];
    for (let i = 0; i < 5; i++) {
      const patient = pick(patients);
      const categories = SHARE_CATEGORIES.filter((c) => c !== 'psychotherapy-notes' && random() < 0.35);
      const periods = [undefined, { start: '2020-01-01' }, { end: '2020-12-31' }, { start: '2099-01-01' }];
      consents.push(
        await created(
          practiceToken,
          {
            ...buildSharingConsent({
              patient: ref(patient),
              custodian: practice,
              recipients: [pick([obgyn, urology])],
              categories: categories.length > 0 ? categories : ['progress'],
              purposes: [pick(['TREAT', 'TREAT', 'HPAYMT'])],
              ...(pick(periods) ? { period: pick(periods) } : {}),
              status: pick(['active', 'active', 'active', 'inactive'] as const),
            }),
            sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
          },
        ),
      );
    }

    const check = async () => {
      for (const [recipient, token] of [[obgyn, obgynToken], [urology, urologyToken]] as const) {
        const expected = resources
          .filter((r) => {
            const patient = (r as { subject?: { reference?: string } }).subject?.reference;
            const category = r.meta?.tag?.find((tag) => tag.system === SHARE_CATEGORY_SYSTEM)?.code;
            return decideDisclosure(consents.filter((c) => c.patient?.reference === patient), { recipient: { organization: recipient }, purpose: 'TREAT', category, resourceType: r.resourceType, now: new Date() }).permit;
          })
          .map(ref)
          .sort();
        const query = `Observation?subject=${patients.map(ref).join(',')}&_count=5`;
        const found = (await searchAll(token, query)).map(ref).sort();
        expect({ recipient, found }).toEqual({ recipient, found: expected });
        for (const r of resources) {
          const status = (await as(token).get(ref(r))).status;
          expect({ r: ref(r), status }).toEqual({ r: ref(r), status: expected.includes(ref(r)) ? 200 : 404 });
        }
      }
    };
    await check();
    // Revoke a random consent and check again: the permitted set shrinks at once.
    const revoked = pick(consents);
    const res = await as(practiceToken).put(`Consent/${revoked.id}`, { ...revoked, status: 'inactive' });
    expect(res.status).toBe(200);
    consents[consents.indexOf(revoked)] = res.body as Consent;
    await check();
  });
});
