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
import { sql, type Queryable, type Sql } from '@carecircle/store';
import type { Period, PractitionerRole } from '@medplum/fhirtypes';
import { periodEnd, periodStart, type Recipient } from './consent-decision';

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
  period: Period | null;
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
 * SQL condition: the current version of the Organization `reference` (an SQL text value `Organization/{id}`) is
 * marked inactive or deleted. An organization marked inactive acts for nobody: consents naming it, and the roles at
 * it, grant nothing.
 */
export function organizationWithdrawn(reference: Sql): Sql {
  return sql`EXISTS (SELECT 1 FROM resource_version org
      WHERE org.resource_type = 'Organization' AND ${reference} LIKE 'Organization/%' AND org.id = substr(${reference}, 14)
        AND org.superseded_xid IS NULL AND (org.deleted OR (org.content ->> 'active') = 'false'))`;
}

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
  const id = practitioner.slice('Practitioner/'.length);
  const { rows } = await db.query<RoleRow>(sql`
    SELECT rv.id, rv.content #>> '{organization,reference}' AS organization, rv.content -> 'period' AS period
    FROM search_reference r JOIN resource_version rv ON rv.vid = r.vid
    WHERE r.code = 'practitioner' AND r.target_type = 'Practitioner' AND r.target_id = ${id}
      AND rv.resource_type = 'PractitionerRole' AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND COALESCE(rv.content ->> 'active', 'true') <> 'false'
      AND NOT ${organizationWithdrawn(sql`COALESCE(rv.content #>> '{organization,reference}', '')`)}
      ${organization === undefined ? sql`` : sql`AND rv.content #>> '{organization,reference}' = ${organization}`}
    ORDER BY rv.id`);
  return rows
    .filter((row) => periodCovers(row.period, now))
    .map((row) => ({ reference: `PractitionerRole/${row.id}`, organization: row.organization ?? undefined }));
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
  const { rows } = await db.query<{ organization: string }>(sql`
    SELECT named.organization FROM unnest(${organizations}::text[]) AS named(organization) WHERE ${organizationWithdrawn(sql`named.organization`)}`);
  const withdrawn = new Set(rows.map((row) => row.organization));
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
  const inForce = role.active !== false && periodCovers(role.period, new Date());
  return [{ ...(organization ? { organization } : {}), ...(inForce ? { practitionerRoles: [reference] } : {}) }];
}
