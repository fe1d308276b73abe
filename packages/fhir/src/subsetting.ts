/**
 * `_summary` and `_elements` (FHIR R4 search.html#summary, #elements): views of a resource that leave elements out, on
 * read, vread and search. They only ever remove what the caller was already going to be shown (the store has applied
 * the caller's access and withheld references before), so they cannot disclose anything; every view keeps
 * `resourceType`, `id`, `meta` and the type's top-level mandatory elements, and is marked `SUBSETTED` in `meta.tag` so
 * a client never writes it back over the full resource.
 *
 * - `_summary=true`: the top-level elements the base definition marks as summary.
 * - `_summary=text`: `text`, `id`, `meta` and the mandatory elements.
 * - `_summary=data`: everything but `text`.
 * - `_summary=false`: the whole resource (no view); `_summary=count` is a search's count (the store's business).
 * - `_elements=a,b`: those top-level elements (base names: `value` for `valueQuantity`), besides the mandatory ones.
 */
import { badRequest, getDataType, OperationOutcomeError, tryGetDataType } from '@medplum/core';
import type { Coding, Resource } from '@medplum/fhirtypes';

/** The mark FHIR puts on a view of a resource that leaves elements out. */
export const SUBSETTED_TAG: Readonly<Coding> = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
  display: 'subsetted',
};

/** What view of each resource an answer holds (undefined: the whole resource). */
export type Subsetting = { kind: 'summary'; mode: 'true' | 'text' | 'data' } | { kind: 'elements'; elements: ReadonlySet<string> };

const ALWAYS_KEPT = new Set(['resourceType', 'id', 'meta']);
const SUMMARY_MODES = new Set(['true', 'text', 'data', 'false', 'count']);

/**
 * The view `params` ask for on `resourceType` (`_summary`, `_elements`), checked: an unknown mode or element name,
 * either parameter twice, or both together is a 400 naming the parameter. `count` is a search's (`search` true) and is
 * no view; on a read it is a 400.
 */
export function parseSubsetting(resourceType: string, params: URLSearchParams, search: boolean): Subsetting | undefined {
  const summaries = params.getAll('_summary');
  const elementLists = params.getAll('_elements');
  if (summaries.length > 1) {
    throw invalid('_summary', 'may appear only once');
  }
  if (elementLists.length > 1) {
    throw invalid('_elements', 'may appear only once');
  }
  const summary = summaries[0];
  if (summary !== undefined && (!SUMMARY_MODES.has(summary) || (summary === 'count' && !search))) {
    throw invalid('_summary', search ? 'expected true, text, data, count or false' : 'expected true, text, data or false');
  }
  const summaryView = summary === 'true' || summary === 'text' || summary === 'data' ? summary : undefined;
  const list = elementLists[0];
  if (list !== undefined && summaryView !== undefined) {
    throw invalid('_elements', 'use either _summary or _elements, not both');
  }
  if (summary === 'count' || (list === undefined && summaryView === undefined)) {
    return undefined;
  }
  if (summaryView !== undefined) {
    return { kind: 'summary', mode: summaryView };
  }
  const elements = new Set<string>();
  for (const name of (list ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '')) {
    const element = elementName(resourceType, name.replace(/\[x\]$/, ''));
    if (element === undefined) {
      throw invalid('_elements', `${resourceType} has no top-level element named like that`);
    }
    elements.add(element);
  }
  return elements.size === 0 ? undefined : { kind: 'elements', elements };
}

/** `resource` as `subsetting` shows it: a new object, marked SUBSETTED; `resource` itself is left as it is. */
export function subsetResource<T extends Resource>(resource: T, subsetting: Subsetting | undefined): T {
  if (subsetting === undefined) {
    return resource;
  }
  const schema = tryGetDataType(resource.resourceType);
  const mandatory = schema?.mandatoryProperties ?? new Set<string>();
  const keep = (element: string): boolean => {
    if (ALWAYS_KEPT.has(element) || mandatory.has(element)) {
      return true;
    }
    switch (subsetting.kind) {
      case 'elements':
        return subsetting.elements.has(element);
      case 'summary':
        switch (subsetting.mode) {
          case 'true':
            return schema?.summaryProperties?.has(element) ?? false;
          case 'text':
            return element === 'text';
          case 'data':
            return element !== 'text';
          default:
            return subsetting.mode satisfies never;
        }
      default:
        return subsetting satisfies never;
    }
  };
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    // A primitive's extensions (`_status`) go with it.
    const element = key === 'resourceType' ? key : (elementName(resource.resourceType, key.replace(/^_/, '')) ?? key);
    if (keep(element)) {
      shown[key] = value;
    }
  }
  const tags = resource.meta?.tag ?? [];
  const marked = tags.some((tag) => tag.system === SUBSETTED_TAG.system && tag.code === SUBSETTED_TAG.code);
  return { ...shown, meta: { ...resource.meta, tag: marked ? tags : [...tags, { ...SUBSETTED_TAG }] } } as unknown as T;
}

/**
 * The base name of the top-level element a JSON key (or an `_elements` name) stands for: `status` for `status`,
 * `value` for `valueQuantity` or `value`; undefined when the type has no such element.
 */
function elementName(resourceType: string, key: string): string | undefined {
  const elements = getDataType(resourceType).elements;
  if (key in elements && !key.endsWith('[x]')) {
    return key;
  }
  for (const path of Object.keys(elements)) {
    if (!path.endsWith('[x]')) {
      continue;
    }
    const base = path.slice(0, -3);
    if (key === base) {
      return base;
    }
    const rest = key.slice(base.length);
    if (key.startsWith(base) && /^[A-Z]/.test(rest) && elements[path]?.type.some((t) => t.code.toLowerCase() === rest.toLowerCase())) {
      return base;
    }
  }
  return undefined;
}

function invalid(name: string, reason: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(`Invalid parameter ${name}: ${reason}`, name));
}
