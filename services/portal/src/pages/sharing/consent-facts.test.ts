/**
 * The facts of a sharing: status at a moment, the overview's order (ending within 30 days first, the past last),
 * and the history read from versions (given, categories added and removed, dates and purpose changed, stopped,
 * restarted, ended; who made each version as far as the record tells).
 */
import type { Consent, Provenance } from '@medplum/fhirtypes';
import { SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { authorOf, consentFacts, consentHistory, orderConsents, periodEndInstant, statusOf, type ConsentFacts } from './consent-facts';

const SELF = 'Patient/alex';
const NOW = new Date('2026-12-07T10:00:00Z');

function consent(options: {
  id?: string;
  version?: string;
  lastUpdated?: string;
  status?: Consent['status'];
  categories?: string[];
  start?: string;
  end?: string;
  recipient?: string;
  purposes?: string[];
  signed?: string;
}): Consent {
  return {
    resourceType: 'Consent',
    id: options.id ?? 'c1',
    meta: { versionId: options.version ?? '1', lastUpdated: options.lastUpdated ?? '2026-11-01T09:00:00Z' },
    status: options.status ?? 'active',
    scope: { coding: [{ code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: SELF },
    ...(options.signed ? { sourceAttachment: { contentType: 'text/plain', title: options.signed } } : {}),
    provision: {
      type: 'permit',
      ...(options.start || options.end ? { period: { ...(options.start ? { start: options.start } : {}), ...(options.end ? { end: options.end } : {}) } } : {}),
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { reference: options.recipient ?? 'Organization/obgyn' },
        },
      ],
      purpose: (options.purposes ?? ['TREAT']).map((code) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code })),
      code: (options.categories ?? ['treatment-goals']).map((code) => ({ coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] })),
    },
  };
}

describe('status of a sharing', () => {
  test('active within its period is sharing now; before its start not started; after its end ended; inactive stopped', () => {
    expect(statusOf(consent({}), NOW)).toBe('active');
    expect(statusOf(consent({ start: '2026-12-08' }), NOW)).toBe('not-started');
    expect(statusOf(consent({ end: '2026-12-06' }), NOW)).toBe('ended');
    expect(statusOf(consent({ status: 'inactive' }), NOW)).toBe('stopped');
  });

  test('an end date covers its whole day (as the API reads it, in UTC)', () => {
    expect(statusOf(consent({ end: '2026-12-07' }), NOW)).toBe('active');
    expect(periodEndInstant('2026-12-07')).toBe(Date.parse('2026-12-07T23:59:59.999Z'));
  });

  test('ending within 30 days counts the whole days left; later or open-ended is not ending soon', () => {
    expect(consentFacts(consent({ end: '2026-12-17' }), NOW).endsInDays).toBe(10);
    expect(consentFacts(consent({ end: '2026-12-07' }), NOW).endsInDays).toBe(0);
    expect(consentFacts(consent({ end: '2027-02-01' }), NOW).endsInDays).toBeUndefined();
    expect(consentFacts(consent({}), NOW).endsInDays).toBeUndefined();
    expect(consentFacts(consent({ status: 'inactive', end: '2026-12-17' }), NOW).endsInDays).toBeUndefined();
  });

  test('categories come in the portal’s order, and psychotherapy notes never', () => {
    const facts = consentFacts(consent({ categories: ['medications', 'psychotherapy-notes', 'treatment-goals', 'mental-health'] }), NOW);
    expect(facts.categories).toEqual(['treatment-goals', 'mental-health', 'medications']);
  });
});

describe('the overview’s order', () => {
  const names: Record<string, string> = { 'Organization/a': 'Anchor Clinic', 'Organization/b': 'Birch Clinic', 'Organization/c': 'Cedar Clinic' };
  const nameOf = (f: ConsentFacts) => names[f.recipients[0] ?? ''] ?? '';

  test('ending soon first (soonest first), then in force by name, then not started, then the past (latest first)', () => {
    const all = [
      consent({ id: 'open-c', recipient: 'Organization/c' }),
      consent({ id: 'stopped-old', recipient: 'Organization/a', status: 'inactive', lastUpdated: '2026-10-01T00:00:00Z' }),
      consent({ id: 'soon-20', recipient: 'Organization/a', end: '2026-12-27' }),
      consent({ id: 'open-a', recipient: 'Organization/a' }),
      consent({ id: 'later', recipient: 'Organization/a', start: '2027-01-01' }),
      consent({ id: 'ended', recipient: 'Organization/b', end: '2026-12-01' }),
      consent({ id: 'soon-3', recipient: 'Organization/c', end: '2026-12-10' }),
      consent({ id: 'far', recipient: 'Organization/b', end: '2027-06-01' }),
    ].map((c) => consentFacts(c, NOW));
    const ordered = orderConsents(all, nameOf);
    expect(ordered.endingSoon.map((f) => f.id)).toEqual(['soon-3', 'soon-20']);
    expect(ordered.current.map((f) => f.id)).toEqual(['open-a', 'far', 'open-c', 'later']);
    expect(ordered.past.map((f) => f.id)).toEqual(['ended', 'stopped-old']);
  });
});

describe('history of a sharing', () => {
  test('given, then categories added and removed, then stopped — oldest first, from _history’s newest-first list', () => {
    const versions = [
      consent({ version: '3', status: 'inactive', categories: ['treatment-goals', 'medications'], lastUpdated: '2026-12-03T00:00:00Z' }),
      consent({ version: '2', categories: ['treatment-goals', 'medications'], lastUpdated: '2026-12-02T00:00:00Z' }),
      consent({ version: '1', categories: ['treatment-goals', 'mental-health'], lastUpdated: '2026-12-01T00:00:00Z' }),
    ];
    const events = consentHistory(versions, [], SELF, NOW);
    expect(events.map((e) => e.change)).toEqual([
      { kind: 'given', categories: ['treatment-goals', 'mental-health'] },
      { kind: 'changed', added: ['medications'], removed: ['mental-health'] },
      { kind: 'stopped' },
    ]);
    expect(events.map((e) => e.at)).toEqual(['2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', '2026-12-03T00:00:00Z']);
    expect(events.every((e) => e.by === 'you')).toBe(true);
  });

  test('a changed period and purpose are named with before and after; a version that changes nothing is "saved again"', () => {
    const events = consentHistory(
      [
        consent({ version: '1', end: '2027-01-01' }),
        consent({ version: '2', end: '2027-03-01', purposes: ['CAREMGT'] }),
        consent({ version: '3', end: '2027-03-01', purposes: ['CAREMGT'] }),
      ],
      [],
      SELF,
      NOW,
    );
    expect(events.map((e) => e.change)).toEqual([
      { kind: 'given', categories: ['treatment-goals'], end: '2027-01-01' },
      { kind: 'changed', added: [], removed: [], period: { before: { end: '2027-01-01' }, after: { end: '2027-03-01' } }, purposes: { before: ['TREAT'], after: ['CAREMGT'] } },
      { kind: 'changed', added: [], removed: [] },
    ]);
  });

  test('stopped and started again, with a change in the same version; an end that has passed is the last event', () => {
    const events = consentHistory(
      [
        consent({ version: '1' }),
        consent({ version: '2', status: 'inactive' }),
        consent({ version: '3', categories: ['treatment-goals', 'progress'], end: '2026-12-05' }),
      ],
      [],
      SELF,
      NOW,
    );
    expect(events.map((e) => e.change.kind)).toEqual(['given', 'stopped', 'changed', 'restarted', 'ended']);
    expect(events.at(-1)).toMatchObject({ change: { kind: 'ended', end: '2026-12-05' }, by: undefined });
  });

  test('who: a Provenance of the version says so; else no form or the portal’s e-signature is the client, another new form "signed", a kept one unknown', () => {
    const provenance: Provenance = {
      resourceType: 'Provenance',
      target: [{ reference: 'Consent/c1/_history/2' }, { reference: SELF }],
      recorded: '2026-12-02T00:00:00Z',
      agent: [{ type: { coding: [{ code: 'author' }] }, who: { reference: 'Practitioner/therapist' } }],
    };
    const v1 = consent({ version: '1', signed: 'Signed release' });
    const v2 = consent({ version: '2', signed: 'Signed release' });
    const v3 = consent({ version: '3', signed: 'Signed release' });
    const v4 = consent({ version: '4' });
    const v5 = consent({ version: '5', signed: 'A new signed release' });
    expect(authorOf(v1, undefined, [provenance], SELF)).toBe('signed');
    expect(authorOf(v2, v1, [provenance], SELF)).toBe('practice');
    expect(authorOf(v3, v2, [provenance], SELF)).toBe('unknown');
    expect(authorOf(v4, v3, [provenance], SELF)).toBe('you');
    expect(authorOf(v5, v4, [provenance], SELF)).toBe('signed');
    const online = consent({ version: '6', signed: 'Electronic signature' });
    expect(authorOf(online, v5, [], SELF)).toBe('you');
    expect(authorOf({ ...online, status: 'inactive', meta: { versionId: '7' } }, online, [], SELF)).toBe('you');
    const own: Provenance = { ...provenance, target: [{ reference: 'Consent/c1/_history/3' }], agent: [{ who: { reference: SELF } }] };
    expect(authorOf(v3, v2, [own], SELF)).toBe('you');
  });
});
