import { validateFhirResource } from '@carecircle/fhir';
import type { AuditEvent, Observation, Patient } from '@medplum/fhirtypes';
import {
  BALP_OAUTH_TOKEN_PROFILE,
  BALP_PATIENT_QUERY_PROFILE,
  BALP_PATIENT_READ_PROFILE,
  DENIED_COUNT_URL,
  denialAuditEvent,
  disclosureAuditEvent,
  PERMITTED_BY_URL,
  type AuditedParty,
  type PermittingGrant,
} from './audit-event-shape';

const SHARE = 'https://carecircle.dev/fhir/CodeSystem/share-category';
const recorded = new Date('2026-12-07T05:00:00Z');
const party: AuditedParty = {
  recipient: { organization: 'Organization/clinic', practitioner: 'Practitioner/pt', practitionerRoles: ['PractitionerRole/pt-at-clinic'] },
  clientId: 'clinic-ehr',
  purpose: 'TREAT',
  requestId: 'req-1',
  clientAddress: '192.0.2.10',
  serverBase: 'https://api.example.org/fhir/R4',
  tokenId: 'jti-1234',
};
const observation: Observation = {
  resourceType: 'Observation',
  id: 'obs-1',
  meta: { versionId: '3', tag: [{ system: SHARE, code: 'progress' }], security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }] },
  status: 'final',
  code: { text: 'PHQ-9' },
  subject: { reference: 'Patient/alex' },
};
const grants: PermittingGrant[] = [
  { patient: 'Patient/alex', category: 'progress', consentId: 'c1', consentVersion: 2 },
  { patient: 'Patient/alex', category: 'mental-health', consentId: 'c2', consentVersion: 5 },
  { patient: 'Patient/alex', category: 'care-plan', consentId: 'c1', consentVersion: 2 },
  { patient: 'Patient/jordan', category: 'progress', consentId: 'c9', consentVersion: 1 },
];

function permittedBy(event: AuditEvent, reference: string): string[] {
  const entity = event.entity?.find((e) => e.what?.reference === reference);
  return (entity?.extension ?? [])
    .filter((e) => e.url === PERMITTED_BY_URL)
    .map((e) => (e.extension ?? []).map((part) => part.valueReference?.reference ?? part.valueString ?? part.valueCode).join(' '));
}

function issuesOf(event: AuditEvent): string[] {
  try {
    validateFhirResource(event);
    return [];
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: { details?: { text?: string }; diagnostics?: string }[] } }).outcome;
    return (outcome?.issue ?? []).map((issue) => issue.details?.text ?? issue.diagnostics ?? '');
  }
}

describe('disclosure AuditEvents in the BALP shape', () => {
  test('a read claims IHE.BasicAudit.PatientRead and validates against it, naming the consent versions and provision that permitted it', () => {
    const event = disclosureAuditEvent(party, { interaction: 'read', patient: 'Patient/alex', resources: [observation], grants, recorded });
    expect(event.meta?.profile).toEqual([BALP_PATIENT_READ_PROFILE, BALP_OAUTH_TOKEN_PROFILE]);
    expect(issuesOf(event)).toEqual([]);
    // Its own category and the one its PSY label calls for, each by the consent version that grants it; not care-plan.
    expect(permittedBy(event, 'Observation/obs-1/_history/3')).toEqual([
      'Consent/c1/_history/2 Consent.provision progress',
      'Consent/c2/_history/5 Consent.provision mental-health',
    ]);
    expect(event.subtype?.map((c) => c.code)).toEqual(['read', 'disclose']);
    const user = event.agent?.find((a) => a.type?.coding?.some((c) => c.code === 'IRCP'));
    expect(user).toMatchObject({ who: { reference: 'Practitioner/pt' }, requestor: true, policy: ['jti-1234'], purposeOfUse: [{ coding: [{ code: 'TREAT' }] }] });
    expect(user?.type?.coding?.map((c) => c.code)).toEqual(['IRCP', 'UserOauthAgent']);
    // The contract's agents stay: the recipient's organization, practitioner and roles, and the OAuth client.
    expect(event.agent?.map((a) => a.who?.reference ?? a.who?.identifier?.value)).toEqual(
      expect.arrayContaining(['Organization/clinic', 'Practitioner/pt', 'PractitionerRole/pt-at-clinic', 'clinic-ehr']),
    );
    expect(event.source?.site).toBe('req-1');
  });

  test('a search claims IHE.BasicAudit.PatientQuery, with the query base64 in entity.query', () => {
    const search = 'Observation?subject=Patient/alex&_count=10';
    const event = disclosureAuditEvent(party, { interaction: 'search', patient: 'Patient/alex', resources: [observation, observation], query: search, grants, recorded });
    expect(event.meta?.profile).toEqual([BALP_PATIENT_QUERY_PROFILE, BALP_OAUTH_TOKEN_PROFILE]);
    expect(issuesOf(event)).toEqual([]);
    const query = event.entity?.find((e) => e.role?.code === '24');
    expect(Buffer.from(query?.query ?? '', 'base64').toString('utf8')).toBe(search);
    // Each disclosed resource once, as the contract says.
    expect(event.entity?.filter((e) => e.what?.reference === 'Observation/obs-1/_history/3')).toHaveLength(1);
  });

  test('the Patient resource names every consent version in force, without a category', () => {
    const patient: Patient = { resourceType: 'Patient', id: 'alex', meta: { versionId: '1' } };
    const event = disclosureAuditEvent(party, { interaction: 'read', patient: 'Patient/alex', resources: [patient], grants, recorded });
    expect(permittedBy(event, 'Patient/alex/_history/1')).toEqual(['Consent/c1/_history/2 Consent.provision', 'Consent/c2/_history/5 Consent.provision']);
    expect(issuesOf(event)).toEqual([]);
  });

  test('without the network address BALP requires, an event claims no profile (and still validates as R4)', () => {
    const event = disclosureAuditEvent({ ...party, clientAddress: undefined, tokenId: undefined }, { interaction: 'read', patient: 'Patient/alex', resources: [observation], grants, recorded });
    expect(event.meta).toBeUndefined();
    expect(issuesOf(event)).toEqual([]);
  });

  test('the profiles refuse what BALP refuses: no client network, no patient, a failure', () => {
    const event = disclosureAuditEvent(party, { interaction: 'read', patient: 'Patient/alex', resources: [observation], grants, recorded });
    const withoutNetwork = { ...event, agent: event.agent?.map(({ network: _network, ...agent }) => agent) };
    expect(issuesOf(withoutNetwork).join('\n')).toMatch(/client agent/);
    const withoutPatient = { ...event, entity: event.entity?.filter((e) => e.role?.code !== '1') };
    expect(issuesOf(withoutPatient).join('\n')).toMatch(/patient entity/);
    expect(issuesOf({ ...event, outcome: '4' }).length).toBeGreaterThan(0);
    const withoutTokenId = { ...event, agent: event.agent?.map(({ policy: _policy, ...agent }) => agent) };
    expect(issuesOf(withoutTokenId).join('\n')).toMatch(/UserOauthAgent/);
    const query = disclosureAuditEvent(party, { interaction: 'search', patient: 'Patient/alex', resources: [observation], query: 'Observation', grants, recorded });
    const withoutQuery = { ...query, entity: query.entity?.filter((e) => e.role?.code !== '24') };
    expect(issuesOf(withoutQuery).join('\n')).toMatch(/query entity/);
    // A search with no query of its own (a conditional create's) claims nothing it could not meet.
    const unspelled = disclosureAuditEvent(party, { interaction: 'search', patient: 'Patient/alex', resources: [observation], grants, recorded });
    expect(unspelled.meta?.profile).toEqual([BALP_OAUTH_TOKEN_PROFILE]);
    expect(issuesOf(unspelled)).toEqual([]);
  });

  test('the operator is the user agent, named by identifier', () => {
    const event = disclosureAuditEvent(
      { ...party, recipient: undefined, clientId: undefined },
      { interaction: 'vread', patient: 'Patient/alex', resources: [observation], grants: [], recorded },
    );
    expect(event.outcomeDesc).toBe('Disclosed to the operator (admin token)');
    expect(event.subtype?.map((c) => c.code)).toEqual(['vread']);
    expect(issuesOf(event)).toEqual([]);
  });
});

describe('denial AuditEvents', () => {
  test('keep the folded counts, take the BALP shape and claim no RESTful profile (BALP fixes their outcome to success)', () => {
    const times = new Map([
      ['Observation/obs-1', 3],
      ['Condition/c-1', 1],
    ]);
    const event = denialAuditEvent(party, { interaction: 'read', patient: 'Patient/alex', times, recorded });
    expect(event.outcome).toBe('4');
    expect(event.meta).toBeUndefined();
    expect(event.extension).toEqual([{ url: DENIED_COUNT_URL, valueInteger: 4 }]);
    expect(event.entity?.[0]?.what?.reference).toBe('Patient/alex');
    expect(event.entity?.find((e) => e.what?.reference === 'Observation/obs-1')?.extension).toEqual([{ url: DENIED_COUNT_URL, valueInteger: 3 }]);
    expect(issuesOf(event)).toEqual([]);
  });
});
