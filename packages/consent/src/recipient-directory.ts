/**
 * Who a recipient is, as consents can name it: an Organization; a Practitioner acting for an organization, with its
 * active PractitionerRoles there; a PractitionerRole, which is its practitioner acting for its organization. Resolved
 * the same way for a caller's token and for the questions the custodian and the client ask about a recipient
 * (`$disclosure-check`, `$summary?recipient=`), so the answer to a question is what the recipient's token gets.
 *
 * A practitioner's organizations are those its tokens carry: the organizations of its enabled user accounts; a
 * practitioner without an account is placed by its active roles (what the directory says). A consent naming a role
 * matches only that practitioner, at that organization, while the role is in force; never the organization's systems.
 *
 * A role is in force while it is not marked inactive, `now` lies within its `period` (open ends allowed, partial dates
 * read as the consent's period is) and its organization is not marked inactive: a role outside its period names
 * nobody. Recipients are resolved per request with the request's clock, so a role whose period ends stops granting
 * with no write at all.
 */
import {
  findOrganizationsOfEnabledUsers,
  findPractitionerRoles,
  findWithdrawnOrganizations,
  readPractitionerRole,
  type Queryable,
} from '@carecircle/store';
import type { Period } from '@medplum/fhirtypes';
import { periodEnd, periodStart, type Recipient } from './consent-decision';

/**
 * The organizations a practitioner acts for: those of its enabled user accounts (table auth_user of the user registry
 * in @carecircle/auth; each account's tokens carry its organization), sorted.
 */
export async function organizationsOfPractitioner(db: Queryable, practitioner: string): Promise<string[]> {
  return findOrganizationsOfEnabledUsers(db, practitioner);
}

/**
 * True when `now` lies within `period`: from its start (inclusive) to its end (exclusive), a partial date covering
 * its whole span, an open end open; a period whose bounds cannot be read covers nothing.
 */
export function periodCovers(period: Period | undefined | null, now: Date): boolean {
  const start = period?.start === undefined ? undefined : periodStart(period.start);
  const end = period?.end === undefined ? undefined : periodEnd(period.end);
  if (Number.isNaN(start) || Number.isNaN(end)) {
    return false;
  }
  return (start === undefined || start <= now.getTime()) && (end === undefined || now.getTime() < end);
}

/**
 * SQL condition: the current version of the Organization `reference` is marked inactive or deleted (store's
 * practitioner-roles table module). An organization marked inactive acts for nobody: consents naming it, and the roles
 * at it, grant nothing.
 */
export { organizationWithdrawn } from '@carecircle/store';

/**
 * The PractitionerRoles of `practitioner` (`Practitioner/{id}`) in force at `now` (see the module header), at
 * `organization` when given: `PractitionerRole/{id}` with the organization each is at. Read through the search index
 * on `practitioner`.
 */
export async function activeRolesOf(
  db: Queryable,
  practitioner: string,
  organization?: string,
  now: Date = new Date(),
): Promise<Array<{ reference: string; organization: string | undefined }>> {
  const rows = await findPractitionerRoles(db, practitioner.slice('Practitioner/'.length), organization);
  return rows
    .filter((row) => periodCovers(row.period, now))
    .map((row) => ({ reference: `PractitionerRole/${row.id}`, organization: row.organization }));
}

/** The practitioner `practitioner` acting for `organization`, with its roles there in force at `now`. */
export async function practitionerAt(db: Queryable, practitioner: string, organization: string, now: Date = new Date()): Promise<Recipient> {
  const roles = await activeRolesOf(db, practitioner, organization, now);
  return { organization, practitioner, practitionerRoles: roles.map((r) => r.reference) };
}

/**
 * The recipients a reference stands for (`Organization/…`, `Practitioner/…` or `PractitionerRole/…`, already checked
 * for form): one per organization a practitioner acts for, so that "may X see this" is "may any of X's tokens".
 */
export async function resolveRecipients(db: Queryable, reference: string): Promise<Recipient[]> {
  const [type] = reference.split('/', 1);
  switch (type) {
    case 'Organization':
      return withoutWithdrawnOrganizations(db, [{ organization: reference }]);
    case 'Practitioner':
      return withoutWithdrawnOrganizations(db, await resolvePractitioner(db, reference));
    case 'PractitionerRole':
      return withoutWithdrawnOrganizations(db, await resolveRole(db, reference));
    default:
      return [];
  }
}

/**
 * `recipients`, each without its organization when that organization is marked inactive: the consent-grant check in
 * SQL ignores consents naming such an organization, so the questions answered here in TypeScript must too.
 */
async function withoutWithdrawnOrganizations(db: Queryable, recipients: Recipient[]): Promise<Recipient[]> {
  const organizations = [...new Set(recipients.flatMap((r) => (r.organization ? [r.organization] : [])))];
  if (organizations.length === 0) {
    return recipients;
  }
  const withdrawn = await findWithdrawnOrganizations(db, organizations);
  return recipients.map(({ organization, ...rest }) => (organization && !withdrawn.has(organization) ? { organization, ...rest } : rest));
}

async function resolvePractitioner(db: Queryable, practitioner: string): Promise<Recipient[]> {
  let organizations = await organizationsOfPractitioner(db, practitioner);
  if (organizations.length === 0) {
    const roles = await activeRolesOf(db, practitioner);
    organizations = [...new Set(roles.flatMap((r) => (r.organization ? [r.organization] : [])))];
  }
  if (organizations.length === 0) {
    return [{ practitioner }];
  }
  return Promise.all(organizations.map((organization) => practitionerAt(db, practitioner, organization)));
}

async function resolveRole(db: Queryable, reference: string): Promise<Recipient[]> {
  const id = reference.slice('PractitionerRole/'.length);
  const role = await readPractitionerRole(db, id);
  if (!role) {
    return [{ practitionerRoles: [reference] }];
  }
  const practitioner = role.practitioner?.reference;
  const organization = role.organization?.reference;
  if (practitioner?.startsWith('Practitioner/') && organization) {
    return [await practitionerAt(db, practitioner, organization)];
  }
  const inForce = role.active !== false && periodCovers(role.period, new Date());
  return [{ ...(organization ? { organization } : {}), ...(inForce ? { practitionerRoles: [reference] } : {}) }];
}
