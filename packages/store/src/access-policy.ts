/**
 * The hook through which a caller's rights reach the repository. Every repository is built with one policy, and
 * every read path (read, vread, search, includes, history, counts) and every write consults it, so access is decided in
 * exactly one place. Policies are written in @carecircle/access and @carecircle/consent; this package only applies
 * them.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable, Transaction } from './database';
import type { SearchFilter } from './search/search-request';
import type { Sql } from './sql';
import type { GrantInForce } from './tables/consent-grants';

/** The FHIR interactions a policy is asked about. */
export type Interaction = 'read' | 'vread' | 'search' | 'history' | 'create' | 'update' | 'patch' | 'delete';

export interface AccessPolicy {
  /** When present, told of every disclosure and every denial (see {@link AccessRecorder}). */
  readonly recorder?: AccessRecorder;

  /**
   * When true, an update of an id that does not exist creates the resource with that id (update-as-create). Only the
   * operator's policy sets it: for every other caller an absent id answers 404 exactly as a hidden one does, so a write
   * cannot be used to learn whether a resource it may not see exists.
   */
  readonly clientAssignedIds?: boolean;

  /**
   * Throws an OperationOutcomeError (403) when the caller may not perform `interaction` on `resourceType` at all
   * (the caller's scopes forbid it). Called before any database work.
   */
  assertInteraction(interaction: Interaction, resourceType: string): void;

  /**
   * A condition over the `resource_version` row aliased `rv` that limits which stored versions the caller may see, or
   * `undefined` for no limit. Applied inside the SQL of every read, before paging and counting, so a resource the caller
   * may not see is absent everywhere (404 on read, missing from searches, totals, includes and history). The repository
   * adds what a row alone cannot tell: a deletion (no content) shows only when the version it deleted passes too, an
   * older version (and a later page's snapshot of a match) only while the current version does.
   */
  visibility(resourceType: string): Sql | undefined;

  /**
   * Optional: how the caller is shown versions of `resourceType` it may see only in part, or `undefined` when it is
   * shown everything it may see as stored (see {@link Presentation}).
   */
  presentation?(resourceType: string): Presentation | undefined;

  /**
   * Throws (403, or 404 when the caller may not even know it exists) when the caller may not make this write.
   * `next` is the resource as it would be stored (undefined for a delete); `current` is what is stored now, if anything.
   * Runs inside the write's transaction; `tx` is that transaction, for any lookups the decision needs (so they see the
   * transaction's own writes, and embedded PGlite's single connection is not asked for twice). It may complete `next`
   * with a stamp of its own, well-formed by construction (a practice's new Patient is its own: `managingOrganization`),
   * which the store does not validate again.
   */
  assertWrite(
    interaction: 'create' | 'update' | 'patch' | 'delete',
    next: Resource | undefined,
    current: Resource | undefined,
    tx: Queryable,
  ): void | Promise<void>;
}

/**
 * A view of stored versions narrower than what is stored (a recipient's view of a Consent that names it: its own
 * actors, not the signed form). The store applies it to every version it hands out (read, vread, search matches and
 * includes, a conditional create's match, history) and judges searches on what is shown, so a search cannot find a
 * version by what its view leaves out. It never touches what is stored: writes and their checks read the stored
 * version, and a shown version keeps the stored id, `meta.versionId` and `meta.lastUpdated` (ETag, If-Match). A
 * caller may not update, patch or delete a version it is shown in part (403 before If-Match, the patch or validation
 * run on the stored version, whose answers would tell it what it is not shown).
 */
export interface Presentation {
  /** Condition over `rv`: this version is shown in part, as {@link present} makes it; otherwise it is shown as stored. */
  partial: Sql;
  /** The version as shown in part: a new object (the stored one is left as it is), marked as a subset in `meta.tag`. */
  present(resource: Resource): Resource;
  /**
   * Search parameters whose values {@link present} leaves out or narrows. For a version shown in part, a filter on one
   * is judged by {@link filterShown}; `_sort` by one is refused (403), and `_include` / `_revinclude` through one follow
   * only the references that are shown.
   */
  hiddenParameters: ReadonlySet<string>;
  /** The condition over `rv` (a version shown in part) that `filter`, on a hidden parameter, meets on what is shown. */
  filterShown(filter: SearchFilter): Sql;
}

/** Resources a read is about to hand to the caller. */
export interface Disclosure {
  interaction: Interaction;
  resources: readonly Resource[];
  /**
   * The transaction the read ran in, if it ran in one: the record of what it disclosed is written in it, so the record
   * stands exactly when the transaction commits (one that fails answered nothing), and embedded PGlite's single
   * connection, which the transaction holds, is not asked for again.
   */
  tx?: Transaction;
  /**
   * Of the disclosed resources' clients, those the caller holds in its own right, as the statement that read them
   * found ({@link AccessRecorder.ownClientsColumn}); absent, the recorder asks.
   */
  ownClients?: ReadonlySet<string>;
  /**
   * The grants in force of the disclosed resources' clients, as the statement that read them found
   * ({@link AccessRecorder.grantsColumn}); absent, the recorder asks.
   */
  grants?: readonly GrantInForce[];
  /**
   * The latest version with content of each of the disclosed resources' clients (type, id and `meta`), as the
   * statement that read them found ({@link AccessRecorder.clientsColumn}); absent, the record reads their labels.
   */
  clients?: readonly Resource[];
}

/** A read refused because the policy hides a resource that exists. */
export interface Denial {
  interaction: Interaction;
  resourceType: string;
  id: string;
  /** The hidden resource's Patient compartments (`Patient/x`), so the denial can be filed with that client. */
  compartments: readonly string[];
  /**
   * When the read ran inside a transaction: defers `record` until that transaction has settled, committed or rolled
   * back (before the transaction's caller goes on). A denial stands whether or not the transaction it was part of
   * commits, and it cannot be written beside the transaction while that holds embedded PGlite's only connection.
   */
  afterTransaction?: (record: () => Promise<void>) => void;
}

/**
 * Optional: policies that must account for what they let out (consent-based disclosure) implement this. The repository
 * awaits it before returning any data, so a disclosure whose record cannot be written is not made.
 */
export interface AccessRecorder {
  /**
   * An expression over `rv` (text[]): which of the row's clients the caller holds in its own right, showing whose
   * information is no disclosure. A read selects it beside the row and hands it over as {@link Disclosure.ownClients},
   * sparing the recorder a statement of its own.
   */
  readonly ownClientsColumn?: Sql;
  /**
   * An expression over `rv` (jsonb, an array of {@link GrantInForce}): the grants in force to the caller of the row's
   * clients, which the record names as what permitted the disclosure. Selected and handed over as
   * {@link Disclosure.grants} like {@link ownClientsColumn}.
   */
  readonly grantsColumn?: Sql;
  /**
   * An expression over `rv` (jsonb, an array of `{resourceType, id, meta}`): the latest version with content of each of
   * the row's clients, whose labels the record of the disclosure takes. Handed over as {@link Disclosure.clients}.
   */
  readonly clientsColumn?: Sql;
  recordDisclosure(disclosure: Disclosure): Promise<void>;
  recordDenial(denial: Denial): Promise<void>;
}

/** The policy of the operator (admin token) and of the server's own jobs: everything, for everything. */
export const fullAccess: AccessPolicy = {
  clientAssignedIds: true,
  assertInteraction: () => undefined,
  visibility: () => undefined,
  assertWrite: () => undefined,
};
