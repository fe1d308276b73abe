/**
 * The repository: the only way handlers reach stored resources. Each instance is bound to one caller's
 * {@link AccessPolicy}, so whatever a handler asks for is already limited to what that caller may see and do.
 *
 * Implementation notes live with the implementation; this file is the contract the API and later packages build on.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { AccessPolicy } from './access-policy';

/** One JSON Patch (RFC 6902) operation. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

export interface CreateOptions {
  /**
   * Conditional create: a search query string (`identifier=sys|val`); a single match is returned instead of creating.
   * Needs the search interaction too, and a match returned is disclosed (and recorded) as a search's.
   */
  ifNoneExist?: string;
  /** Use this id instead of a generated one (transaction bundles pre-assign ids to resolve `urn:uuid` references). */
  id?: string;
  /**
   * Versions the writer holds as read in this request (type, id and `meta` at least), handed to the write rules
   * (WriteFacts.held): the server's record of a disclosure names what it disclosed, whose labels it then need not read.
   */
  held?: readonly Resource[];
}

export interface UpdateOptions {
  /** The version the caller last saw (the number inside `W/"n"`); a different current version answers 412. */
  ifMatch?: string;
}

export interface WriteOutcome<T extends Resource = Resource> {
  resource: T;
  /** `created`: a new resource (201); `updated`: a new version (200); `existing`: If-None-Exist matched (200). */
  outcome: 'created' | 'updated' | 'existing';
}

export interface SearchOutcome {
  /** The page of matches, in sort order. */
  matches: Resource[];
  /** Resources added by `_include` / `_revinclude` (search mode `include`), each once. */
  included: Resource[];
  /** Number of matches over all pages, unless `_total=none`. */
  total?: number;
  /** Opaque `_page` token of the next / previous page, when there is one. */
  next?: string;
  previous?: string;
}

export interface HistoryEntry {
  resourceType: string;
  id: string;
  versionId: string;
  lastUpdated: string;
  /** The version's content; absent for a deletion. */
  resource?: Resource;
  /** How the version came about, for `Bundle.entry.request`. */
  method: 'POST' | 'PUT' | 'DELETE';
}

export interface HistoryOutcome {
  entries: HistoryEntry[];
  total?: number;
  next?: string;
  previous?: string;
}

/** Search and history parameters exactly as the caller sent them (query string or form body). */
export type SearchParams = URLSearchParams;

export interface Repository {
  /** The policy this repository enforces. */
  readonly policy: AccessPolicy;

  /**
   * Current version; 404 when absent or not visible to the caller, 410 when deleted (404 when the caller could not see
   * what was deleted).
   */
  read<T extends Resource = Resource>(resourceType: string, id: string): Promise<T>;
  /**
   * One version; 404 when absent or not visible (an older version is visible only while the current one is too), 410
   * when that version is a deletion.
   */
  vread<T extends Resource = Resource>(resourceType: string, id: string, versionId: string): Promise<T>;
  /** Validates, assigns id/meta, stores version 1, indexes it, appends an outbox event. */
  create<T extends Resource>(resource: T, options?: CreateOptions): Promise<WriteOutcome<T>>;
  /**
   * Update: validates, stores the next version; honours If-Match. An absent id is 404, unless the policy lets its
   * caller choose ids (`clientAssignedIds`), when it creates the resource with that id.
   */
  update<T extends Resource>(resource: T, options?: UpdateOptions): Promise<WriteOutcome<T>>;
  /** JSON Patch applied to the current version, then validated and stored like an update. */
  patch<T extends Resource = Resource>(resourceType: string, id: string, operations: PatchOperation[], options?: UpdateOptions): Promise<T>;
  /** Records a deletion version; later reads answer 410. Deleting an already deleted resource succeeds; an absent one is 404. */
  delete(resourceType: string, id: string, options?: UpdateOptions): Promise<void>;
  /** Search with the supported parameters; unknown parameters answer 400. */
  search(resourceType: string, params: SearchParams): Promise<SearchOutcome>;
  /** Instance history (type and id), type history (type only) or system history (neither); newest first. */
  history(resourceType: string | undefined, id: string | undefined, params: SearchParams): Promise<HistoryOutcome>;
  /**
   * Runs `fn` with a repository bound to the same policy inside one database transaction: everything `fn` writes
   * commits together or not at all. Nested calls join the outer transaction.
   */
  transaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T>;
}
