/**
 * The accounting's sentences: a disclosure names the provider, what it did, the categories in plain words and the
 * number of items, and links to the sharing choice that allowed it; a denial says "not allowed", a folded one how many
 * times it was tried; an unknown recipient is said to be unknown, never left blank; and the events the API writes
 * become the right entries.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { accountingEntryOf, type AccountingEntry } from './accounting-entry';
import { accountingSentence } from './accounting-sentence';

const ORG = 'Organization/org-1';
const PATIENT = 'Patient/p-1';

function entry(overrides: Partial<AccountingEntry> = {}): AccountingEntry {
  return {
    id: 'e1',
    recorded: '2026-12-03T10:15:00.000Z',
    outcome: 'allowed',
    actor: { kind: 'system', provider: 'Harbour Pelvic Health' },
    providerReference: ORG,
    interaction: 'read',
    categories: ['treatment-goals'],
    items: 2,
    times: 0,
    consent: { id: 'c-1', date: '2026-11-01T09:00:00.000Z' },
    ...overrides,
  };
}

/** An AuditEvent as the API writes one (docs/DESIGN.md, "Audit events"). */
function auditEvent(overrides: Partial<AuditEvent> & { items?: string[]; denied?: number } = {}): AuditEvent {
  const { items = ['Goal/g-1/_history/1'], denied, ...rest } = overrides;
  return {
    resourceType: 'AuditEvent',
    id: 'ae-1',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
    recorded: '2026-12-03T10:15:00.000Z',
    outcome: denied ? '4' : '0',
    purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
    agent: [
      { who: { reference: ORG }, requestor: true },
      { who: { identifier: { system: 'https://carecircle.dev/fhir/oauth-client', value: 'client-1' } }, requestor: false },
    ],
    source: { observer: { display: 'CareCircle API' } },
    entity: [
      { what: { reference: PATIENT }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1' } },
      ...items.map((reference) => ({ what: { reference } })),
    ],
    ...(denied ? { extension: [{ url: 'https://carecircle.dev/fhir/StructureDefinition/denied-count', valueInteger: denied }] } : {}),
    ...rest,
  };
}

describe('accountingSentence', () => {
  test('a disclosure: who, what, the categories in plain words, the items, and the sharing choice that allowed it', () => {
    expect(accountingSentence(entry(), 'en')).toEqual({
      text: 'Harbour Pelvic Health’s system looked at your goals (2 items)',
      ending: { text: 'allowed by what you shared on 1 Nov 2026', href: '/portal/sharing/c-1' },
    });
  });

  test('several categories are listed in plain words, one item in the singular, and in Spanish too', () => {
    const summary = entry({ interaction: 'summary', categories: ['treatment-goals', 'mental-health', 'medications'], items: 1 });
    expect(accountingSentence(summary, 'en').text).toBe(
      'Harbour Pelvic Health’s system received a summary of your goals, your mental health and your medicines (1 item)',
    );
    expect(accountingSentence(summary, 'es')).toEqual({
      text: 'El sistema de Harbour Pelvic Health recibió un resumen de sus objetivos, su salud mental y sus medicamentos (1 elemento)',
      ending: { text: 'permitido por lo que compartió el 1 nov 2026', href: '/portal/sharing/c-1' },
    });
  });

  test('a denial says it was not allowed, with no link', () => {
    const denial = entry({ outcome: 'denied', categories: ['trauma-history'], items: 1, times: 1, consent: undefined, actor: { kind: 'system', provider: 'Lakeside Urology' } });
    expect(accountingSentence(denial, 'en')).toEqual({
      text: 'Lakeside Urology’s system tried to look at your trauma history (1 item)',
      ending: { text: 'not allowed' },
    });
  });

  test('a folded denial says how many times it was tried, with the language’s digit grouping', () => {
    const folded = entry({ outcome: 'denied', categories: ['trauma-history'], items: 1, times: 1000, consent: undefined });
    expect(accountingSentence(folded, 'en').times).toBe('tried 1,000 times');
    expect(accountingSentence({ ...folded, times: 12000 }, 'es').times).toBe('lo intentó 12.000 veces');
  });

  test('an unknown recipient is named as unknown; a person at a provider by name; the operator as the administrator', () => {
    expect(accountingSentence(entry({ actor: { kind: 'system', provider: undefined }, consent: undefined }), 'en').text).toBe(
      'A provider CareCircle could not name looked at your goals (2 items)',
    );
    expect(accountingSentence(entry({ actor: { kind: 'person', person: 'Dr. Ana Ruiz', provider: 'Harbour Women’s Health' } }), 'en').text).toBe(
      'Dr. Ana Ruiz at Harbour Women’s Health looked at your goals (2 items)',
    );
    expect(accountingSentence(entry({ actor: { kind: 'operator' }, consent: undefined }), 'en')).toEqual({
      text: 'The CareCircle service administrator looked at your goals (2 items)',
      ending: { text: 'allowed' },
    });
  });

  test('items whose category is not known are "part of your record"', () => {
    expect(accountingSentence(entry({ categories: [], items: 3 }), 'en').text).toBe('Harbour Pelvic Health’s system looked at part of your record (3 items)');
  });
});

describe('accountingEntryOf', () => {
  const names = new Map([[ORG, 'Harbour Pelvic Health']]);

  test('a disclosure: the provider by name, the items but not the client, their categories, the consent asked', () => {
    const event = auditEvent({ items: ['Goal/g-1/_history/1', 'Goal/g-2/_history/3'], subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type' }] });
    const categories = new Map([
      ['Goal/g-1/_history/1', 'treatment-goals'],
      ['Goal/g-2/_history/3', 'treatment-goals'],
    ]);
    const asked: string[][] = [];
    const result = accountingEntryOf(event, names, categories, (_e, cats) => {
      asked.push([...cats]);
      return { id: 'c-1', date: '2026-11-01' };
    });
    expect(result).toEqual({
      id: 'ae-1',
      recorded: '2026-12-03T10:15:00.000Z',
      outcome: 'allowed',
      actor: { kind: 'system', provider: 'Harbour Pelvic Health' },
      providerReference: ORG,
      interaction: 'search',
      categories: ['treatment-goals'],
      items: 2,
      times: 0,
      consent: { id: 'c-1', date: '2026-11-01' },
    });
    expect(asked).toEqual([['treatment-goals']]);
  });

  test('a folded denial: its count from the extension, and no consent', () => {
    const event = auditEvent({ items: ['Condition/t-1'], denied: 1000 });
    const result = accountingEntryOf(event, names, new Map([['Condition/t-1', 'trauma-history']]), () => ({ id: 'never', date: '2026-01-01' }));
    expect(result).toMatchObject({ outcome: 'denied', times: 1000, categories: ['trauma-history'], items: 1, consent: undefined });
  });

  test('a practitioner acting, a notification, and an unnamed recipient', () => {
    const person = auditEvent({
      agent: [
        { who: { reference: 'Practitioner/pr-1' }, requestor: true },
        { who: { reference: ORG }, requestor: true },
      ],
    });
    expect(accountingEntryOf(person, new Map([...names, ['Practitioner/pr-1', 'Dr. Ana Ruiz']]), new Map(), () => undefined).actor).toEqual({
      kind: 'person',
      person: 'Dr. Ana Ruiz',
      provider: 'Harbour Pelvic Health',
    });
    const notified = auditEvent({
      agent: [
        { who: { reference: ORG }, requestor: true },
        { who: { identifier: { system: 'https://carecircle.dev/fhir/oauth-client', value: 'subscription/s-1' } }, requestor: false },
      ],
    });
    expect(accountingEntryOf(notified, names, new Map(), () => undefined).interaction).toBe('notification');
    expect(accountingEntryOf(auditEvent(), new Map(), new Map(), () => undefined).actor).toEqual({ kind: 'system', provider: undefined });
  });

  test('the operator (admin token) is the service administrator', () => {
    const event = auditEvent({ agent: [{ who: { identifier: { system: 'https://carecircle.dev/fhir/operator', value: 'admin' } }, requestor: true }] });
    expect(accountingEntryOf(event, names, new Map(), () => undefined).actor).toEqual({ kind: 'operator' });
  });
});
