/**
 * What the share, change and stop pages read from the API as the client: the providers the practice works with (its
 * directory, OrganizationAffiliation with the partner organizations included), the client's consents, one own consent
 * (anything not the client's is the 404 page, as the API answers it), and a recipient's name.
 */
import type { Bundle, Consent, Organization, OrganizationAffiliation, Patient, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { FhirRequestFailed, type FhirApi } from '../../fhir-api';
import { PortalError } from '../../http/portal-error';
import { recipientOf } from './consent-resource';

/** A provider the client may share with. */
export interface Provider {
  /** `Organization/{id}` */
  readonly reference: string;
  readonly name: string;
  /** What kind of provider (the affiliation's specialty), when the directory says. */
  readonly kind: string | undefined;
}

/** The practice's directory as the client sees it. */
export interface Directory {
  /** `Organization/{id}` of the client's practice (Patient.managingOrganization), if any. */
  readonly practice: string | undefined;
  readonly providers: readonly Provider[];
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The providers the client's practice works with, by name. */
export async function loadDirectory(api: FhirApi): Promise<Directory> {
  const patient = await api.read<Patient>(`/${api.patient}`);
  const practice = patient.managingOrganization?.reference;
  if (!practice || !/^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(practice)) {
    return { practice: undefined, providers: [] };
  }
  const bundle = await api.search<OrganizationAffiliation | Organization>(
    `/OrganizationAffiliation?primary-organization=${encodeURIComponent(practice)}&active=true` +
      '&_include=OrganizationAffiliation:participating-organization&_count=100',
  );
  const organizations = new Map<string, Organization>();
  for (const entry of bundle.entry ?? []) {
    if (entry.resource?.resourceType === 'Organization' && entry.resource.id) {
      organizations.set(`Organization/${entry.resource.id}`, entry.resource);
    }
  }
  const today = new Date().toISOString().slice(0, 10);
  const providers = new Map<string, Provider>();
  for (const entry of bundle.entry ?? []) {
    const affiliation = entry.resource;
    if (affiliation?.resourceType !== 'OrganizationAffiliation' || (affiliation.period?.end && affiliation.period.end.slice(0, 10) < today)) {
      continue;
    }
    const reference = affiliation.participatingOrganization?.reference;
    const organization = reference ? organizations.get(reference) : undefined;
    if (!reference || !organization || organization.active === false || providers.has(reference) || reference === practice) {
      continue;
    }
    const specialty = affiliation.specialty?.[0];
    providers.set(reference, {
      reference,
      name: organization.name ?? affiliation.participatingOrganization?.display ?? reference,
      kind: specialty?.text ?? specialty?.coding?.find((c) => c.display)?.display,
    });
  }
  return { practice, providers: [...providers.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** The recipients the client shares with now (active consents), as `Type/id`. */
export async function loadActiveRecipients(api: FhirApi): Promise<Set<string>> {
  const bundle: Bundle<Consent> = await api.search<Consent>(`/Consent?patient=${encodeURIComponent(api.patient)}&status=active&_count=100`);
  return new Set(
    (bundle.entry ?? [])
      .map((e) => e.resource)
      .filter((c): c is Consent => c?.resourceType === 'Consent')
      .map(recipientOf)
      .filter((r): r is string => r !== undefined),
  );
}

/** A consent with its id and version. */
export type StoredConsent = Consent & { id: string; meta: { versionId: string } };

/**
 * One of the client's own consents. An id that is malformed, unknown or another client's answers the 404 page (the
 * API answers 404 for another client's consent; a consent naming another patient is refused here too).
 */
export async function loadOwnConsent(api: FhirApi, consentId: string | undefined): Promise<StoredConsent> {
  if (!consentId || !ID.test(consentId)) {
    throw new PortalError(404, 'notFound');
  }
  const consent = await api.read<Consent>(`/Consent/${consentId}`);
  if (consent.resourceType !== 'Consent' || consent.id !== consentId || consent.patient?.reference !== api.patient || !consent.meta?.versionId) {
    throw new PortalError(404, 'notFound');
  }
  return consent as StoredConsent;
}

/** A recipient's name (an organization's, a practitioner's, a role's practitioner or organization), if readable. */
export async function loadRecipientName(api: FhirApi, reference: string | undefined): Promise<string | undefined> {
  if (!reference || !/^(Organization|Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/.test(reference)) {
    return undefined;
  }
  let resource: Resource;
  try {
    resource = await api.read<Resource>(`/${reference}`);
  } catch (err) {
    if (err instanceof FhirRequestFailed) {
      return undefined;
    }
    throw err;
  }
  switch (resource.resourceType) {
    case 'Organization':
      return (resource as Organization).name;
    case 'Practitioner':
      return personName(resource as Practitioner);
    case 'PractitionerRole': {
      const role = resource as PractitionerRole;
      return role.practitioner?.display ?? role.organization?.display;
    }
    default:
      return undefined;
  }
}

function personName(practitioner: Practitioner): string | undefined {
  const name = practitioner.name?.[0];
  if (!name) {
    return undefined;
  }
  return name.text ?? [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ');
}
