/**
 * The FHIR interaction model shared by the HTTP adapter and batch/transaction entries: a request relative to the FHIR
 * base, and the response it produces, with no Express in sight.
 */
import type { Resource } from '@medplum/fhirtypes';

export type FhirMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface FhirRequest {
  method: FhirMethod;
  /** Path below the FHIR base without leading slash: `Patient/123/_history/2`, `Patient/_search`, `` (the base). */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body (a resource, a Bundle, or JSON Patch operations), or form fields for `_search`. */
  body?: unknown;
  ifMatch?: string;
  ifNoneExist?: string;
  ifNoneMatch?: string;
  /** `If-Modified-Since` (reads and vreads), an HTTP date; ignored when `ifNoneMatch` is given or it is not a date. */
  ifModifiedSince?: string;
  /** Transactions only: the id a create must use, pre-assigned so `urn:uuid:` references can be rewritten. */
  assignedId?: string;
  /** `Prefer: return=...` */
  preferReturn?: 'minimal' | 'representation' | 'OperationOutcome';
}

export interface FhirResponse {
  status: number;
  resource?: Resource;
  /** For writes and reads: the version, to emit Location / ETag / Last-Modified. */
  version?: { resourceType: string; id: string; versionId: string; lastUpdated: string };
  /** When set, the response carries Location (create, and update that created). */
  location?: boolean;
}

/** `W/"3"` or `"3"` or `3` -> `3`; anything else -> undefined (treated as a mismatch). */
export function parseETag(value: string | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const match = /^(?:W\/)?"?([A-Za-z0-9\-.]{1,64})"?$/.exec(value.trim());
  return match?.[1] ?? '\u0000invalid';
}
