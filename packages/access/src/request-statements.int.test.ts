/**
 * What a request costs the database, counted statement by statement.
 * - A partner's audited read or search: the statement that reads the rows also brings what the record needs (the
 *   caller's own clients, the grants in force, the latest versions of the rows' clients), so the AuditEvent is written
 *   by one statement in no transaction of its own (Transaction.queryLast), and carries the labels the share-labels rule
 *   gives it from what it describes.
 * - A practice's new Patient: its version alone, one statement, when it names only the directory (its own
 *   Organization, a Practitioner), which no psychotherapy note can be.
 */
import { buildSharingConsent, computeShareLabels, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { migrate, openDatabase, sql, type Database, type Repository } from '@carecircle/store';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner, createTestDatabase, type TestDatabase } from '@carecircle/testing';
import type { AuditEvent, Meta, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { createCallerRepository, createServerRepository } from './caller-repository';

const SETTINGS = { allowLoopbackHttp: false };
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** `db` with each statement recorded: `read` outside a transaction, `tx` or `last` (queryLast) inside one. */
function recording(db: Database, seen: string[]): Database {
  return {
    ...db,
    query: (statement) => (seen.push('read'), db.query(statement)),
    transaction: (fn, isolation) =>
      db.transaction(
        (tx) =>
          fn({
            ...tx,
            query: (statement) => (seen.push('tx'), tx.query(statement)),
            queryLast: (statement) => (seen.push('last'), tx.queryLast(statement)),
          }),
        isolation,
      ),
  };
}

describe('a partner\'s audited read and search (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Database;
  let server: Repository;
  let partner: string;
  let patient: Patient;
  let goal: Observation;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openDatabase({ databaseUrl: database.url });
    await migrate(db);
    server = createServerRepository(db, SETTINGS);
    const practice = `Organization/${(await server.create(buildOrganization())).resource.id}`;
    partner = `Organization/${(await server.create(buildOrganization({ name: 'Partner' }))).resource.id}`;
    // The client's own labels are stricter than what is disclosed: the record must carry them too.
    patient = (
      await server.create(
        buildPatient({
          managingOrganization: { reference: practice },
          meta: { security: [{ system: CONFIDENTIALITY, code: 'R' }, { system: ACT_CODE, code: 'ETH' }] },
        }),
      )
    ).resource;
    goal = (await server.create(buildObservation(patient.id!, { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'treatment-goals' }] } }))).resource;
    await server.create(buildSharingConsent({ patient: `Patient/${patient.id}`, custodian: practice, recipients: [partner], categories: ['treatment-goals'] }));
    await db.query(sql`INSERT INTO auth_client (id, kind, name, organization, jwks, scope)
                       VALUES (${`${partner}-ehr`}, 'system', 'Partner EHR', ${partner}, '{"keys":[]}'::jsonb, 'system/*.rs')`);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  async function asPartner(seen: string[], requestId: string): Promise<Repository> {
    const caller = { kind: 'system', clientId: `${partner}-ehr`, organization: partner as `Organization/${string}`, scope: 'system/*.rs' } as const;
    return createCallerRepository(recording(db, seen), SETTINGS, caller, 'TREAT', requestId);
  }

  /** The one AuditEvent written for `requestId`, and the labels the rule gives it from the current `described`. */
  async function recordOf(requestId: string, described: Resource[]): Promise<{ meta: Meta | undefined; expected: Meta }> {
    const found = await server.search('AuditEvent', new URLSearchParams({ patient: `Patient/${patient.id}`, _count: '1000' }));
    const events = (found.matches as AuditEvent[]).filter((event) => event.source?.site === requestId);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    const labels = computeShareLabels({ ...event, meta: {} }, undefined, described.map((r) => r.meta ?? {}));
    return { meta: event.meta, expected: { tag: labels?.tag, security: labels?.security } };
  }

  test('a read: the row with what the record needs, then the AuditEvent as one statement, labelled from what it describes', async () => {
    const seen: string[] = [];
    const repo = await asPartner(seen, 'req-read');
    expect((await repo.read('Observation', goal.id!)).id).toBe(goal.id);
    expect(seen).toEqual(['read', 'last']);
    const { meta, expected } = await recordOf('req-read', [goal, patient]);
    expect({ tag: meta?.tag, security: meta?.security }).toEqual(expected);
    expect(meta?.security).toEqual(expect.arrayContaining([{ system: CONFIDENTIALITY, code: 'R' }, { system: ACT_CODE, code: 'ETH' }]));
  });

  test('a search: the page with what the record needs, then the AuditEvent as one statement, labelled from what it describes', async () => {
    const seen: string[] = [];
    const repo = await asPartner(seen, 'req-search');
    const found = await repo.search('Observation', new URLSearchParams({ subject: `Patient/${patient.id}` }));
    expect(found.matches.map((m) => m.id)).toEqual([goal.id]);
    expect(seen).toEqual(['read', 'last']);
    const { meta, expected } = await recordOf('req-search', [goal, patient]);
    expect({ tag: meta?.tag, security: meta?.security }).toEqual(expected);
  });
});

describe('a practice\'s new Patient (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Database;
  let practice: `Organization/${string}`;
  let practitioner: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openDatabase({ databaseUrl: database.url });
    await migrate(db);
    const server = createServerRepository(db, SETTINGS);
    practice = `Organization/${(await server.create(buildOrganization())).resource.id}`;
    practitioner = `Practitioner/${(await server.create(buildPractitioner())).resource.id}`;
    await db.query(sql`INSERT INTO auth_client (id, kind, name, organization, jwks, scope)
                       VALUES (${`${practice}-ehr`}, 'system', 'Practice EHR', ${practice}, '{"keys":[]}'::jsonb, 'system/*.cruds')`);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  test('is one statement: its version, made the practice\'s own, with no look-up for the directory it names', async () => {
    const seen: string[] = [];
    const caller = { kind: 'system', clientId: `${practice}-ehr`, organization: practice, scope: 'system/*.cruds' } as const;
    const repo = await createCallerRepository(recording(db, seen), SETTINGS, caller, 'TREAT', 'req-create');
    const created = (await repo.create(buildPatient({ generalPractitioner: [{ reference: practitioner }] }))).resource;
    expect(seen).toEqual(['last']);
    expect(created.managingOrganization?.reference).toBe(practice);
    const stored = (await createServerRepository(db, SETTINGS).read('Patient', created.id!)) as Patient;
    expect(stored.generalPractitioner).toEqual([{ reference: practitioner }]);
    expect(stored.managingOrganization).toEqual({ reference: practice });
  });
});
