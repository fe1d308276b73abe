/**
 * Reading references: the target a reference string names, every reference string inside a resource, and the
 * Patients a resource names (the ids every custody and partner-write check counts). Only
 * relative references (`Patient/123`, optionally with `/_history/n`) name a resource of this server; absolute URLs,
 * `urn:uuid:` and canonicals are matched as written, except by checks that must not miss a target
 * ({@link parseReferenceAnyBase}).
 */
import type { Resource } from '@medplum/fhirtypes';

/** The resource a reference points at. */
export interface ReferenceTarget {
  resourceType: string;
  id: string;
}

const TARGET = '([A-Z][A-Za-z]{1,63})\\/([A-Za-z0-9\\-.]{1,64})(?:\\/_history\\/[A-Za-z0-9\\-.]{1,64})?$';
const RELATIVE_REFERENCE = new RegExp(`^${TARGET}`);
const ANY_BASE_REFERENCE = new RegExp(`(?:^|\\/)${TARGET}`);

/** `{resourceType, id}` of a relative reference, else undefined (also for an absent one). */
export function parseRelativeReference(reference: string | undefined): ReferenceTarget | undefined {
  return targetOf(typeof reference === 'string' ? RELATIVE_REFERENCE.exec(reference) : null);
}

/**
 * `{resourceType, id}` of a relative reference or an absolute one on any base: for checks where over-matching only
 * makes them stricter (a reference to one of our resources written with our base URL must not slip through).
 */
export function parseReferenceAnyBase(reference: string | undefined): ReferenceTarget | undefined {
  return targetOf(typeof reference === 'string' ? ANY_BASE_REFERENCE.exec(reference) : null);
}

function targetOf(match: RegExpExecArray | null): ReferenceTarget | undefined {
  return match?.[1] && match[2] ? { resourceType: match[1], id: match[2] } : undefined;
}

const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const URN_OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const LOCAL_FRAGMENT = /^#([A-Za-z0-9\-.]{1,64})?$/;

/**
 * True when `reference` is a form FHIR R4 gives `Reference.reference` (references.html#literal): a relative
 * reference (`Type/id`, optionally `/_history/vid`), an absolute http(s) URL, a `urn:uuid:` or `urn:oid:` (Bundle
 * references), or a local fragment (`#` the container, `#id` a contained resource). Anything else (`javascript:`,
 * `data:`, a search `Type?x=y` outside a transaction, which resolves those first) is no reference at all.
 */
export function isLiteralReference(reference: string): boolean {
  if (RELATIVE_REFERENCE.test(reference) || URN_UUID.test(reference) || URN_OID.test(reference) || LOCAL_FRAGMENT.test(reference)) {
    return true;
  }
  if (!/^https?:\/\//i.test(reference)) {
    return false;
  }
  try {
    const url = new URL(reference);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !/\s/.test(reference);
  } catch {
    return false;
  }
}

/** Every `reference` string anywhere in `value` (contained resources included), in document order. */
export function referenceStrings(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((item) => referenceStrings(item, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'reference' && typeof child === 'string') {
        found.push(child);
      } else {
        referenceStrings(child, found);
      }
    }
  }
  return found;
}

/**
 * Every reference to a Patient in a resource, anywhere in it, relative or absolute on any base (over-matching only
 * makes write checks stricter), optionally versioned: ids only, de-duplicated.
 */
export function patientReferences(resource: Resource | undefined): string[] {
  const ids = referenceStrings(resource).flatMap((reference) => {
    const target = parseReferenceAnyBase(reference);
    return target?.resourceType === 'Patient' ? [target.id] : [];
  });
  return [...new Set(ids)];
}
