/**
 * Who a sharing names, in words: the clinic's or person's name, and what kind of provider it is, from the practice's
 * directory (the OrganizationAffiliation's specialty for a partner clinic), a PractitionerRole's specialty, or an
 * Organization's type, in that order. Pure: built from resources the loader fetched.
 */
import type { CodeableConcept, HumanName, Organization, OrganizationAffiliation, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';

export interface Recipient {
  readonly reference: string;
  /** The clinic's or person's name; undefined when the directory does not say. */
  readonly name: string | undefined;
  /** What kind of provider, in the directory's words; undefined when nothing says. */
  readonly kind: string | undefined;
}

/** Recipients by `Type/id`. */
export type RecipientDirectory = ReadonlyMap<string, Recipient>;

/** The words of a CodeableConcept: its text, else its first coding's display. */
export function conceptText(concept: CodeableConcept | undefined): string | undefined {
  const text = concept?.text?.trim() || concept?.coding?.find((c) => c.display?.trim())?.display?.trim();
  return text || undefined;
}

/** A person's name as written: its text, else prefix, given and family names. */
export function personName(names: readonly HumanName[] | undefined): string | undefined {
  const name = names?.find((n) => n.use === 'official') ?? names?.[0];
  if (!name) {
    return undefined;
  }
  const text = name.text?.trim() || [...(name.prefix ?? []), ...(name.given ?? []), name.family ?? ''].map((p) => p.trim()).filter(Boolean).join(' ');
  return text || undefined;
}

/**
 * Builds the directory of `references` from the resources fetched (Organizations, Practitioners, PractitionerRoles)
 * and the practice's affiliations.
 */
export function buildRecipientDirectory(
  references: readonly string[],
  resources: readonly Resource[],
  affiliations: readonly OrganizationAffiliation[],
): RecipientDirectory {
  const byRef = new Map<string, Resource>();
  for (const r of resources) {
    if (r.id) {
      byRef.set(`${r.resourceType}/${r.id}`, r);
    }
  }
  const roles = resources.filter((r): r is PractitionerRole => r.resourceType === 'PractitionerRole');

  const organizationName = (ref: string | undefined): string | undefined => {
    const org = ref ? byRef.get(ref) : undefined;
    return org?.resourceType === 'Organization' ? org.name?.trim() || org.alias?.[0] : undefined;
  };
  const organizationKind = (ref: string | undefined): string | undefined => {
    if (!ref) {
      return undefined;
    }
    const affiliation = affiliations.find((a) => a.participatingOrganization?.reference === ref && a.active !== false);
    const fromDirectory = affiliation ? (affiliation.specialty ?? []).map(conceptText).find(Boolean) : undefined;
    const org = byRef.get(ref) as Organization | undefined;
    return fromDirectory ?? (org?.resourceType === 'Organization' ? (org.type ?? []).map(conceptText).find(Boolean) : undefined);
  };
  const roleKind = (role: PractitionerRole): string | undefined =>
    (role.specialty ?? []).map(conceptText).find(Boolean) ?? (role.code ?? []).map(conceptText).find(Boolean) ?? organizationKind(role.organization?.reference);

  const directory = new Map<string, Recipient>();
  for (const reference of references) {
    const resource = byRef.get(reference);
    const type = reference.split('/')[0];
    let name: string | undefined;
    let kind: string | undefined;
    if (type === 'Organization') {
      name = organizationName(reference);
      kind = organizationKind(reference);
    } else if (type === 'Practitioner') {
      name = resource?.resourceType === 'Practitioner' ? personName(resource.name) : undefined;
      const role = roles.find((r) => r.practitioner?.reference === reference && r.active !== false);
      kind = role ? roleKind(role) : (resource as Practitioner | undefined)?.qualification?.map((q) => conceptText(q.code)).find(Boolean);
    } else if (type === 'PractitionerRole' && resource?.resourceType === 'PractitionerRole') {
      const practitioner = resource.practitioner?.reference ? byRef.get(resource.practitioner.reference) : undefined;
      const person = practitioner?.resourceType === 'Practitioner' ? personName(practitioner.name) : resource.practitioner?.display;
      const org = organizationName(resource.organization?.reference) ?? resource.organization?.display;
      name = person && org ? `${person}, ${org}` : (person ?? org);
      kind = roleKind(resource);
    }
    directory.set(reference, { reference, name, kind });
  }
  return directory;
}
