/**
 * Conditions on the actors a stored Consent names in its (top-level) provision, over a resource_version row: "this
 * Consent names `reference` in role `role`". Which role means what (a recipient, IRCP) and what a recipient is shown
 * is consent's rule (packages/consent named-consent-view.ts); this module only writes the SQL, parameterised.
 */
import { join, raw, sql, type Sql } from '../sql';

/** A role as a Consent's provision.actor carries it: one coding. */
export interface ActorRole {
  readonly system: string;
  readonly code: string;
}

/**
 * Over `row`, a Consent version: its (top-level) provision names `reference` in `role`. Indexed by the containment
 * operator.
 */
export function consentNamesActor(row: Sql, role: ActorRole, reference: string): Sql {
  const actor = { role: { coding: [{ system: role.system, code: role.code }] }, reference: { reference } };
  return sql`COALESCE(${row}.content #> '{provision,actor}', '[]'::jsonb) @> ${JSON.stringify([actor])}::jsonb`;
}

/** Over `rv`, a Consent version: its provision names one of `references` in `role` (FALSE for none). */
export function consentNamesAnyActor(role: ActorRole, references: readonly string[]): Sql {
  return sql`(${join(
    references.map((reference) => consentNamesActor(raw('rv'), role, reference)),
    ' OR ',
    'FALSE',
  )})`;
}
