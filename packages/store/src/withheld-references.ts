/**
 * References the caller may not follow are withheld from what it is shown. A resource the caller may see can point at
 * one it may not (a CarePlan's `supportingInfo` naming a trauma-history Condition with the display "Trauma history:
 * assault 2024", handed to a partner whose consent covers care plans only): the display would tell the content the
 * consent withholds, and the id that the hidden resource exists. So every version the store hands out (read, vread,
 * search matches and includes, a conditional create's match, history; and through them batch entries, `$summary`,
 * notifications and `$events`) has each such reference reduced to a marker that says only that something was
 * withheld: the Reference keeps no `reference`, `display`, `identifier` or `type`, only the data-absent-reason
 * extension with code `masked`, and the resource's `meta.tag` says SUBSETTED as for any view shown in part.
 *
 * "May not follow": the target exists (its latest version with content) and the caller's policy does not show that
 * version. A reference to nothing stored is left as it is (it tells nothing), so a withheld marker and a dangling id
 * cannot be told from each other by what exists; the clients a resource is about (its Patient compartments) are never
 * withheld from someone shown the resource. Visibility of every target of one response is decided in one statement.
 *
 * Searches agree with what is shown: a reference filter value naming a resource the caller may not see matches
 * nothing (`Observation?focus=Condition/{hidden}` finds nothing, as for an id never stored), so a search is no oracle
 * of what hidden resources are referenced; a Patient through a compartment parameter (`Consent?patient=`) is shown,
 * so it is searched as stored.
 */
import { isSupportedResourceType, parseReferenceAnyBase, type ReferenceTarget } from '@carecircle/fhir';
import type { Resource } from '@medplum/fhirtypes';
import { isPatientCompartmentParameter, patientCompartmentsOf } from './compartments';
import type { Queryable } from './database';
import type { ReferenceValue, SearchFilter, SearchRequest } from './search/search-request';
import { join, sql, type Sql } from './sql';
import { queryable, type StoreContext } from './store-context';

/** The extension that marks a withheld reference (FHIR's data-absent-reason, code `masked`). */
export const WITHHELD_REFERENCE_EXTENSION = {
  url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason',
  valueCode: 'masked',
} as const;

/** The mark of a resource shown in part (v3-ObservationValue SUBSETTED), as `_summary` and `_elements` views carry. */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' } as const;

/** A Reference element inside a resource about to be handed out, and what it points at. */
interface HeldReference {
  resource: Resource;
  element: Record<string, unknown>;
  target: ReferenceTarget;
}

/**
 * Withholds, in `resources` (versions freshly read for this response, about to be handed to the caller), every
 * reference to a resource the caller may not see (see the module header). Changes the given objects in place and
 * never what is stored. One statement for the whole response; none when the policy limits none of the target types.
 */
export async function withholdHiddenReferences(ctx: StoreContext, resources: readonly Resource[]): Promise<void> {
  const limited = new Map<string, boolean>();
  const isLimited = (resourceType: string): boolean => {
    let known = limited.get(resourceType);
    if (known === undefined) {
      known = ctx.policy.visibility(resourceType) !== undefined;
      limited.set(resourceType, known);
    }
    return known;
  };
  const held = resources.flatMap((resource) => referencesToOthers(resource, isLimited));
  const byType = new Map<string, Set<string>>();
  for (const { target } of held) {
    byType.set(target.resourceType, (byType.get(target.resourceType) ?? new Set()).add(target.id));
  }
  if (byType.size === 0) {
    return;
  }
  const hidden = await hiddenTargets(ctx, byType);
  if (hidden.size === 0) {
    return;
  }
  const marked = new Set<Resource>();
  for (const { resource, element, target } of held) {
    if (hidden.has(`${target.resourceType}/${target.id}`)) {
      for (const key of Object.keys(element)) {
        delete element[key];
      }
      element.extension = [{ ...WITHHELD_REFERENCE_EXTENSION }];
      marked.add(resource);
    }
  }
  for (const resource of marked) {
    const tags = resource.meta?.tag ?? [];
    if (!tags.some((tag) => tag.system === SUBSETTED.system && tag.code === SUBSETTED.code)) {
      resource.meta = { ...resource.meta, tag: [...tags, { ...SUBSETTED }] };
    }
  }
}

/**
 * Every Reference element of `resource` (contained resources included) naming another resource of a supported type
 * whose visibility the policy limits (`isLimited`), except the resource itself and the clients it is about.
 */
function referencesToOthers(resource: Resource, isLimited: (resourceType: string) => boolean): HeldReference[] {
  const found: HeldReference[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(walk);
      return;
    }
    if (value === null || typeof value !== 'object') {
      return;
    }
    const element = value as Record<string, unknown>;
    const target = typeof element.reference === 'string' ? parseReferenceAnyBase(element.reference) : undefined;
    if (target && isSupportedResourceType(target.resourceType) && isLimited(target.resourceType)) {
      found.push({ resource, element, target });
    }
    Object.values(element).forEach(walk);
  };
  walk(resource);
  if (found.length === 0) {
    return found;
  }
  // Computed only when needed: the compartments cost a FHIRPath evaluation per parameter.
  const own = new Set([`${resource.resourceType}/${resource.id}`, ...patientCompartmentsOf(resource)]);
  return found.filter(({ target }) => !own.has(`${target.resourceType}/${target.id}`));
}

/**
 * `Type/id` of each of `byType`'s targets whose latest version with content the caller's policy does not show (a
 * target never stored is not in it). One statement, a branch per type.
 */
async function hiddenTargets(ctx: StoreContext, byType: ReadonlyMap<string, ReadonlySet<string>>, q: Queryable = queryable(ctx)): Promise<Set<string>> {
  const branches: Sql[] = [...byType].map(
    ([resourceType, ids]) => sql`
      SELECT ${resourceType}::text AS resource_type, target.id FROM unnest(${[...ids]}::text[]) AS target(id)
      WHERE EXISTS (SELECT 1 FROM resource_version rv
        WHERE rv.resource_type = ${resourceType} AND rv.id = target.id AND NOT rv.deleted
          AND rv.version_id = (SELECT max(latest.version_id) FROM resource_version latest
            WHERE latest.resource_type = ${resourceType} AND latest.id = target.id AND NOT latest.deleted)
          AND (${ctx.policy.visibility(resourceType) ?? sql`TRUE`}) IS NOT TRUE)`,
  );
  const { rows } = await q.query<{ resource_type: string; id: string }>(join(branches, ' UNION ALL '));
  return new Set(rows.map((row) => `${row.resource_type}/${row.id}`));
}

/**
 * The reference filter values of `request` whose target's hiding must be looked up. A Patient named through a
 * compartment parameter is searched as stored ({@link withHiddenTargetsLeftOut}), so whether it is hidden does not
 * matter: `Observation?subject=Patient/{id}`, the commonest search, needs no look-up at all.
 */
function targetsToJudge(request: SearchRequest): Array<Extract<ReferenceValue, { kind: 'target' }>> {
  return request.filters.flatMap((filter) => {
    if (filter.kind !== 'reference') {
      return [];
    }
    const compartment = isPatientCompartmentParameter(request.resourceType, filter.param.code);
    return filter.values.flatMap((value) => (value.kind === 'target' && !(compartment && value.resourceType === 'Patient') ? [value] : []));
  });
}

/** Whether {@link withHiddenTargetsLeftOut} reads nothing for `request`: no target of its reference filters to judge. */
export function judgesNoTargets(request: SearchRequest): boolean {
  return targetsToJudge(request).length === 0;
}

/**
 * `request` with each reference filter value that names a resource the caller may not see marked so it matches
 * nothing (its `hiddenTypes`); a value that is a bare id is looked up across types. Read through `q`, the search's own
 * transaction. At most two statements, none without reference filters other than to a client through a compartment
 * parameter.
 */
export async function withHiddenTargetsLeftOut(ctx: StoreContext, q: Queryable, request: SearchRequest): Promise<SearchRequest> {
  const values = targetsToJudge(request);
  if (values.length === 0) {
    return request;
  }
  const bareIds = [...new Set(values.flatMap((value) => (value.resourceType === undefined ? [value.id] : [])))];
  const typesOfBareIds = new Map<string, string[]>();
  if (bareIds.length > 0) {
    const { rows } = await q.query<{ resource_type: string; id: string }>(sql`
      SELECT DISTINCT resource_type, id FROM resource_version WHERE id = ANY(${bareIds}::text[])`);
    for (const row of rows) {
      typesOfBareIds.set(row.id, [...(typesOfBareIds.get(row.id) ?? []), row.resource_type]);
    }
  }
  const typesOf = (value: Extract<ReferenceValue, { kind: 'target' }>): string[] =>
    value.resourceType === undefined ? (typesOfBareIds.get(value.id) ?? []) : [value.resourceType];
  const byType = new Map<string, Set<string>>();
  for (const value of values) {
    for (const resourceType of typesOf(value)) {
      if (ctx.policy.visibility(resourceType) !== undefined) {
        byType.set(resourceType, (byType.get(resourceType) ?? new Set()).add(value.id));
      }
    }
  }
  const hidden = byType.size === 0 ? new Set<string>() : await hiddenTargets(ctx, byType, q);
  if (hidden.size === 0) {
    return request;
  }
  // A client the resource is about is never withheld (see the module header): through a compartment parameter
  // (`subject`, `patient` ...) a Patient is searched as stored.
  const leftOut = (value: ReferenceValue, compartment: boolean): ReferenceValue => {
    if (value.kind !== 'target') {
      return value;
    }
    const hiddenTypes = typesOf(value).filter((type) => hidden.has(`${type}/${value.id}`) && !(compartment && type === 'Patient'));
    return hiddenTypes.length === 0 ? value : { ...value, hiddenTypes };
  };
  const filters = request.filters.map((filter): SearchFilter => {
    if (filter.kind !== 'reference') {
      return filter;
    }
    const compartment = isPatientCompartmentParameter(request.resourceType, filter.param.code);
    return { ...filter, values: filter.values.map((value) => leftOut(value, compartment)) };
  });
  return { ...request, filters };
}
