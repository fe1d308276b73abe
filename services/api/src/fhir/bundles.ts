/**
 * Search and history Bundles: entries with fullUrls, and self/next/previous links built from the caller's own
 * parameters plus the repository's opaque `_page` token, so every link re-runs the same search on the same snapshot.
 * A Bundle holding what a partner may not disclose further (NORDSCLCD on an entry) carries that label itself.
 */
import { markBundleAgainstRedisclosure } from '@carecircle/consent';
import type { HistoryOutcome, SearchOutcome } from '@carecircle/store';
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';

const PAGE_PARAMETER = '_page';

/** The searchset Bundle for one page of results. */
export function buildSearchBundle(result: SearchOutcome, resourceType: string, params: URLSearchParams, baseUrl: string): Bundle {
  const entry: BundleEntry[] = [
    ...result.matches.map((resource) => searchEntry(resource, 'match', baseUrl)),
    ...result.included.map((resource) => searchEntry(resource, 'include', baseUrl)),
  ];
  return markBundleAgainstRedisclosure({
    resourceType: 'Bundle',
    type: 'searchset',
    ...(result.total === undefined ? {} : { total: result.total }),
    link: pageLinks(`${baseUrl}/${resourceType}`, params, result),
    ...(entry.length > 0 ? { entry } : {}),
  });
}

/** The history Bundle for one page of versions, newest first. */
export function buildHistoryBundle(result: HistoryOutcome, path: string, params: URLSearchParams, baseUrl: string): Bundle {
  const entry: BundleEntry[] = result.entries.map((version) => {
    const fullUrl = `${baseUrl}/${version.resourceType}/${version.id}`;
    const status = version.method === 'POST' ? '201 Created' : version.method === 'DELETE' ? '204 No Content' : '200 OK';
    return {
      fullUrl,
      ...(version.resource ? { resource: version.resource } : {}),
      request: {
        method: version.method,
        url: version.method === 'POST' ? version.resourceType : `${version.resourceType}/${version.id}`,
      },
      response: {
        status,
        etag: `W/"${version.versionId}"`,
        lastModified: version.lastUpdated,
      },
    };
  });
  return markBundleAgainstRedisclosure({
    resourceType: 'Bundle',
    type: 'history',
    ...(result.total === undefined ? {} : { total: result.total }),
    link: pageLinks(`${baseUrl}/${path}`, params, result),
    ...(entry.length > 0 ? { entry } : {}),
  });
}

function searchEntry(resource: Resource, mode: 'match' | 'include', baseUrl: string): BundleEntry {
  return { fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode } };
}

function pageLinks(url: string, params: URLSearchParams, page: { next?: string; previous?: string }): BundleLink[] {
  const links: BundleLink[] = [{ relation: 'self', url: withQuery(url, params) }];
  if (page.next) {
    links.push({ relation: 'next', url: withQuery(url, withPage(params, page.next)) });
  }
  if (page.previous) {
    links.push({ relation: 'previous', url: withQuery(url, withPage(params, page.previous)) });
  }
  return links;
}

function withPage(params: URLSearchParams, token: string): URLSearchParams {
  const result = new URLSearchParams(params);
  result.set(PAGE_PARAMETER, token);
  return result;
}

function withQuery(url: string, params: URLSearchParams): string {
  const query = params.toString();
  return query ? `${url}?${query}` : url;
}
