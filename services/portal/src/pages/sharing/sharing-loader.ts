/**
 * The sharing pages' loaders: the calls to the public FHIR API, as the signed-in client, that fetch what the pages
 * show. Few round trips whatever the number of consents: the client's Consents with their recipients
 * (`_include=Consent:actor`), then at most one search each for the practice's directory entries of those recipients
 * and for the PractitionerRoles behind named people, in parallel.
 */
import type { Bundle, Consent, OrganizationAffiliation, Provenance, Resource } from '@medplum/fhirtypes';
import type { FhirApi } from '../../fhir-api';
import { PortalError, SignInRequired } from '../../http/portal-error';
import { recipientsOf } from './consent-facts';
import { buildRecipientDirectory, type RecipientDirectory } from './recipient-directory';

/** The ids the API assigns (FHIR's id rule); anything else in a URL answers the 404 page without asking the API. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** True for a string that can be a FHIR id. */
export function isFhirId(value: string): boolean {
  return FHIR_ID.test(value);
}

/** At most this many consents on the overview (a client has a handful; the page stays one request). */
const CONSENT_PAGE = 200;

export interface ClientConsents {
  readonly consents: readonly Consent[];
  readonly directory: RecipientDirectory;
}

function resourcesOf<T extends Resource = Resource>(bundle: Bundle): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => Boolean(r));
}

function idsOf(references: readonly string[], type: string): string[] {
  return references.filter((r) => r.startsWith(`${type}/`)).map((r) => r.slice(type.length + 1));
}

/** The client's consents (all, or the one with `consentId`), with their recipients in words. */
export async function loadClientConsents(api: FhirApi, consentId?: string): Promise<ClientConsents> {
  if (consentId !== undefined && !isFhirId(consentId)) {
    throw new PortalError(404, 'notFound');
  }
  const query = new URLSearchParams({ patient: api.patient, _include: 'Consent:actor', _count: String(CONSENT_PAGE) });
  if (consentId !== undefined) {
    query.set('_id', consentId);
  }
  const bundle = await api.search(`/Consent?${query.toString()}`);
  const resources = resourcesOf(bundle);
  // Only the client's own: the API shows a client no other, and the portal does not take that on trust.
  const consents = resources.filter((r): r is Consent => r.resourceType === 'Consent' && r.patient?.reference === api.patient);
  if (consentId !== undefined && !consents.some((c) => c.id === consentId)) {
    throw new PortalError(404, 'notFound');
  }
  const references = [...new Set(consents.flatMap(recipientsOf))];
  const practices = [...new Set(consents.map((c) => c.organization?.[0]?.reference).filter((r): r is string => Boolean(r)))];
  const organizations = idsOf(references, 'Organization');
  const practitioners = idsOf(references, 'Practitioner');
  const roles = idsOf(references, 'PractitionerRole');

  const affiliations = organizations.length > 0 && practices.length > 0
    ? api.search<OrganizationAffiliation>(
        `/OrganizationAffiliation?${new URLSearchParams({
          'primary-organization': practices.join(','),
          'participating-organization': organizations.map((id) => `Organization/${id}`).join(','),
          _count: '1000',
        }).toString()}`,
      )
    : undefined;
  const practitionerRoles = practitioners.length > 0
    ? api.search(
        `/PractitionerRole?${new URLSearchParams({ practitioner: practitioners.map((id) => `Practitioner/${id}`).join(','), _count: '1000' }).toString()}`,
      )
    : undefined;
  const namedRoles = roles.length > 0
    ? api.search(
        `/PractitionerRole?_id=${encodeURIComponent(roles.join(','))}&_include=PractitionerRole:practitioner&_include=PractitionerRole:organization&_count=1000`,
      )
    : undefined;
  const [affiliationBundle, practitionerRoleBundle, namedRoleBundle] = await Promise.all([
    affiliations?.catch(directoryUnavailable),
    practitionerRoles?.catch(directoryUnavailable),
    namedRoles?.catch(directoryUnavailable),
  ]);
  const directoryResources = [
    ...resources.filter((r) => r.resourceType !== 'Consent'),
    ...(practitionerRoleBundle ? resourcesOf(practitionerRoleBundle) : []),
    ...(namedRoleBundle ? resourcesOf(namedRoleBundle) : []),
  ];
  const affiliationResources = affiliationBundle ? resourcesOf<OrganizationAffiliation>(affiliationBundle).filter((r) => r.resourceType === 'OrganizationAffiliation') : [];
  return { consents, directory: buildRecipientDirectory(references, directoryResources, affiliationResources) };
}

/**
 * The directory only adds words (what kind of provider): when it cannot be read the page still shows the sharing,
 * with the plain fallback, rather than failing. A busy API or a lapsed sign-in still ends the page as usual.
 */
function directoryUnavailable(err: unknown): undefined {
  if (err instanceof PortalError || err instanceof SignInRequired) {
    throw err;
  }
  return undefined;
}

/** Every version of the client's consent `consentId`, and the Provenance records about it (if any). */
export async function loadConsentHistory(api: FhirApi, consentId: string): Promise<{ versions: Consent[]; provenances: Provenance[] }> {
  const [history, provenance] = await Promise.all([
    api.search<Consent>(`/Consent/${encodeURIComponent(consentId)}/_history?_count=1000`),
    api.search<Provenance>(`/Provenance?target=${encodeURIComponent(`Consent/${consentId}`)}&_count=1000`).catch(directoryUnavailable),
  ]);
  return {
    versions: resourcesOf<Consent>(history).filter((r) => r.resourceType === 'Consent'),
    provenances: provenance ? resourcesOf<Provenance>(provenance).filter((r) => r.resourceType === 'Provenance') : [],
  };
}

/** What `recipient` (`Type/id`) would get now: the client's `$summary` previewed for it. */
export async function loadSummaryFor(api: FhirApi, recipient: string): Promise<Bundle> {
  return api.search(`/${api.patient}/$summary?recipient=${encodeURIComponent(recipient)}`);
}
