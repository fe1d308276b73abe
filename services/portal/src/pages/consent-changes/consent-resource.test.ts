/**
 * The Consent the portal writes: the sharing-consent shape with the signature in sourceAttachment, a change that keeps
 * the recipient and the start, a stop that only sets the status, and the terms read back from a stored consent; the
 * words of the statement a client signs.
 */
import type { Consent } from '@medplum/fhirtypes';
import { answersOf, changedConsent, newSharingConsent, stoppedConsent, termsFromAnswers, termsOf, type ConsentTerms } from './consent-resource';
import { parsePostedForm } from './consent-answers';
import { changeStatement, shareStatement } from './terms-words';

const terms: ConsentTerms = { recipient: 'Organization/pelvic', categories: ['treatment-goals', 'progress'], purpose: 'TREAT', until: { kind: 'date', date: '2027-03-01' } };
const signature = { name: 'Alex Rivera', statement: 'I agree to share …', signedAt: '2026-06-15T10:00:00.000Z', lang: 'en' as const };

describe('newSharingConsent', () => {
  const consent = newSharingConsent('Patient/alex', 'Organization/practice', terms, signature);

  test('has the sharing-consent shape', () => {
    expect(consent).toMatchObject({
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: 'Patient/alex' },
      performer: [{ reference: 'Patient/alex' }],
      organization: [{ reference: 'Organization/practice' }],
      policyRule: { coding: [{ code: 'OPTIN' }] },
      provision: {
        type: 'permit',
        actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/pelvic' } }],
        purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
        code: [
          { coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'treatment-goals' }] },
          { coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'progress' }] },
        ],
        period: { end: '2027-03-01' },
      },
    });
  });

  test('records the signature: typed name, time and statement, as plain text titled "Electronic signature"', () => {
    expect(consent.sourceAttachment).toMatchObject({ contentType: 'text/plain; charset=utf-8', title: 'Electronic signature', creation: signature.signedAt, language: 'en' });
    const text = Buffer.from(consent.sourceAttachment?.data ?? '', 'base64').toString('utf8');
    expect(text).toContain('Signed by (typed name): Alex Rivera');
    expect(text).toContain('Signed at: 2026-06-15T10:00:00.000Z');
    expect(text).toContain('Statement agreed to: I agree to share …');
  });

  test('an open end has no period', () => {
    expect(newSharingConsent('Patient/alex', 'Organization/practice', { ...terms, until: { kind: 'open' } }, signature).provision?.period).toBeUndefined();
  });

  test('reads back as the same terms, and as the answers that pre-fill a change', () => {
    expect(termsOf(consent)).toEqual(terms);
    expect(answersOf(terms)).toEqual({ recipient: 'Organization/pelvic', categories: ['treatment-goals', 'progress'], purpose: 'TREAT', untilKind: 'date', day: '1', month: '3', year: '2027' });
  });
});

describe('changedConsent and stoppedConsent', () => {
  const stored = {
    ...newSharingConsent('Patient/alex', 'Organization/practice', terms, signature),
    id: 'c1',
    meta: { versionId: '1' },
    provision: { ...newSharingConsent('Patient/alex', 'Organization/practice', terms, signature).provision, period: { start: '2026-01-01', end: '2027-03-01' } },
  } as Consent & { id: string };

  test('a change keeps the recipient and the start, and carries the new signature', () => {
    const next = changedConsent(stored, { ...terms, categories: ['treatment-goals'], until: { kind: 'open' } }, { ...signature, name: 'A. Rivera' });
    expect(next.id).toBe('c1');
    expect(next.provision?.actor).toEqual(stored.provision?.actor);
    expect(next.provision?.period).toEqual({ start: '2026-01-01' });
    expect(termsOf(next).categories).toEqual(['treatment-goals']);
    expect(Buffer.from(next.sourceAttachment?.data ?? '', 'base64').toString('utf8')).toContain('A. Rivera');
  });

  test('a stop sets the status only', () => {
    expect(stoppedConsent(stored)).toEqual({ ...stored, status: 'inactive' });
  });

  test('a consent with two purposes pre-fills no purpose (the client chooses one)', () => {
    const two = { ...stored, provision: { ...stored.provision, purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }, { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' }] } };
    expect(termsOf(two).purpose).toBeUndefined();
  });
});

describe('terms from answers, and the statement signed', () => {
  test('only complete answers with a future end make terms', () => {
    const answers = parsePostedForm({ recipient: 'Organization/pelvic', category: ['progress'], purpose: 'TREAT', until: 'open' }).answers;
    expect(termsFromAnswers(answers, '2026-06-15')).toEqual({ recipient: 'Organization/pelvic', categories: ['progress'], purpose: 'TREAT', until: { kind: 'open' } });
    expect(termsFromAnswers({ ...answers, categories: [] }, '2026-06-15')).toBeUndefined();
  });

  test('the statement names what, with whom, why and until when, in plain words', () => {
    expect(shareStatement(terms, 'Harbour Pelvic Health', 'en')).toBe(
      'I agree to share your goals and how things are going with Harbour Pelvic Health to treat you until 1 Mar 2027. I can stop this at any time. It takes effect on their very next request.',
    );
    expect(changeStatement({ ...terms, until: { kind: 'open' } }, 'Harbour Pelvic Health', 'es')).toBe(
      'Acepto que Harbour Pelvic Health pueda ver sus objetivos y cómo van las cosas para tratarle hasta que yo lo detenga. Puedo detener esto en cualquier momento. Tiene efecto desde su próxima solicitud.',
    );
  });
});
