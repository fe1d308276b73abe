/**
 * Who a recipient is, as consents can name it: an Organization; a Practitioner acting for an organization, with its
 * active PractitionerRoles there; a PractitionerRole, which is its practitioner acting for its organization. Resolved
 * the same way for a caller's token and for the questions the custodian and the client ask about a recipient
 * (`$disclosure-check`, `$summary?recipient=`), so the answer to a question is what the recipient's token gets.
 *
 * A practitioner's organizations are those its tokens carry: the organizations of its enabled user accounts; a
 * practitioner without an account is placed by its active roles (what the directory says). A consent naming a role
 * matches only that practitioner, at that organization, while the role is active; never the organization's systems.
 */
import { sql, type Queryable } from '@carecircle/store';
import type { PractitionerRole } from '@medplum/fhirtypes';
import type { Recipient } from './consent-decision';

/**
 * The organizations a practitioner acts for: those of its enabled user accounts (table auth_user of the user registry
 * in @carecircle/auth; each account's tokens carry its organization), sorted.
 */
export async function organizationsOfPractitioner(db: Queryable, practitioner: string): Promise<string[]> {
  const { rows } = await db.query<{ organization: string }>(sql`
    SELECT DISTINCT organization FROM auth_user
    WHERE fhir_user = ${practitioner} AND disabled_at IS NULL AND organization IS NOT NULL
    ORDER BY organization`);
  return rows.map((row) => row.organization);
}

interface RoleRow {
  id: string;
  organization: string | null;
}

/**
 * The active PractitionerRoles of `practitioner` (`Practitioner/{id}`), at `organization` when given: `PractitionerRole/{id}`
 * with the organization each is at. Read through the search index on `practitioner`.
 */
export async function activeRolesOf(
  db: Queryable,
  practitioner: string,
  organization?: string,
): Promise<Array<{ reference: string; organization: string | undefined }>> {
  const id = practitioner.slice('Practitioner/'.length);
  const { rows } = await db.query<RoleRow>(sql`
    SELECT rv.id, rv.content #>> '{organization,reference}' AS organization
    FROM search_reference r JOIN resource_version rv ON rv.vid = r.vid
    WHERE r.code = 'practitioner' AND r.target_type = 'Practitioner' AND r.target_id = ${id}
      AND rv.resource_type = 'PractitionerRole' AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND COALESCE(rv.content ->> 'active', 'true') <> 'false'
      ${organization === undefined ? sql`` : sql`AND rv.content #>> '{organization,reference}' = ${organization}`}
    ORDER BY rv.id`);
  return rows.map((row) => ({ reference: `PractitionerRole/${row.id}`, organization: row.organization ?? undefined }));
}

/** The practitioner `practitioner` acting for `organization`, with its active roles there. */
export async function practitionerAt(db: Queryable, practitioner: string, organization: string): Promise<Recipient> {
  const roles = await activeRolesOf(db, practitioner, organization);
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
      return [{ organization: reference }];
    case 'Practitioner':
      return resolvePractitioner(db, reference);
    case 'PractitionerRole':
      return resolveRole(db, reference);
    default:
      return [];
  }
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
  const { rows } = await db.query<{ content: PractitionerRole }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = 'PractitionerRole' AND rv.id = ${id} AND rv.superseded_xid IS NULL AND NOT rv.deleted`);
  const role = rows[0]?.content;
  if (!role) {
    return [{ practitionerRoles: [reference] }];
  }
  const practitioner = role.practitioner?.reference;
  const organization = role.organization?.reference;
  if (practitioner?.startsWith('Practitioner/') && organization) {
    return [await practitionerAt(db, practitioner, organization)];
  }
  return [{ ...(organization ? { organization } : {}), ...(role.active === false ? {} : { practitionerRoles: [reference] }) }];
}
