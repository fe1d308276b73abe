/**
 * The share categories and purposes of use in plain words: what each category holds, with an example, and why
 * psychotherapy notes are never shared. The codes are the API's contract (docs/DESIGN.md, "categories, labels,
 * consent"); the portal shows only the words.
 */
import { defineCatalogue, type Language } from './catalogue';

/**
 * The portal's own copy of @carecircle/fhir's SHARE_CATEGORY_SYSTEM: the portal is a pure HTTP client of the public
 * API and imports no domain package, so it spells the contract's code system once, here, for all its pages.
 */
export const SHARE_CATEGORY_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/share-category';
export const PURPOSE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** The categories a client may share, in the order the portal lists them. */
export const SHAREABLE_CATEGORIES = [
  'demographics',
  'presenting-concerns',
  'treatment-goals',
  'care-plan',
  'progress',
  'trauma-history',
  'mental-health',
  'sexual-history',
  'medications',
  'relationship-context',
] as const;
export type ShareableCategory = (typeof SHAREABLE_CATEGORIES)[number];

/** Never shared with anyone, whatever a consent says (contract). */
export const NEVER_SHARED_CATEGORY = 'psychotherapy-notes';

/** The purposes the portal offers; treatment is the default and by far the most common. */
export const OFFERED_PURPOSES = ['TREAT', 'CAREMGT'] as const;
export type OfferedPurpose = (typeof OFFERED_PURPOSES)[number];

interface CategoryWords {
  readonly name: string;
  readonly contains: string;
  readonly example: string;
}

export const categoryWords = defineCatalogue<Record<ShareableCategory | 'psychotherapy-notes', CategoryWords>>(
  {
    demographics: {
      name: 'Basic details',
      contains: 'Your name, date of birth and how to contact you.',
      example: 'For example: your phone number, so the clinic can book you in.',
    },
    'presenting-concerns': {
      name: 'What brought you to therapy',
      contains: 'The concerns you came to therapy with.',
      example: 'For example: pain during sex.',
    },
    'treatment-goals': {
      name: 'Your goals',
      contains: 'What you and your therapist are working towards.',
      example: 'For example: feeling comfortable with touch again.',
    },
    'care-plan': {
      name: 'Your care plan',
      contains: 'The plan you agreed with your therapist, and who does what.',
      example: 'For example: weekly sessions and exercises at home.',
    },
    progress: {
      name: 'How things are going',
      contains: 'Updates on your progress, including exercises and how often you do them.',
      example: 'For example: you did your pelvic-floor exercises 4 times last week.',
    },
    'trauma-history': {
      name: 'Trauma history',
      contains: 'Past experiences of trauma you have told your therapist about, so you do not have to tell them again.',
      example: 'For example: a summary your therapist wrote with you.',
    },
    'mental-health': {
      name: 'Mental health',
      contains: 'Mental health conditions and concerns, such as anxiety or depression.',
      example: 'For example: a diagnosis of anxiety.',
    },
    'sexual-history': {
      name: 'Sexual history',
      contains: 'Information about your sexual health and history.',
      example: 'For example: when a concern first started.',
    },
    medications: {
      name: 'Medicines',
      contains: 'Medicines you take, or that were suggested.',
      example: 'For example: a prescription from your doctor.',
    },
    'relationship-context': {
      name: 'Relationships',
      contains: 'Information about your relationships that matters for your care.',
      example: 'For example: that you come to some sessions with your partner.',
    },
    'psychotherapy-notes': {
      name: 'Therapy session notes',
      contains: 'Your therapist’s private notes from your sessions.',
      example: 'These are never shared with anyone, not even with your consent. The law protects them specially, and keeping them private helps therapy work.',
    },
  },
  {
    demographics: {
      name: 'Datos básicos',
      contains: 'Su nombre, fecha de nacimiento y cómo contactarle.',
      example: 'Por ejemplo: su número de teléfono, para que la clínica pueda darle una cita.',
    },
    'presenting-concerns': {
      name: 'Por qué vino a terapia',
      contains: 'Las preocupaciones con las que llegó a terapia.',
      example: 'Por ejemplo: dolor durante las relaciones sexuales.',
    },
    'treatment-goals': {
      name: 'Sus objetivos',
      contains: 'Lo que usted y su terapeuta quieren lograr.',
      example: 'Por ejemplo: volver a sentirse cómodo o cómoda con el contacto físico.',
    },
    'care-plan': {
      name: 'Su plan de atención',
      contains: 'El plan que acordó con su terapeuta y quién hace qué.',
      example: 'Por ejemplo: sesiones semanales y ejercicios en casa.',
    },
    progress: {
      name: 'Cómo van las cosas',
      contains: 'Información sobre su progreso, incluidos los ejercicios y con qué frecuencia los hace.',
      example: 'Por ejemplo: hizo sus ejercicios de suelo pélvico 4 veces la semana pasada.',
    },
    'trauma-history': {
      name: 'Historia de trauma',
      contains: 'Experiencias traumáticas que ha contado a su terapeuta, para que no tenga que volver a contarlas.',
      example: 'Por ejemplo: un resumen que su terapeuta escribió con usted.',
    },
    'mental-health': {
      name: 'Salud mental',
      contains: 'Condiciones y preocupaciones de salud mental, como ansiedad o depresión.',
      example: 'Por ejemplo: un diagnóstico de ansiedad.',
    },
    'sexual-history': {
      name: 'Historia sexual',
      contains: 'Información sobre su salud e historia sexual.',
      example: 'Por ejemplo: cuándo empezó una preocupación.',
    },
    medications: {
      name: 'Medicamentos',
      contains: 'Medicamentos que toma o que le recomendaron.',
      example: 'Por ejemplo: una receta de su médico.',
    },
    'relationship-context': {
      name: 'Relaciones',
      contains: 'Información sobre sus relaciones que importa para su atención.',
      example: 'Por ejemplo: que viene a algunas sesiones con su pareja.',
    },
    'psychotherapy-notes': {
      name: 'Notas de las sesiones de terapia',
      contains: 'Las notas privadas de su terapeuta sobre sus sesiones.',
      example:
        'Nunca se comparten con nadie, ni siquiera con su consentimiento. La ley las protege de forma especial, y mantenerlas privadas ayuda a que la terapia funcione.',
    },
  },
);

export const purposeWords = defineCatalogue<Record<OfferedPurpose | 'other', string>>(
  {
    TREAT: 'To treat you',
    CAREMGT: 'To coordinate your care',
    other: 'For another purpose',
  },
  {
    TREAT: 'Para tratarle',
    CAREMGT: 'Para coordinar su atención',
    other: 'Para otro propósito',
  },
);

/** The plain name of a category code (the code itself for one this portal does not know). */
export function categoryName(code: string, lang: Language): string {
  const words = (categoryWords[lang] as Record<string, CategoryWords | undefined>)[code];
  return words?.name ?? code;
}

/** The plain words of a purpose code. */
export function purposeName(code: string, lang: Language): string {
  const words = purposeWords[lang] as Record<string, string | undefined>;
  return words[code] ?? words.other ?? code;
}

/** Formats a date (or date-time) for reading, in the reader's language: "3 Dec 2026" / "3 dic 2026". */
export function formatDate(value: string | number | Date, lang: Language): string {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00`) : new Date(value);
  return new Intl.DateTimeFormat(lang === 'es' ? 'es-ES' : 'en-GB', { day: 'numeric', month: 'short', year: 'numeric' }).format(date);
}

/** Formats a moment with its time: "3 Dec 2026, 14:05". */
export function formatDateTime(value: string | number | Date, lang: Language): string {
  return new Intl.DateTimeFormat(lang === 'es' ? 'es-ES' : 'en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(value));
}
