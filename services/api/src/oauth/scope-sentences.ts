/**
 * What an app asks for, in plain words for the sign-in page: the scopes it requested that its registration allows,
 * turned into short sentences ("See your CareCircle record (never your therapist's psychotherapy notes)", "Give,
 * change and stop sharing permissions", "Work with your clients' records"). Written for the person signing in, so
 * it says what the scopes let the app do here: a client's write scopes reach only its own sharing permissions
 * (access's caller-access-policy.ts), and no scope reaches a psychotherapy note.
 */
import { intersectScopes, parseScopes, type ResourceScope } from '@carecircle/auth';
import { isSupportedResourceType } from '@carecircle/fhir';
import type { SignInLocale, SignInMessages } from './sign-in-messages';

const SEES: ReadonlySet<string> = new Set(['r', 's']);
const CHANGES: ReadonlySet<string> = new Set(['c', 'u', 'd']);

/**
 * The sentences for an authorization request asking for `requested` of an app registered for `registered`, in the
 * order the page lists them: what the app may see, what it may change, and how long the person stays signed in.
 */
export function describeScopes(requested: string, registered: string, locale: SignInLocale, messages: SignInMessages): string[] {
  const granted = intersectScopes(parseScopes(requested), parseScopes(registered), { contexts: ['patient', 'user'], identity: [] });
  const list = new Intl.ListFormat(locale, { type: 'conjunction' });
  const typeNames = (scopes: readonly ResourceScope[]) =>
    list.format([...new Set(scopes.map((s) => (isSupportedResourceType(s.resourceType) ? messages.typeNames[s.resourceType] : s.resourceType)))]);
  const patient = granted.resources.filter((s) => s.context === 'patient');
  const user = granted.resources.filter((s) => s.context === 'user');
  const sees = patient.filter((s) => s.permissions.some((p) => SEES.has(p)));
  const changes = patient.filter((s) => s.permissions.some((p) => CHANGES.has(p)));

  const sentences: string[] = [];
  if (sees.some((s) => s.resourceType === '*')) {
    sentences.push(messages.scopeOwnRecord);
  } else if (sees.length > 0) {
    sentences.push(messages.scopeOwnRecordParts(typeNames(sees)));
  }
  // A client changes nothing of its record but its own Consents, whatever else a scope names.
  if (changes.some((s) => s.resourceType === '*' || s.resourceType === 'Consent')) {
    sentences.push(messages.scopeSharing);
  }
  const otherChanges = changes.filter((s) => s.resourceType !== '*' && s.resourceType !== 'Consent');
  if (otherChanges.length > 0) {
    sentences.push(messages.scopeOwnRecordChanges(typeNames(otherChanges)));
  }
  if (user.some((s) => s.permissions.some((p) => CHANGES.has(p)))) {
    sentences.push(messages.scopeClientsWork);
  } else if (user.length > 0) {
    sentences.push(messages.scopeClientsRead);
  }
  if (sentences.length === 0) {
    return [messages.scopeNothing];
  }
  if (granted.identity.has('offline_access')) {
    sentences.push(messages.scopeOffline);
  } else if (granted.identity.has('online_access')) {
    sentences.push(messages.scopeOnline);
  }
  return sentences;
}
