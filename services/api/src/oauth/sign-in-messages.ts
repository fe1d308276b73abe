/**
 * The words of the authorization endpoint's pages (the sign-in form and its error page), in English and Spanish, and
 * the choice between them: the authorization request's `ui_locales` (OpenID Connect Core 3.1.2.1, a space-separated
 * list in order of preference), else the browser's `Accept-Language`, else English. The Spanish is typed as the
 * English, so a missing key or a message with other values fails the typecheck; sign-in-messages.test.ts fails on an
 * empty one. Messages with values are functions of them; what they return is plain text, escaped by the page.
 * Spanish addresses the reader as "usted", as the portal does.
 */
import type { SupportedResourceType } from '@carecircle/fhir';

/** The languages the sign-in pages speak; the first is the fallback. */
export const SIGN_IN_LOCALES = ['en', 'es'] as const;
export type SignInLocale = (typeof SIGN_IN_LOCALES)[number];

/** What a page says about a request it cannot go on with: to the person, and to the app's developer. */
export type RequestProblemKey =
  | 'noClient'
  | 'unknownClient'
  | 'repeatedClient'
  | 'redirectUri'
  | 'stateRepeated'
  | 'stateTooLong'
  | 'stateUnsendable'
  | 'crossSite'
  | 'unreadable';

const en = {
  pageTitle: 'CareCircle',
  signInHeading: 'Sign in to CareCircle',
  asking: (app: string) => `${app} is asking to:`,
  username: 'Username',
  password: 'Password',
  signIn: 'Sign in',
  cancel: 'Cancel',
  cancelHint: (app: string) => `Cancel takes you back to ${app} without signing in. Nothing is shared.`,
  errorCredentials: 'The username or password is not correct.',
  errorExpired: 'This sign-in form has expired. Please sign in again.',
  errorThrottled: 'Too many unsuccessful attempts. Please wait a little and try again.',
  errorUnavailable: 'Signing in is not possible at the moment. Please try again in a few seconds.',
  scopeOwnRecord: "See your CareCircle record (never your therapist's psychotherapy notes)",
  scopeOwnRecordParts: (types: string) => `See these parts of your CareCircle record: ${types}`,
  scopeSharing: 'Give, change and stop sharing permissions',
  scopeOwnRecordChanges: (types: string) => `Add to or change these parts of your CareCircle record: ${types}`,
  scopeClientsWork: "Work with your clients' records",
  scopeClientsRead: "See your clients' records",
  scopeOffline: 'Keep you signed in until you sign out (after 14 days without use you sign in again)',
  scopeOnline: 'Keep you signed in while you use it, for up to 12 hours',
  scopeNothing: 'Nothing that can be allowed: signing in will take you back to the app',
  errorPageHeading: 'This sign-in cannot continue',
  errorPageWhatToDo: 'Go back to the app you came from and try again. If this keeps happening, tell the people who make the app what this page says.',
  errorPageForDeveloper: "For the app's developer:",
  noClientPerson: 'The app did not say which app it is.',
  noClientDeveloper: 'The request has no client_id. Send the client_id CareCircle gave the app when it was registered.',
  unknownClientPerson: 'This app is not registered with CareCircle, or it has been switched off.',
  unknownClientDeveloper:
    'client_id does not name an enabled app that signs people in (a public or confidential app registered with redirect_uris). Check the client_id, or ask the CareCircle operator whether the app was disabled.',
  repeatedClientPerson: 'The app sent a request CareCircle cannot read.',
  repeatedClientDeveloper: 'client_id or redirect_uri appears more than once in the request. Send each exactly once.',
  redirectUriPerson: 'The app asked CareCircle to send you back to an address it has not registered.',
  redirectUriDeveloper:
    "redirect_uri is missing, or is not exactly one of the app's registered redirect URIs (compared character by character). Send a registered one, or have the operator add it (PATCH /admin/clients/{id}).",
  stateRepeatedPerson: 'The app sent a request CareCircle cannot read.',
  stateRepeatedDeveloper: 'state appears more than once in the request. Send it exactly once.',
  stateTooLongPerson: 'The app sent a request CareCircle cannot answer.',
  stateTooLongDeveloper: 'state is longer than 1024 characters, too long to send back. Send a shorter value (32 random bytes are enough).',
  stateUnsendablePerson: 'The app sent a request CareCircle cannot answer.',
  stateUnsendableDeveloper: 'state holds a NUL character, which cannot be sent back. Send printable text.',
  crossSitePerson: 'This sign-in was not sent from the CareCircle sign-in page.',
  crossSiteDeveloper:
    'The sign-in form must be posted from the page CareCircle showed (its Origin or Referer named another site). Send the person to GET /oauth2/authorize rather than posting the form yourself.',
  unreadablePerson: 'The app sent a request CareCircle cannot read.',
  unreadableDeveloper: (detail: string) => detail,
  typeNames: {
    AuditEvent: 'who has seen your record',
    Basic: 'other notes',
    CarePlan: 'care plans',
    CareTeam: 'care teams',
    Communication: 'messages',
    Composition: 'documents',
    Condition: 'concerns',
    Consent: 'sharing permissions',
    DocumentReference: 'documents and notes',
    Endpoint: 'connections',
    Goal: 'goals',
    Observation: 'progress and observations',
    Organization: 'organizations',
    OrganizationAffiliation: 'the providers your practice works with',
    Patient: 'your details',
    Practitioner: 'practitioners',
    PractitionerRole: 'practitioner roles',
    Provenance: 'who changed your record',
    ServiceRequest: 'referrals',
    Subscription: 'notifications',
    Task: 'referral tasks',
  } satisfies Record<SupportedResourceType, string> as Record<SupportedResourceType, string>,
};

export type SignInMessages = typeof en;

const es: SignInMessages = {
  pageTitle: 'CareCircle',
  signInHeading: 'Inicie sesión en CareCircle',
  asking: (app) => `${app} le pide permiso para:`,
  username: 'Usuario',
  password: 'Contraseña',
  signIn: 'Iniciar sesión',
  cancel: 'Cancelar',
  cancelHint: (app) => `Cancelar le devuelve a ${app} sin iniciar sesión. No se comparte nada.`,
  errorCredentials: 'El usuario o la contraseña no son correctos.',
  errorExpired: 'Este formulario de inicio de sesión ha caducado. Vuelva a iniciar sesión.',
  errorThrottled: 'Demasiados intentos fallidos. Espere un poco y vuelva a intentarlo.',
  errorUnavailable: 'No es posible iniciar sesión en este momento. Vuelva a intentarlo en unos segundos.',
  scopeOwnRecord: 'Ver su expediente de CareCircle (nunca las notas de psicoterapia de su terapeuta)',
  scopeOwnRecordParts: (types) => `Ver estas partes de su expediente de CareCircle: ${types}`,
  scopeSharing: 'Dar, cambiar y retirar permisos para compartir',
  scopeOwnRecordChanges: (types) => `Añadir o cambiar estas partes de su expediente de CareCircle: ${types}`,
  scopeClientsWork: 'Trabajar con los expedientes de sus clientes',
  scopeClientsRead: 'Ver los expedientes de sus clientes',
  scopeOffline: 'Mantener su sesión abierta hasta que la cierre (tras 14 días sin uso, vuelve a iniciar sesión)',
  scopeOnline: 'Mantener su sesión abierta mientras la usa, hasta 12 horas',
  scopeNothing: 'Nada que se pueda permitir: al iniciar sesión volverá a la aplicación',
  errorPageHeading: 'Este inicio de sesión no puede continuar',
  errorPageWhatToDo:
    'Vuelva a la aplicación de la que venía e inténtelo de nuevo. Si vuelve a ocurrir, comunique a quienes hacen la aplicación lo que dice esta página.',
  errorPageForDeveloper: 'Para quien desarrolla la aplicación:',
  noClientPerson: 'La aplicación no dijo qué aplicación es.',
  noClientDeveloper: 'La solicitud no tiene client_id. Envíe el client_id que CareCircle dio a la aplicación al registrarla.',
  unknownClientPerson: 'Esta aplicación no está registrada en CareCircle, o ha sido desactivada.',
  unknownClientDeveloper:
    'client_id no nombra una aplicación activa que inicie sesiones de personas (una aplicación pública o confidencial registrada con redirect_uris). Compruebe el client_id, o pregunte al operador de CareCircle si la aplicación fue desactivada.',
  repeatedClientPerson: 'La aplicación envió una solicitud que CareCircle no puede leer.',
  repeatedClientDeveloper: 'client_id o redirect_uri aparece más de una vez en la solicitud. Envíe cada uno exactamente una vez.',
  redirectUriPerson: 'La aplicación pidió a CareCircle que le devuelva a una dirección que no tiene registrada.',
  redirectUriDeveloper:
    'redirect_uri falta, o no es exactamente una de las redirect URIs registradas de la aplicación (se comparan carácter por carácter). Envíe una registrada, o pida al operador que la añada (PATCH /admin/clients/{id}).',
  stateRepeatedPerson: 'La aplicación envió una solicitud que CareCircle no puede leer.',
  stateRepeatedDeveloper: 'state aparece más de una vez en la solicitud. Envíelo exactamente una vez.',
  stateTooLongPerson: 'La aplicación envió una solicitud que CareCircle no puede responder.',
  stateTooLongDeveloper: 'state tiene más de 1024 caracteres, demasiado largo para devolverlo. Envíe un valor más corto (bastan 32 bytes aleatorios).',
  stateUnsendablePerson: 'La aplicación envió una solicitud que CareCircle no puede responder.',
  stateUnsendableDeveloper: 'state contiene un carácter NUL, que no se puede devolver. Envíe texto imprimible.',
  crossSitePerson: 'Este inicio de sesión no se envió desde la página de inicio de sesión de CareCircle.',
  crossSiteDeveloper:
    'El formulario debe enviarse desde la página que mostró CareCircle (su Origin o Referer nombraba otro sitio). Lleve a la persona a GET /oauth2/authorize en lugar de enviar el formulario usted.',
  unreadablePerson: 'La aplicación envió una solicitud que CareCircle no puede leer.',
  unreadableDeveloper: (detail) => detail,
  typeNames: {
    AuditEvent: 'quién ha visto su expediente',
    Basic: 'otras notas',
    CarePlan: 'planes de cuidado',
    CareTeam: 'equipos de cuidado',
    Communication: 'mensajes',
    Composition: 'documentos',
    Condition: 'motivos de consulta',
    Consent: 'permisos para compartir',
    DocumentReference: 'documentos y notas',
    Endpoint: 'conexiones',
    Goal: 'objetivos',
    Observation: 'progreso y observaciones',
    Organization: 'organizaciones',
    OrganizationAffiliation: 'los proveedores con los que trabaja su consulta',
    Patient: 'sus datos',
    Practitioner: 'profesionales',
    PractitionerRole: 'funciones de los profesionales',
    Provenance: 'quién cambió su expediente',
    ServiceRequest: 'derivaciones',
    Subscription: 'notificaciones',
    Task: 'tareas de derivación',
  },
};

/** Every catalogue, by locale (read by the tests, which check none is missing or empty). */
export const SIGN_IN_CATALOGUES: Readonly<Record<SignInLocale, SignInMessages>> = { en, es };

/** The words of `locale`. */
export function signInMessages(locale: SignInLocale): SignInMessages {
  return SIGN_IN_CATALOGUES[locale];
}

/** The locale of a language tag's primary subtag (`es-MX` -> `es`), when we speak it. */
function localeOf(tag: string): SignInLocale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  return SIGN_IN_LOCALES.find((locale) => locale === primary);
}

/**
 * The language of a sign-in page: the first of `uiLocales` (space-separated, in order of preference) that we speak,
 * else the `Accept-Language` range we speak with the highest weight (RFC 9110 section 12.5.4; a `*` or nothing we
 * speak: English), else English.
 */
export function chooseSignInLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): SignInLocale {
  for (const tag of (uiLocales ?? '').split(' ')) {
    const locale = localeOf(tag);
    if (locale) {
      return locale;
    }
  }
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((range) => range.tag !== '' && range.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const range of ranked) {
    if (range.tag === '*') {
      return 'en';
    }
    const locale = localeOf(range.tag);
    if (locale) {
      return locale;
    }
  }
  return 'en';
}
