import { OperationOutcomeError, statusOf } from '@carecircle/fhir';
import { createRepository, fullAccess, listMigrations, migrate, openDatabase, sql, withWriteRules, type Database, type Repository } from '@carecircle/store';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner, createTestDatabase, type TestDatabase } from '@carecircle/testing';
import type { Coding, Consent, Meta, Observation, Organization, Provenance, Resource } from '@medplum/fhirtypes';
import { buildSharingConsent, SHARING_CONSENT_PROFILE, type SharingConsentFacts } from './consent-builders';
import { grantRowsOf, indexConsentGrants } from './consent-grant-index';
import { checkSharingConsent } from './consent-write-rule';
import { ACT_CODE_SYSTEM, CONFIDENTIALITY_SYSTEM, SHARE_CATEGORY_SYSTEM } from './share-category';
import { applyShareLabels } from './share-labels';

interface Refusal {
  status: number;
  expression: string | undefined;
  text: string;
}

describe('share labels and sharing consents on writes (PostgreSQL)', () => {
  let testDb: TestDatabase;
  let db: Database;
  let repo: Repository;
  let custodian: string;
  let partner: string;
  let practitioner: string;
  let practitionerRole: string;
  let patientId: string;
  let patient: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await openDatabase({ databaseUrl: testDb.url });
    await migrate(db);
    repo = createRepository(db, fullAccess, { writes: withWriteRules([applyShareLabels, checkSharingConsent, indexConsentGrants], undefined) });
    custodian = await referenceTo(buildOrganization({ name: 'Riverside Sex Therapy' }));
    partner = await referenceTo(buildOrganization({ name: 'Harbour Pelvic Health' }));
    practitioner = await referenceTo(buildPractitioner());
    practitionerRole = await referenceTo({
      resourceType: 'PractitionerRole',
      practitioner: { reference: practitioner },
      organization: { reference: partner },
    });
    const { resource } = await repo.create(buildPatient({ managingOrganization: { reference: custodian } }));
    patientId = resource.id!;
    patient = `Patient/${patientId}`;
  });

  afterAll(async () => {
    await db.close();
    await testDb.drop();
  });

  async function referenceTo(resource: Resource): Promise<string> {
    const { resource: stored } = await repo.create(resource);
    return `${stored.resourceType}/${stored.id}`;
  }

  function consentFor(overrides: Partial<SharingConsentFacts> = {}): Consent {
    return buildSharingConsent({ patient, custodian, recipients: [partner], categories: ['progress', 'treatment-goals'], ...overrides });
  }

  async function refusalOf(write: Promise<unknown>): Promise<Refusal> {
    try {
      await write;
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        const issue = err.outcome.issue?.[0];
        return { status: statusOf(err.outcome), expression: issue?.expression?.[0], text: issue?.details?.text ?? '' };
      }
      throw err;
    }
    throw new Error('expected the write to be refused');
  }

  /** Every stored version and outbox event, to prove a refused write left nothing behind. */
  async function storedCounts(): Promise<{ versions: number; events: number }> {
    const { rows } = await db.query<{ versions: number; events: number }>(sql`
      SELECT (SELECT count(*) FROM resource_version) AS versions, (SELECT count(*) FROM outbox) AS events`);
    return rows[0]!;
  }

  async function storedMeta(type: string, id: string): Promise<Meta | undefined> {
    const { rows } = await db.query<{ content: Resource }>(sql`
      SELECT content FROM resource_version WHERE resource_type = ${type} AND id = ${id} AND superseded_xid IS NULL`);
    return rows[0]?.content.meta;
  }

  const category = (code: string): Coding => ({ system: SHARE_CATEGORY_SYSTEM, code });
  const conf = (code: string): Coding => ({ system: CONFIDENTIALITY_SYSTEM, code });
  const act = (code: string): Coding => ({ system: ACT_CODE_SYSTEM, code });

  describe('labels', () => {
    test('an untagged observation is stored with the default category and R', async () => {
      const { resource } = await repo.create(buildObservation(patientId));
      const meta = await storedMeta('Observation', resource.id!);
      expect(meta?.tag).toEqual([category('progress')]);
      expect(meta?.security).toEqual([conf('R')]);
      expect(resource.meta?.tag).toEqual(meta?.tag);
    });

    test('the patient itself is labelled demographics; directory resources are not labelled', async () => {
      expect((await storedMeta('Patient', patientId))?.tag).toEqual([category('demographics')]);
      const organization = await repo.read<Organization>('Organization', custodian.split('/')[1]!);
      expect(organization.meta?.tag).toBeUndefined();
      expect(organization.meta?.security).toBeUndefined();
    });

    test('labels stay up across versions: mental health re-filed as sexual history keeps PSY', async () => {
      const { resource: v1 } = await repo.create(buildObservation(patientId, { meta: { tag: [category('mental-health')] } }));
      expect(v1.meta?.security).toEqual([conf('R'), act('PSY')]);
      const { resource: v2 } = await repo.update<Observation>({ ...v1, meta: { tag: [category('sexual-history')], security: [conf('N')] } });
      expect(v2.meta?.tag).toEqual([category('sexual-history')]);
      expect(await storedMeta('Observation', v1.id!)).toMatchObject({ versionId: '2', security: [conf('R'), act('PSY'), act('SEX')] });
      // An update that drops meta keeps the category it had: it does not fall back to the type's default.
      const { resource: v3 } = await repo.update<Observation>({ ...buildObservation(patientId), id: v1.id! });
      expect(v3.meta?.tag).toEqual([category('sexual-history')]);
    });

    test.each<[string, string]>([
      ['psychotherapy-notes', 'progress'],
      ['trauma-history', 'progress'],
    ])('a resource in %s re-filed as %s is refused (422) and keeps its version', async (from, to) => {
      const { resource: v1 } = await repo.create(buildObservation(patientId, { meta: { tag: [category(from)] } }));
      const refusal = await refusalOf(repo.update<Observation>({ ...v1, meta: { tag: [category(to)] } }));
      expect(refusal).toMatchObject({ status: 422, expression: 'Observation.meta.tag' });
      expect(await storedMeta('Observation', v1.id!)).toMatchObject({ versionId: '1', tag: [category(from)] });
    });

    test("a Provenance of a psychotherapy note takes the note's category and labels, whatever its writer says", async () => {
      const { resource: note } = await repo.create(buildObservation(patientId, { meta: { tag: [category('psychotherapy-notes')] } }));
      const { resource: provenance } = await repo.create<Provenance>({
        resourceType: 'Provenance',
        meta: { tag: [category('progress')] },
        target: [{ reference: `Observation/${note.id}/_history/1` }, { reference: patient }],
        recorded: '2026-05-01T10:00:00Z',
        agent: [{ who: { reference: custodian } }],
      });
      expect(provenance.meta?.tag).toEqual([category('psychotherapy-notes')]);
      expect(provenance.meta?.security).toEqual([conf('V'), act('PSYTHPN')]);
    });

    test.each<[string, Coding[]]>([
      ['two share categories', [category('progress'), category('sexual-history')]],
      ['an unknown share category', [category('everything')]],
    ])('%s: 400 naming Observation.meta.tag, nothing stored', async (_name, tag) => {
      const before = await storedCounts();
      const refusal = await refusalOf(repo.create(buildObservation(patientId, { meta: { tag } })));
      expect(refusal).toMatchObject({ status: 400, expression: 'Observation.meta.tag' });
      expect(await storedCounts()).toEqual(before);
    });

    test('a share category on an Organization is a 400', async () => {
      const refusal = await refusalOf(repo.create(buildOrganization({ meta: { tag: [category('progress')] } })));
      expect(refusal).toMatchObject({ status: 400, expression: 'Organization.meta.tag' });
    });
  });

  describe('sharing consents', () => {
    test('a well-formed consent to an Organization, a Practitioner and a PractitionerRole is stored, labelled', async () => {
      const { resource } = await repo.create(consentFor({ recipients: [partner, practitioner, practitionerRole] }));
      const meta = await storedMeta('Consent', resource.id!);
      expect(meta?.profile).toEqual([SHARING_CONSENT_PROFILE]);
      expect(meta?.tag).toEqual([category('demographics')]);
      expect(meta?.security).toEqual([conf('R')]);
    });

    test('a consent that claims no profile gets the sharing-consent profile, and so its checks', async () => {
      const unprofiled: Consent = { ...consentFor(), meta: {} };
      const { resource } = await repo.create(unprofiled);
      expect(resource.meta?.profile).toEqual([SHARING_CONSENT_PROFILE]);

      // provision.purpose is optional in R4 and required by the profile.
      const withoutPurpose: Consent = { ...unprofiled, provision: { ...unprofiled.provision, purpose: undefined } };
      expect(await refusalOf(repo.create(withoutPurpose))).toMatchObject({ status: 400, expression: 'Consent.provision.purpose' });
    });

    test('a period given in partial dates compares by their start', async () => {
      await expect(repo.create(consentFor({ period: { start: '2026-05', end: '2026-05-01' } }))).resolves.toMatchObject({ outcome: 'created' });
    });

    test.each<[string, () => Consent, Omit<Refusal, 'text'>]>([
      ['a patient that does not exist', () => consentFor({ patient: 'Patient/nobody' }), { status: 422, expression: 'Consent.patient' }],
      ['a patient reference to another type', () => consentFor({ patient: 'Group/nobody' }), { status: 422, expression: 'Consent.patient' }],
      ['an organization that is not the custodian', () => consentFor({ custodian: partner }), { status: 422, expression: 'Consent.organization[0]' }],
      [
        'a performer other than the client',
        () => ({ ...consentFor(), performer: [{ reference: practitioner }] }),
        { status: 422, expression: 'Consent.performer[0]' },
      ],
      [
        'a recipient that does not exist',
        () => consentFor({ recipients: [partner, 'Organization/gone'] }),
        { status: 422, expression: 'Consent.provision.actor[1].reference' },
      ],
      ['a recipient of another type', () => consentFor({ recipients: [patient] }), { status: 422, expression: 'Consent.provision.actor[0].reference' }],
      [
        'a recipient that is not a local reference',
        () => consentFor({ recipients: ['https://elsewhere.example/fhir/Organization/1'] }),
        { status: 422, expression: 'Consent.provision.actor[0].reference' },
      ],
      [
        'psychotherapy notes',
        () => consentFor({ categories: ['progress', 'psychotherapy-notes'] }),
        { status: 422, expression: 'Consent.provision.code[1]' },
      ],
      [
        'a purpose outside the supported v3-ActReason codes',
        () => consentFor({ purposes: ['FOO'] }),
        { status: 422, expression: 'Consent.provision.purpose[0]' },
      ],
      [
        'a supported purpose code in another system',
        () => {
          const consent = consentFor();
          consent.provision!.purpose = [{ system: 'http://example.org/purposes', code: 'TREAT' }];
          return consent;
        },
        { status: 422, expression: 'Consent.provision.purpose[0]' },
      ],
      [
        'a period that ends before it starts',
        () => consentFor({ period: { start: '2026-05-01T10:00:00Z', end: '2026-05-01T09:59:59Z' } }),
        { status: 400, expression: 'Consent.provision.period' },
      ],
      [
        'a period that ends before it starts, in partial dates',
        () => consentFor({ period: { start: '2026-05-01T10:00:00+02:00', end: '2026-04' } }),
        { status: 400, expression: 'Consent.provision.period' },
      ],
    ])('%s is refused and nothing is stored', async (_name, build, expected) => {
      const before = await storedCounts();
      const refusal = await refusalOf(repo.create(build()));
      expect(refusal).toMatchObject(expected);
      expect(await storedCounts()).toEqual(before);
    });

    test('psychotherapy notes are refused with a message that says why', async () => {
      const refusal = await refusalOf(repo.create(consentFor({ categories: ['psychotherapy-notes'] })));
      expect(refusal.text).toMatch(/psychotherapy notes never leave the practice/i);
    });

    test('messages name the type of a bad reference, never the caller-supplied id', async () => {
      const refusal = await refusalOf(repo.create(consentFor({ recipients: ['Organization/secret-id-123'] })));
      expect(refusal.text).toContain('Organization');
      expect(refusal.text).not.toContain('secret-id-123');
    });

    test('a consent for a client without a custodian is refused', async () => {
      const { resource: orphan } = await repo.create(buildPatient());
      const refusal = await refusalOf(repo.create(consentFor({ patient: `Patient/${orphan.id}` })));
      expect(refusal).toMatchObject({ status: 422, expression: 'Consent.organization[0]' });
    });

    test('a revocation goes through after the recipient was deleted; reactivating it does not', async () => {
      const recipient = await referenceTo(buildOrganization({ name: 'Closing Clinic' }));
      const { resource: consent } = await repo.create(consentFor({ recipients: [recipient] }));
      await repo.delete('Organization', recipient.split('/')[1]!);

      const { resource: revoked } = await repo.update<Consent>({ ...consent, status: 'inactive' });
      expect(revoked.status).toBe('inactive');
      const refusal = await refusalOf(repo.update<Consent>({ ...revoked, status: 'active' }));
      expect(refusal).toMatchObject({ status: 422, expression: 'Consent.provision.actor[0].reference' });
    });
  });

  describe('the consent-grant index', () => {
    async function grantRows(consentId: string): Promise<string[]> {
      const { rows } = await db.query<{ row: string }>(sql`
        SELECT concat_ws(' ', consent_version, patient, actor, purpose, category, to_char(period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI')) AS row
        FROM consent_grant WHERE consent_id = ${consentId} ORDER BY row`);
      return rows.map((r) => r.row);
    }

    test('is written with the consent, replaced by each version and emptied by a revocation', async () => {
      const { resource } = await repo.create(consentFor({ recipients: [partner, practitionerRole], period: { end: '2099-12-31' } }));
      expect(await grantRows(resource.id!)).toEqual([
        `1 ${patient} ${partner} TREAT progress 2100-01-01T00:00`,
        `1 ${patient} ${partner} TREAT treatment-goals 2100-01-01T00:00`,
        `1 ${patient} ${practitionerRole} TREAT progress 2100-01-01T00:00`,
        `1 ${patient} ${practitionerRole} TREAT treatment-goals 2100-01-01T00:00`,
      ]);
      const { resource: v2 } = await repo.update<Consent>({ ...consentFor({ categories: ['mental-health'], purposes: ['HPAYMT'] }), id: resource.id! });
      expect(await grantRows(resource.id!)).toEqual([`2 ${patient} ${partner} HPAYMT mental-health`]);
      await repo.update<Consent>({ ...v2, status: 'inactive' });
      expect(await grantRows(resource.id!)).toEqual([]);
    });

    test('a consent write that fails after the rule leaves the rows as they were', async () => {
      const { resource } = await repo.create(consentFor());
      const before = await grantRows(resource.id!);
      // Validation runs after the write rules: an invalid status is refused, and the transaction rolls back.
      const refusal = await refusalOf(repo.update({ ...consentFor({ categories: ['mental-health'] }), id: resource.id!, status: 'bogus' } as unknown as Consent));
      expect(refusal.status).toBe(400);
      expect(await grantRows(resource.id!)).toEqual(before);
    });

    test('the migration fills the index for consents stored before it with exactly the rows the write rule writes', async () => {
      const unindexed = createRepository(db, fullAccess, { writes: withWriteRules([applyShareLabels, checkSharingConsent], undefined) });
      const stored = [
        (await unindexed.create(consentFor({ recipients: [partner, practitioner], period: { start: '2026-05', end: '2027' } }))).resource,
        (await unindexed.create(consentFor({ categories: ['trauma-history'], purposes: ['HPAYMT', 'TREAT'], period: { end: '2026-06-30T12:00:00+02:00' } }))).resource,
        (await unindexed.create(consentFor({ status: 'inactive' }))).resource,
      ];
      const migration = listMigrations().find((name) => name.endsWith('consent-grant.sql'))!;
      await db.query(sql`DROP TABLE consent_grant`);
      await db.query(sql`DELETE FROM schema_migration WHERE name = ${migration}`);
      await migrate(db);
      for (const consent of stored) {
        const { rows } = await db.query<{ row: string }>(sql`
          SELECT concat_ws(' ', patient, actor, purpose, category, to_char(period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'),
                           to_char(period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')) AS row
          FROM consent_grant WHERE consent_id = ${consent.id!} ORDER BY row`);
        const expected = grantRowsOf(consent)
          .map((r) => [r.patient, r.actor, r.purpose, r.category, r.periodStart?.slice(0, 19), r.periodEnd?.slice(0, 19)].filter(Boolean).join(' '))
          .sort();
        expect(rows.map((r) => r.row)).toEqual(expected);
      }
    });
  });
});
