/**
 * Conditional reads (RFC 9110 section 13): whether a read or vread answers 304 Not Modified. The origin server judges
 * `If-None-Match` and `If-Modified-Since` itself, whatever `Cache-Control` the request carries: `no-cache` (which every
 * fetch-based client sends) tells caches to revalidate with the origin, and a conditional request is exactly that
 * revalidation (RFC 9111 section 5.2.1.4), so it never turns the conditions off here.
 */

/** The conditions of a read, as the request's headers (or a batch entry's `request`) state them. */
export interface ReadConditions {
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

/** The version a read would return: its ETag is `W/"{versionId}"`, its Last-Modified `lastUpdated` to the second. */
export interface ReadVersion {
  versionId: string;
  lastUpdated: string;
}

/**
 * True when the read should answer 304. `If-None-Match` (a list of entity tags, or `*`) is compared weakly with the
 * version's ETag; when it is present, `If-Modified-Since` is ignored (RFC 9110 section 13.1.3). Otherwise the version
 * is not modified when its Last-Modified (whole seconds) is at or before the `If-Modified-Since` date; a value that is
 * not an HTTP date is ignored, as the RFC asks.
 */
export function isNotModified(conditions: ReadConditions, version: ReadVersion): boolean {
  if (conditions.ifNoneMatch !== undefined) {
    return matchesAnyTag(conditions.ifNoneMatch, version.versionId);
  }
  if (conditions.ifModifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifModifiedSince);
    const modified = Date.parse(version.lastUpdated);
    if (since === undefined || Number.isNaN(modified)) {
      return false;
    }
    // Last-Modified carries whole seconds: a version changed later within the same second is not newer than the date.
    return Math.floor(modified / 1000) * 1000 <= since;
  }
  return false;
}

/** Weak comparison of `W/"3", "4"` (or `*`) against version `versionId`; `3` alone is read as a tag too, as clients send it. */
function matchesAnyTag(header: string, versionId: string): boolean {
  const tags = header.split(',').map((tag) => tag.trim());
  return tags.some((tag) => tag === '*' || /^(?:W\/)?"?([A-Za-z0-9\-.]{1,64})"?$/.exec(tag)?.[1] === versionId);
}

/** An HTTP date (IMF-fixdate, or the obsolete RFC 850 and asctime forms Date.parse reads) in ms, else undefined. */
function parseHttpDate(value: string): number | undefined {
  const text = value.trim();
  // Only date forms: a bare number or an ISO string is not an HTTP date.
  if (!/^[A-Za-z]{3},? /.test(text) && !/^[A-Za-z]+day, /.test(text)) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
