/**
 * The demo care network, as data: a sex-therapy practice and its therapist, two clients with charts across the share
 * categories, an OB-GYN clinic and a pelvic-floor physical-therapy clinic, both in the practice's directory of the
 * providers it works with. Every resource carries a demo identifier
 * (system {@link DEMO_SYSTEM}), so creating the network again finds what is there instead of making it twice.
 * Names and stories are invented.
 */
import { SHARE_CATEGORY_SYSTEM } from '@carecircle/fhir';
import type { CodeableConcept, Coding, Condition, Consent, OrganizationAffiliation, Resource } from '@medplum/fhirtypes';

export const DEMO_SYSTEM = 'https://carecircle.dev/fhir/demo';

/** The people who sign in: the therapist and the two clients (their usernames). */
export type Person = 'therapist' | 'alex' | 'jordan';
/** The partner clinics' EHR systems. */
export type PartnerSystem = 'obgyn' | 'pelvic-pt';

export const PEOPLE: readonly Person[] = ['therapist', 'alex', 'jordan'];
export const PARTNER_SYSTEMS: readonly PartnerSystem[] = ['obgyn', 'pelvic-pt'];

export interface PartnerClinic {
  key: PartnerSystem;
  name: string;
  /** What kind of provider it is, as its affiliation with the practice says (SNOMED CT practice setting). */
  specialty: CodeableConcept;
  /** The EHR system's name as registered. */
  systemName: string;
  /** What it may ask for: reads under consent, the referral workflow's writes, its own subscriptions. */
  scope: string;
}

export const PRACTICE_NAME = 'Riverside Sex Therapy';
export const THERAPIST = { given: 'Sam', family: 'Okafor', prefix: 'Dr.' };
export const CLIENTS = {
  alex: { given: 'Alex', family: 'Rivera', birthDate: '1990-04-12', gender: 'female' },
  jordan: { given: 'Jordan', family: 'Lee', birthDate: '1985-09-30', gender: 'male' },
} as const;

const PARTNER_SCOPE =
  'system/*.rs system/Task.u system/Communication.c system/DocumentReference.c system/Subscription.cud';

const SNOMED = 'http://snomed.info/sct';

export const PARTNERS: Readonly<Record<PartnerSystem, PartnerClinic>> = {
  obgyn: {
    key: 'obgyn',
    name: "Harbour Women's Health (OB-GYN)",
    specialty: { coding: [{ system: SNOMED, code: '394585009', display: 'Obstetrics and gynecology' }], text: 'Obstetrics and gynecology (OB-GYN)' },
    systemName: "Harbour Women's Health EHR",
    scope: PARTNER_SCOPE,
  },
  'pelvic-pt': {
    key: 'pelvic-pt',
    name: 'Harbour Pelvic Health (pelvic-floor PT)',
    specialty: { coding: [{ system: SNOMED, code: '722138006', display: 'Physiotherapy' }], text: 'Pelvic-floor physical therapy' },
    systemName: 'Harbour Pelvic Health EHR',
    scope: PARTNER_SCOPE,
  },
};

/**
 * The practice's directory entry for a partner clinic it works with (FHIR OrganizationAffiliation): the practice as
 * `organization`, the clinic as `participatingOrganization`, in force from `since`, with the clinic's specialty. The
 * sharing portal offers a client these providers.
 */
export function partnerAffiliation(practice: string, partnerOrganization: string, partner: PartnerSystem, since: string): OrganizationAffiliation {
  return {
    resourceType: 'OrganizationAffiliation',
    active: true,
    period: { start: since },
    organization: { reference: `Organization/${practice}`, display: PRACTICE_NAME },
    participatingOrganization: { reference: `Organization/${partnerOrganization}`, display: PARTNERS[partner].name },
    code: [{ coding: [{ system: 'http://hl7.org/fhir/organization-role', code: 'provider', display: 'Provider' }] }],
    specialty: [PARTNERS[partner].specialty],
  };
}

/** The scopes of the demo's sign-in app: clients read their record and manage their consents; the therapist works. */
export const APP_NAME = 'CareCircle demo sign-in';
export const APP_SCOPE = 'patient/*.rs patient/Consent.cu user/*.cruds';
export const CLIENT_SCOPE = 'patient/*.rs patient/Consent.cu';
export const THERAPIST_SCOPE = 'user/*.cruds';
/** Where the demo app "redirects": nothing listens there; the token tool reads the code from the redirect itself. */
export const APP_REDIRECT_URI = 'http://localhost/carecircle-demo/callback';

/** The identifier every demo resource carries. */
export function demoIdentifier(key: string): { system: string; value: string } {
  return { system: DEMO_SYSTEM, value: key };
}

function category(code: string): Coding[] {
  return [{ system: SHARE_CATEGORY_SYSTEM, code }];
}

function concept(text: string, coding?: Coding): CodeableConcept {
  return coding ? { coding: [coding], text } : { text };
}

/** The ids the chart builders need. */
export interface ChartContext {
  patient: string;
  therapist: string;
}

/** One client's chart: one or more resources per share category, each with its demo key. */
export function chartOf(client: keyof typeof CLIENTS, ctx: ChartContext): Array<{ key: string; resource: Resource }> {
  const subject = { reference: `Patient/${ctx.patient}` };
  const recorder = { reference: `Practitioner/${ctx.therapist}` };
  const entry = (key: string, tag: string, resource: Resource) => ({
    key: `${client}-${key}`,
    resource: { ...resource, identifier: [demoIdentifier(`${client}-${key}`)], meta: { tag: category(tag) } } as Resource,
  });
  const condition = (key: string, tag: string, code: CodeableConcept, more: Partial<Condition> = {}) =>
    entry(key, tag, {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code,
      subject,
      recorder,
      ...more,
    });
  const observation = (key: string, tag: string, text: string, valueString: string) =>
    entry(key, tag, { resourceType: 'Observation', status: 'final', code: concept(text), subject, valueString });
  if (client === 'alex') {
    return [
      condition('concern', 'presenting-concerns', concept('Pain with penetration (dyspareunia)', { system: 'http://snomed.info/sct', code: '71315007', display: 'Dyspareunia' })),
      condition('anxiety', 'mental-health', concept('Generalized anxiety', { system: 'http://snomed.info/sct', code: '21897009', display: 'Generalized anxiety disorder' })),
      condition('trauma', 'trauma-history', concept('History of sexual trauma, disclosed in therapy; pelvic exams can be distressing'), {
        note: [{ text: 'Prefers to be told before each step of an exam, and to be able to pause it.' }],
      }),
      entry('goal', 'treatment-goals', {
        resourceType: 'Goal',
        lifecycleStatus: 'active',
        description: concept('Intercourse without pain within six months'),
        subject,
      }),
      entry('homework', 'care-plan', {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        title: 'Pelvic-floor relaxation homework',
        subject,
        activity: [{ detail: { status: 'in-progress', description: 'Relaxation breathing and dilator practice, three times a week' } }],
      }),
      observation('adherence', 'progress', 'Homework adherence', 'Completed 2 of 3 practice sessions this week'),
      observation('medication', 'medications', 'Current medication', 'Sertraline 50 mg daily, prescribed by primary care'),
      entry('session-note', 'psychotherapy-notes', {
        resourceType: 'DocumentReference',
        status: 'current',
        type: concept('Psychotherapy note'),
        subject,
        description: 'Session notes (never leave the practice)',
        content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Process notes from session 4.').toString('base64') } }],
      }),
    ];
  }
  return [
    condition('concern', 'presenting-concerns', concept('Low sexual desire', { system: 'http://snomed.info/sct', code: '231513009', display: 'Hypoactive sexual desire disorder' })),
    observation('relationship', 'relationship-context', 'Relationship context', 'In a long-term relationship; partner supportive of therapy'),
    entry('goal', 'treatment-goals', {
      resourceType: 'Goal',
      lifecycleStatus: 'active',
      description: concept('Talk about desire with my partner without arguing'),
      subject,
    }),
  ];
}

/** A sharing Consent of `patient`, recorded by its practice on the client's signed request (the form attached). */
export function sharingConsent(key: string, patient: string, practice: string, recipient: string, categories: readonly string[]): Consent {
  return {
    resourceType: 'Consent',
    identifier: [demoIdentifier(key)],
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    performer: [{ reference: `Patient/${patient}` }],
    organization: [{ reference: `Organization/${practice}` }],
    sourceAttachment: { contentType: 'text/plain', title: 'Signed release of information (demo)', data: Buffer.from('Signed by the client.').toString('base64') },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { reference: recipient },
        },
      ],
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
      code: categories.map((code) => ({ coding: category(code) })),
    },
  };
}

/** A referral (ServiceRequest) of `patient` to `performer`, requested by the therapist; the server adds its Task. */
export function referral(key: string, patient: string, therapist: string, performer: string, reason: string): Resource {
  return {
    resourceType: 'ServiceRequest',
    identifier: [demoIdentifier(key)],
    status: 'active',
    intent: 'order',
    priority: 'routine',
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
    code: concept(reason),
    subject: { reference: `Patient/${patient}` },
    requester: { reference: `Practitioner/${therapist}` },
    performer: [{ reference: performer }],
  };
}
