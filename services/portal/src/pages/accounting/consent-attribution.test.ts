/**
 * Which sharing choice allowed a disclosure: the version of the client's Consent in force when the event was recorded,
 * naming the recipient, for the purpose, listing the categories; a consent made or changed later is not it (its
 * history is asked for), nor a revoked one, nor one for another recipient.
 */
import type { AuditEvent, Consent } from '@medplum/fhirtypes';
import { consentThatAllowed, needsHistory } from './consent-attribution';

const ORG = 'Organization/o1';

function consent(id: string, lastUpdated: string, options: { status?: Consent['status']; actor?: string; codes?: string[]; end?: string } = {}): Consent {
  return {
    resourceType: 'Consent',
    id,
    meta: { versionId: '1', lastUpdated },
    status: options.status ?? 'active',
    scope: { coding: [{ code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    provision: {
      type: 'permit',
      ...(options.end ? { period: { end: options.end } } : {}),
      actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { reference: options.actor ?? ORG } }],
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
      code: (options.codes ?? ['demographics', 'treatment-goals']).map((code) => ({ coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code }] })),
    },
  };
}

const event: AuditEvent = {
  resourceType: 'AuditEvent',
  type: { code: 'rest' },
  recorded: '2026-12-03T10:00:00.000Z',
  outcome: '0',
  purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
  agent: [{ who: { reference: ORG }, requestor: true }],
  source: { observer: {} },
};

describe('consentThatAllowed', () => {
  test('the consent in force naming the recipient and listing the category, with the day it was made', () => {
    const c = consent('c1', '2026-11-01T09:00:00.000Z');
    expect(consentThatAllowed(event, ['treatment-goals'], [{ current: c }])).toEqual({ id: 'c1', date: '2026-11-01T09:00:00.000Z' });
  });

  test('not one for another recipient, without the category, revoked, ended, or made after the event', () => {
    expect(consentThatAllowed(event, ['treatment-goals'], [{ current: consent('c1', '2026-11-01T09:00:00Z', { actor: 'Organization/other' }) }])).toBeUndefined();
    expect(consentThatAllowed(event, ['trauma-history'], [{ current: consent('c1', '2026-11-01T09:00:00Z') }])).toBeUndefined();
    expect(consentThatAllowed(event, ['treatment-goals'], [{ current: consent('c1', '2026-11-01T09:00:00Z', { status: 'inactive' }) }])).toBeUndefined();
    expect(consentThatAllowed(event, ['treatment-goals'], [{ current: consent('c1', '2026-11-01T09:00:00Z', { end: '2026-12-02' }) }])).toBeUndefined();
    expect(consentThatAllowed(event, ['treatment-goals'], [{ current: consent('c1', '2026-12-05T09:00:00Z') }])).toBeUndefined();
  });

  test('a consent changed since: its history says which version was in force, and that version’s day is shown', () => {
    const revokedNow = consent('c1', '2026-12-05T09:00:00.000Z', { status: 'inactive' });
    expect(needsHistory(revokedNow, event)).toBe(true);
    expect(needsHistory(consent('c1', '2026-11-01T09:00:00Z'), event)).toBe(false);
    expect(needsHistory(consent('c1', '2026-12-05T09:00:00Z', { actor: 'Organization/other' }), event)).toBe(false);
    const history = [revokedNow, consent('c1', '2026-11-20T09:00:00.000Z'), consent('c1', '2026-11-01T09:00:00.000Z', { codes: ['demographics'] })];
    expect(consentThatAllowed(event, ['treatment-goals'], [{ current: revokedNow, history }])).toEqual({ id: 'c1', date: '2026-11-20T09:00:00.000Z' });
  });

  test('of two consents, the one listing more of the categories', () => {
    const narrow = consent('narrow', '2026-11-10T09:00:00.000Z', { codes: ['demographics', 'treatment-goals'] });
    const wide = consent('wide', '2026-11-01T09:00:00.000Z', { codes: ['demographics', 'treatment-goals', 'medications'] });
    expect(consentThatAllowed(event, ['treatment-goals', 'medications'], [{ current: narrow }, { current: wide }])?.id).toBe('wide');
    expect(consentThatAllowed(event, ['treatment-goals'], [{ current: narrow }, { current: wide }])?.id).toBe('narrow');
  });
});
