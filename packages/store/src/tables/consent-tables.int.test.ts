/**
 * The table modules consent's write rules, policy, audit and recipient directory call (consent-grants,
 * partner-authorship, note-records, patient-custodians, referenced-versions, practitioner-roles, client-custody's
 * Patients a policy shows, and auth-users' organizations of a practitioner), on PostgreSQL and PGlite: each writes or
 * reads the rows its SQL says, whatever consent makes of them.
 */
import { randomUUID } from 'node:crypto';
import { PSYCHOTHERAPY_NOTE_LABEL } from '@carecircle/fhir';
import type { AuditEvent, Consent, Observation, Organization, Patient, PractitionerRole } from '@medplum/fhirtypes';
import { fullAccess } from '../access-policy';
import { createRepository } from '../resource-repository';
import { sql } from '../sql';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import { disableAuthUser, findOrganizationsOfEnabledUsers, insertAuthUser } from './auth-users';
import { findPatientsVisibleTo } from './client-custody';
import { findGrantsInForce, findUngrantedCategories, replaceConsentGrants, type ConsentGrantRow } from './consent-grants';
import { insertNotesDescribedBy, insertRecordsDescribingNote } from './note-records';
import { insertPartnerAuthorship } from './partner-authorship';
import { lockPatientCustodian, readPatientCustodian } from './patient-custodians';
import { findPractitionerRoles, findWithdrawnOrganizations, readPractitionerRole } from './practitioner-roles';
import { lockLiveResources, readLatestMeta } from './referenced-versions';

const CUSTODIAN_URL = 'https://example.org/fhir/StructureDefinition/note-custodian';

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('consent tables on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test("a consent's grant rows are replaced by the next version's, and none are written for an unreadable version", async () => {
    const row: ConsentGrantRow = {
      patient: 'Patient/p1',
      actor: 'Organization/o1',
      purpose: 'TREAT',
      category: 'care-plan',
      periodStart: '2026-01-01T00:00:00.000Z',
      periodEnd: undefined,
    };
    const grants = async (): Promise<Array<{ consent_version: number; category: string; period_end: Date | null }>> =>
      (await store.db.query<{ consent_version: number; category: string; period_end: Date | null }>(sql`
        SELECT consent_version, category, period_end FROM consent_grant WHERE consent_id = 'c1' ORDER BY category`)).rows;
    await replaceConsentGrants(store.db, 'c1', 1, [row, { ...row, category: 'sexual-history' }]);
    expect(await grants()).toEqual([
      { consent_version: 1, category: 'care-plan', period_end: null },
      { consent_version: 1, category: 'sexual-history', period_end: null },
    ]);
    await replaceConsentGrants(store.db, 'c1', 2, [{ ...row, periodEnd: '2027-01-01T00:00:00.000Z' }]);
    expect(await grants()).toEqual([{ consent_version: 2, category: 'care-plan', period_end: new Date('2027-01-01T00:00:00.000Z') }]);
    await replaceConsentGrants(store.db, 'c1', Number.NaN, [row]);
    expect(await grants()).toEqual([]);
  });

  test('grants in force are those of the current consent, in its period, to a live organization, recorded by the custodian', async () => {
    const repository = createRepository(store.db, fullAccess);
    const { resource: practice } = await repository.create<Organization>({ resourceType: 'Organization', name: 'Practice' });
    const { resource: partner } = await repository.create<Organization>({ resourceType: 'Organization', name: 'Partner' });
    const { resource: closed } = await repository.create<Organization>({ resourceType: 'Organization', name: 'Closed', active: false });
    const { resource: client } = await repository.create<Patient>({ resourceType: 'Patient', managingOrganization: { reference: `Organization/${practice.id}` } });
    const patient = `Patient/${client.id}`;
    const { resource: consent } = await repository.create<Consent>({
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ code: 'patient-privacy' }] },
      category: [{ coding: [{ code: 'INFA' }] }],
      patient: { reference: patient },
      organization: [{ reference: `Organization/${practice.id}` }],
      policyRule: { coding: [{ code: 'OPTIN' }] },
    });
    const row: ConsentGrantRow = { patient, actor: `Organization/${partner.id}`, purpose: 'TREAT', category: 'care-plan', periodStart: undefined, periodEnd: undefined };
    await replaceConsentGrants(store.db, consent.id ?? '', 1, [
      row,
      { ...row, category: 'sexual-history', periodEnd: '2020-01-01T00:00:00.000Z' },
      { ...row, category: 'substance-use', purpose: 'HPAYMT' },
      { ...row, category: 'trauma-history', actor: `Organization/${closed.id}` },
    ]);
    const lookup = { actors: [`Organization/${partner.id}`, `Organization/${closed.id}`], purpose: 'TREAT', now: new Date() };
    const categories = ['care-plan', 'sexual-history', 'substance-use', 'trauma-history'];
    expect(await findGrantsInForce(store.db, [patient, `Patient/${randomUUID()}`], lookup)).toEqual([
      { patient, category: 'care-plan', consentId: consent.id, consentVersion: 1 },
    ]);
    expect(await findUngrantedCategories(store.db, patient, categories, lookup)).toEqual(categories.slice(1));
    expect(await findGrantsInForce(store.db, [patient], { ...lookup, actors: [`Organization/${closed.id}`] })).toEqual([]);

    // The client moves to another practice: what the first practice recorded grants nothing.
    await repository.update<Patient>({ ...client, managingOrganization: { reference: `Organization/${partner.id}` } });
    expect(await findGrantsInForce(store.db, [patient], lookup)).toEqual([]);
    expect(await findUngrantedCategories(store.db, patient, categories, lookup)).toEqual(categories);
    await repository.update<Patient>({ ...client, managingOrganization: { reference: `Organization/${practice.id}` } });
    expect(await findGrantsInForce(store.db, [patient], lookup)).toHaveLength(1);

    // The index rows name a consent version that is no longer current: they grant nothing.
    await repository.update<Consent>({ ...consent, status: 'inactive' });
    expect(await findGrantsInForce(store.db, [patient], lookup)).toEqual([]);
  });

  test('the Patients a policy shows are read by its visibility', async () => {
    const repository = createRepository(store.db, fullAccess);
    const { resource: one } = await repository.create<Patient>({ resourceType: 'Patient' });
    const { resource: two } = await repository.create<Patient>({ resourceType: 'Patient' });
    const ids = [one.id ?? '', two.id ?? '', randomUUID()];
    expect(new Set(await findPatientsVisibleTo(store.db, ids, fullAccess))).toEqual(new Set([one.id, two.id]));
    const onlyTwo = { ...fullAccess, visibility: () => sql`rv.id = ${two.id ?? ''}` };
    expect(await findPatientsVisibleTo(store.db, ids, onlyTwo)).toEqual([two.id]);
  });

  test("a partner's authorship is recorded per version", async () => {
    await insertPartnerAuthorship(store.db, { resourceType: 'Communication', id: 'x1', versionId: 2, organization: 'Organization/o2' });
    const { rows } = await store.db.query(sql`SELECT resource_type, id, version_id, organization FROM partner_authorship WHERE id = 'x1'`);
    expect(rows).toEqual([{ resource_type: 'Communication', id: 'x1', version_id: 2, organization: 'Organization/o2' }]);
  });

  test("custodians, live resources, latest labels and note records are read from the stored versions", async () => {
    const repository = createRepository(store.db, fullAccess);
    const { resource: practice } = await repository.create<Organization>({ resourceType: 'Organization', name: 'Practice' });
    const { resource: patient } = await repository.create<Patient>({
      resourceType: 'Patient',
      managingOrganization: { reference: `Organization/${practice.id}` },
    });
    const { resource: bare } = await repository.create<Patient>({ resourceType: 'Patient' });
    expect(await readPatientCustodian(store.db, patient.id ?? '')).toBe(`Organization/${practice.id}`);
    expect(await readPatientCustodian(store.db, bare.id ?? '')).toBeUndefined();
    expect(await readPatientCustodian(store.db, randomUUID())).toBeUndefined();
    await store.db.transaction(async (tx) => {
      expect(await lockPatientCustodian(tx, patient.id ?? '')).toEqual({ custodian: `Organization/${practice.id}` });
      expect(await lockPatientCustodian(tx, bare.id ?? '')).toEqual({ custodian: undefined });
      expect(await lockPatientCustodian(tx, randomUUID())).toBeUndefined();
      const live = await lockLiveResources(tx, [
        { resourceType: 'Organization', id: practice.id ?? '' },
        { resourceType: 'Organization', id: patient.id ?? '' },
        { resourceType: 'Patient', id: bare.id ?? '' },
      ]);
      expect(live).toEqual(new Set([`Organization/${practice.id}`, `Patient/${bare.id}`]));
    });

    const { resource: note } = await repository.create<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'session' },
      subject: { reference: `Patient/${patient.id}` },
      meta: {
        security: [PSYCHOTHERAPY_NOTE_LABEL],
        extension: [{ url: CUSTODIAN_URL, valueReference: { reference: `Organization/${practice.id}` } }],
      },
    });
    expect(await readLatestMeta(store.db, [{ resourceType: 'Observation', id: note.id ?? '' }, { resourceType: 'Observation', id: 'none' }])).toEqual([
      expect.objectContaining({ security: [PSYCHOTHERAPY_NOTE_LABEL], versionId: '1' }),
    ]);

    const noteKey = { resourceType: 'Observation', id: note.id ?? '' };
    await store.db.query(insertNotesDescribedBy({ resourceType: 'Provenance', id: 'prov1' }, [noteKey, { resourceType: 'Patient', id: patient.id ?? '' }], [], CUSTODIAN_URL));
    const { resource: audit } = await repository.create<AuditEvent>({
      resourceType: 'AuditEvent',
      type: { code: 'rest' },
      recorded: '2026-01-01T00:00:00Z',
      agent: [{ requestor: true }],
      source: { observer: { display: 'test' } },
      entity: [{ what: { reference: `Observation/${note.id}` } }],
    });
    await store.db.query(insertRecordsDescribingNote(noteKey, 'Organization/stamp'));
    const { rows } = await store.db.query(sql`
      SELECT resource_type, id, custodian FROM note_record WHERE id IN ('prov1', ${audit.id ?? ''}) ORDER BY resource_type`);
    expect(rows).toEqual([
      { resource_type: 'AuditEvent', id: audit.id, custodian: 'Organization/stamp' },
      { resource_type: 'Provenance', id: 'prov1', custodian: `Organization/${practice.id}` },
    ]);
  });

  test('roles are read by practitioner and organization, not at a withdrawn organization, and accounts give organizations', async () => {
    const repository = createRepository(store.db, fullAccess);
    const { resource: open } = await repository.create<Organization>({ resourceType: 'Organization', name: 'Open' });
    const { resource: closed } = await repository.create<Organization>({ resourceType: 'Organization', name: 'Closed', active: false });
    const practitioner = `Practitioner/${randomUUID()}`;
    const role = (organization: string, extra: Partial<PractitionerRole> = {}): PractitionerRole => ({
      resourceType: 'PractitionerRole',
      practitioner: { reference: practitioner },
      organization: { reference: organization },
      ...extra,
    });
    const { resource: atOpen } = await repository.create(role(`Organization/${open.id}`, { period: { start: '2026-01-01' } }));
    await repository.create(role(`Organization/${closed.id}`));
    await repository.create(role(`Organization/${open.id}`, { active: false }));
    const id = practitioner.slice('Practitioner/'.length);
    expect(await findPractitionerRoles(store.db, id)).toEqual([{ id: atOpen.id, organization: `Organization/${open.id}`, period: { start: '2026-01-01' } }]);
    expect(await findPractitionerRoles(store.db, id, 'Organization/elsewhere')).toEqual([]);
    expect((await readPractitionerRole(store.db, atOpen.id ?? ''))?.organization).toEqual({ reference: `Organization/${open.id}` });
    expect(await readPractitionerRole(store.db, randomUUID())).toBeUndefined();
    expect(await findWithdrawnOrganizations(store.db, [`Organization/${open.id}`, `Organization/${closed.id}`])).toEqual(
      new Set([`Organization/${closed.id}`]),
    );

    const account = (organization: string | undefined) => ({
      id: randomUUID(),
      username: randomUUID(),
      passwordHash: 'scrypt$hash',
      fhirUser: practitioner,
      ...(organization ? { organization } : {}),
    });
    await insertAuthUser(store.db, account('Organization/b'));
    await insertAuthUser(store.db, account('Organization/a'));
    await insertAuthUser(store.db, account('Organization/a'));
    await insertAuthUser(store.db, account(undefined));
    const disabled = account('Organization/c');
    await insertAuthUser(store.db, disabled);
    await disableAuthUser(store.db, disabled.id);
    expect(await findOrganizationsOfEnabledUsers(store.db, practitioner)).toEqual(['Organization/a', 'Organization/b']);
  });
});
