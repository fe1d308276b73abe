/**
 * From the client's answers to the sharing Consent and back (shape: docs/DESIGN.md, "categories, labels, consent"),
 * and the electronic signature recorded with it: `Consent.sourceAttachment` (R4's "the source on which this consent
 * statement is based"), a text/plain statement with the typed name and the time, titled "Electronic signature". The
 * API accepts it from the client, keeps it with each version, and never shows it to a recipient. Pure: no I/O.
 */
import type { Attachment, Consent, ConsentProvision } from '@medplum/fhirtypes';
import { PURPOSE_SYSTEM, SHARE_CATEGORY_SYSTEM, SHAREABLE_CATEGORIES, type OfferedPurpose, type ShareableCategory, OFFERED_PURPOSES } from '../../i18n/categories';
import type { Language } from '../../i18n/catalogue';
import { dateFields, untilOf, type Answers, type Until } from './consent-answers';

export const RECIPIENT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const SIGNATURE_TITLE = 'Electronic signature';

/** What a consent says, as the questions ask it. */
export interface ConsentTerms {
  readonly recipient: string;
  readonly categories: readonly ShareableCategory[];
  readonly purpose: OfferedPurpose | undefined;
  readonly until: Until;
}

/** The signature as recorded: who typed which name, agreeing to which statement, when, in which language. */
export interface SignatureRecord {
  readonly name: string;
  readonly statement: string;
  /** ISO instant. */
  readonly signedAt: string;
  readonly lang: Language;
}

/** The recipient (IRCP actor) a consent names first, as `Type/id`. */
export function recipientOf(consent: Consent): string | undefined {
  return consent.provision?.actor?.find((a) => a.role?.coding?.some((c) => c.system === RECIPIENT_ROLE_SYSTEM && c.code === 'IRCP'))?.reference
    ?.reference;
}

/** The terms of a stored consent (categories this portal knows, in its order; one offered purpose or none). */
export function termsOf(consent: Consent): ConsentTerms {
  const codes = new Set((consent.provision?.code ?? []).flatMap((c) => c.coding ?? []).filter((c) => c.system === SHARE_CATEGORY_SYSTEM).map((c) => c.code));
  const purposes = (consent.provision?.purpose ?? []).filter((p) => p.system === PURPOSE_SYSTEM).map((p) => p.code);
  const purpose = OFFERED_PURPOSES.find((p) => purposes.includes(p));
  const end = consent.provision?.period?.end;
  return {
    recipient: recipientOf(consent) ?? '',
    categories: SHAREABLE_CATEGORIES.filter((c) => codes.has(c)),
    purpose: purposes.length === 1 ? purpose : undefined,
    until: end ? { kind: 'date', date: end.slice(0, 10) } : { kind: 'open' },
  };
}

/** The terms the answers give, once every question is answered well (else undefined). `today` is `YYYY-MM-DD`. */
export function termsFromAnswers(answers: Answers, today: string): ConsentTerms | undefined {
  const until = untilOf(answers, today);
  if (answers.recipient === undefined || answers.categories.length === 0 || !answers.purpose || !until) {
    return undefined;
  }
  return { recipient: answers.recipient, categories: answers.categories, purpose: answers.purpose, until };
}

/** The answers that start a change: the stored terms, pre-filled. */
export function answersOf(terms: ConsentTerms): Answers {
  return {
    recipient: terms.recipient,
    categories: terms.categories,
    purpose: terms.purpose,
    untilKind: terms.until.kind,
    ...(terms.until.kind === 'date' ? dateFields(terms.until.date) : { day: '', month: '', year: '' }),
  };
}

/** The signature as an Attachment: a plain-text record a person can read, in the language it was signed in. */
export function signatureAttachment(signature: SignatureRecord): Attachment {
  const text = [
    `${SIGNATURE_TITLE} (CareCircle sharing portal)`,
    `Signed by (typed name): ${signature.name}`,
    `Signed at: ${signature.signedAt}`,
    `Statement agreed to: ${signature.statement}`,
    '',
  ].join('\n');
  return {
    contentType: 'text/plain; charset=utf-8',
    language: signature.lang,
    title: SIGNATURE_TITLE,
    creation: signature.signedAt,
    data: Buffer.from(text, 'utf8').toString('base64'),
  };
}

function provisionOf(terms: ConsentTerms, base: ConsentProvision | undefined): ConsentProvision {
  const start = base?.period?.start;
  const end = terms.until.kind === 'date' ? terms.until.date : undefined;
  const period = start || end ? { ...(start ? { start } : {}), ...(end ? { end } : {}) } : undefined;
  return {
    ...base,
    type: 'permit',
    actor: base?.actor ?? [{ role: { coding: [{ system: RECIPIENT_ROLE_SYSTEM, code: 'IRCP' }] }, reference: { reference: terms.recipient } }],
    purpose: terms.purpose ? [{ system: PURPOSE_SYSTEM, code: terms.purpose }] : (base?.purpose ?? []),
    code: terms.categories.map((code) => ({ coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] })),
    period,
  };
}

/** A new sharing Consent of `patient` (by `Patient/{id}`), recorded under its practice, with the signature. */
export function newSharingConsent(patient: string, practice: string, terms: ConsentTerms, signature: SignatureRecord): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: patient },
    dateTime: signature.signedAt,
    performer: [{ reference: patient }],
    organization: [{ reference: practice }],
    sourceAttachment: signatureAttachment(signature),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: provisionOf(terms, undefined),
  };
}

/** The next version of `consent` with the new terms and the signature that confirmed them (recipient unchanged). */
export function changedConsent(consent: Consent & { id: string }, terms: ConsentTerms, signature: SignatureRecord): Consent & { id: string } {
  const { sourceReference: _reference, ...rest } = consent;
  return { ...rest, sourceAttachment: signatureAttachment(signature), provision: provisionOf(terms, consent.provision) };
}

/** The consent stopped: `status` inactive, everything else as it was. */
export function stoppedConsent(consent: Consent & { id: string }): Consent & { id: string } {
  return { ...consent, status: 'inactive' };
}
