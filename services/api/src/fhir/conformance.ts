/**
 * Read-only serving of our implementation guide's conformance resources (StructureDefinition, CodeSystem, ValueSet):
 * read by id, and search by `url` or `_id`.
 */
import { badRequest, fail, notFound, OperationOutcomeError } from '@carecircle/fhir';
import type { Bundle, Resource } from '@medplum/fhirtypes';

type Lookup = (type: string, id: string) => Resource | undefined;

/** Reads one conformance resource, or searches them by url / _id. */
export function serveConformance(
  type: string,
  id: string | undefined,
  params: URLSearchParams,
  baseUrl: string,
  lookup: Lookup,
  all: () => Resource[],
): Resource {
  if (id !== undefined) {
    const resource = lookup(type, id);
    if (!resource) {
      throw new OperationOutcomeError(notFound);
    }
    return resource;
  }
  for (const name of params.keys()) {
    if (!['url', '_id', '_count'].includes(name)) {
      fail(badRequest(`Unknown search parameter for ${type}: only url and _id are supported`));
    }
  }
  const countText = params.get('_count');
  if (countText !== null && !/^\d{1,9}$/.test(countText)) {
    fail(badRequest('Invalid search parameter _count: expected a non-negative integer', '_count'));
  }
  const count = countText === null ? undefined : Number(countText);
  const url = params.get('url');
  const ids = params.get('_id')?.split(',');
  const matches = all().filter(
    (r) =>
      r.resourceType === type &&
      (url === null || (r as { url?: string }).url === url) &&
      (ids === undefined || ids.includes(r.id ?? '')),
  );
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: matches.length,
    link: [{ relation: 'self', url: `${baseUrl}/${type}${params.size ? `?${params.toString()}` : ''}` }],
    entry: matches.slice(0, count).map((resource) => ({ fullUrl: `${baseUrl}/${type}/${resource.id}`, resource, search: { mode: 'match' } })),
  };
  return bundle;
}
