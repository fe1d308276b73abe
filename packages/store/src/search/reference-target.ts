/**
 * Reading the target out of a reference string. Only relative references (`Patient/123`, optionally with
 * `/_history/n`) name a resource of this server; absolute URLs, `urn:uuid:` and canonicals are matched as written.
 */

/** The resource a reference points at. */
export interface ReferenceTarget {
  resourceType: string;
  id: string;
}

const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** `{resourceType, id}` of a relative reference, else undefined. */
export function parseReferenceTarget(reference: string): ReferenceTarget | undefined {
  const m = RELATIVE_REFERENCE.exec(reference);
  return m ? { resourceType: m[1]!, id: m[2]! } : undefined;
}
