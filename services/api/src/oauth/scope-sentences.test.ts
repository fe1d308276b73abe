import { describeScopes } from './scope-sentences';
import { signInMessages } from './sign-in-messages';

const en = signInMessages('en');
const es = signInMessages('es');

describe('describeScopes: what an app asks for, in plain words', () => {
  test('a client portal: the own record (never psychotherapy notes), sharing permissions, staying signed in', () => {
    const registered = 'offline_access patient/*.rs patient/Consent.cu';
    expect(describeScopes('offline_access patient/*.rs patient/Consent.cu', registered, 'en', en)).toEqual([
      "See your CareCircle record (never your therapist's psychotherapy notes)",
      'Give, change and stop sharing permissions',
      'Keep you signed in until you sign out (after 14 days without use you sign in again)',
    ]);
    expect(describeScopes('patient/*.rs patient/Consent.cu', registered, 'es', es)).toEqual([
      'Ver su expediente de CareCircle (nunca las notas de psicoterapia de su terapeuta)',
      'Dar, cambiar y retirar permisos para compartir',
    ]);
  });

  test('only what the registration allows is described', () => {
    expect(describeScopes('patient/*.rs patient/Consent.cu offline_access', 'patient/Consent.rs', 'en', en)).toEqual([
      'See these parts of your CareCircle record: sharing permissions',
    ]);
    expect(describeScopes('system/*.rs', 'patient/*.rs', 'en', en)).toEqual(['Nothing that can be allowed: signing in will take you back to the app']);
  });

  test('specific types are named in words, listed as the language lists them', () => {
    expect(describeScopes('patient/Consent.rs patient/AuditEvent.rs online_access', 'patient/*.rs online_access', 'en', en)).toEqual([
      'See these parts of your CareCircle record: sharing permissions and who has seen your record',
      'Keep you signed in while you use it, for up to 12 hours',
    ]);
    expect(describeScopes('patient/Consent.rs patient/AuditEvent.rs', 'patient/*.rs', 'es', es)).toEqual([
      'Ver estas partes de su expediente de CareCircle: permisos para compartir y quién ha visto su expediente',
    ]);
  });

  test('a practitioner app: working with clients\' records, or only seeing them', () => {
    expect(describeScopes('user/*.cruds', 'user/*.cruds', 'en', en)).toEqual(["Work with your clients' records"]);
    expect(describeScopes('user/*.rs', 'user/*.cruds', 'en', en)).toEqual(["See your clients' records"]);
    expect(describeScopes('patient/*.rs user/*.cruds', 'patient/*.rs user/*.cruds', 'en', en)).toEqual([
      "See your CareCircle record (never your therapist's psychotherapy notes)",
      "Work with your clients' records",
    ]);
  });

  test('v1 scopes read as their v2 equivalents', () => {
    expect(describeScopes('patient/*.read patient/Consent.write', 'patient/*.cruds', 'en', en)).toEqual([
      "See your CareCircle record (never your therapist's psychotherapy notes)",
      'Give, change and stop sharing permissions',
    ]);
  });
});
