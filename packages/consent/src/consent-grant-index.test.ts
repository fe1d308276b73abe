import { buildSharingConsent } from './consent-builders';
import { grantRowsOf } from './consent-grant-index';

function consent(overrides: Partial<Parameters<typeof buildSharingConsent>[0]> = {}) {
  return buildSharingConsent({
    id: 'c1',
    patient: 'Patient/p1',
    custodian: 'Organization/practice',
    recipients: ['Organization/obgyn', 'PractitionerRole/r1'],
    categories: ['progress', 'trauma-history'],
    purposes: ['TREAT', 'HPAYMT'],
    ...overrides,
  });
}

describe('grantRowsOf', () => {
  test('one row per recipient, purpose and category of an active permit', () => {
    const rows = grantRowsOf(consent());
    expect(rows).toHaveLength(2 * 2 * 2);
    expect(rows[0]).toEqual({ patient: 'Patient/p1', actor: 'Organization/obgyn', purpose: 'TREAT', category: 'progress', periodStart: undefined, periodEnd: undefined });
  });

  test('periods become instants: start inclusive, end exclusive, partial dates widened', () => {
    const [row] = grantRowsOf(consent({ recipients: ['Organization/obgyn'], categories: ['progress'], purposes: ['TREAT'], period: { start: '2026-05', end: '2026-06-30' } }));
    expect(row).toMatchObject({ periodStart: '2026-05-01T00:00:00.000Z', periodEnd: '2026-07-01T00:00:00.000Z' });
  });

  test.each([
    ['a revoked consent', consent({ status: 'inactive' })],
    ['a draft', consent({ status: 'draft' })],
    ['a deny provision', { ...consent(), provision: { ...consent().provision, type: 'deny' as const } }],
    ['a consent without patient', { ...consent(), patient: undefined }],
  ])('%s grants nothing', (_name, c) => {
    expect(grantRowsOf(c)).toEqual([]);
  });

  test('psychotherapy notes, unsupported purposes and actors without the IRCP role never make a row', () => {
    const c = consent({ recipients: ['Organization/obgyn'], categories: ['psychotherapy-notes', 'progress'], purposes: ['FOO', 'TREAT'] });
    c.provision!.actor!.push({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT' }] }, reference: { reference: 'Organization/author' } });
    expect(grantRowsOf(c).map((r) => `${r.actor} ${r.purpose} ${r.category}`)).toEqual(['Organization/obgyn TREAT progress']);
  });
});
