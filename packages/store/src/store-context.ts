/**
 * What every repository operation runs with: the database, the open transaction when the repository is bound to one,
 * the caller's policy and the clock. Also the two ways operations enter the database: a write transaction (joined,
 * behind a savepoint, when one is already open) and a consistent read (REPEATABLE READ, or the open transaction).
 */
import { APPEND_ONLY_RESOURCE_TYPES } from '@carecircle/fhir';
import type { AccessPolicy } from './access-policy';
import type { Database, Queryable, Transaction } from './database';
import type { ReadView } from './read-view';
import { join, sql, type Sql } from './sql';
import type { BoundWritePipeline } from './write-pipeline';

export interface StoreContext {
  db: Database;
  /** The open transaction this repository is bound to, if any. */
  tx: Transaction | undefined;
  /** With `tx`: what is to run once that transaction has settled (see {@link inRepositoryTransaction}). */
  afterTransaction: ((run: () => Promise<void>) => void) | undefined;
  policy: AccessPolicy;
  now: () => Date;
  /** The write pipeline every write passes, its writer bound (write-pipeline.ts). */
  writes: BoundWritePipeline;
  /** The key that signs `_page` tokens (see search/page-token.ts). */
  pageTokenKey: Uint8Array;
  /** Who the repository acts for, as page tokens are bound to it. */
  principal: string;
  /**
   * Writes are of resources the server builds itself (the audit trail): not validated at run time. Their shapes are
   * validated by the tests that build them (profiles included); validating each again per request was most of a
   * partner's audited read.
   */
  serverBuilt: boolean;
}

/** The handle plain statements go through: the open transaction, else the pool. */
export function queryable(ctx: StoreContext): Queryable {
  return ctx.tx ?? ctx.db;
}

/**
 * Runs `fn` with `ctx` bound to a new READ COMMITTED transaction (the repository's `transaction()`); what was deferred
 * until that transaction settled (the records of denials made inside it) runs after it, committed or rolled back, and
 * before this returns.
 */
export async function inRepositoryTransaction<T>(ctx: StoreContext, fn: (bound: StoreContext) => Promise<T>): Promise<T> {
  const deferred: Array<() => Promise<void>> = [];
  const afterTransaction = (run: () => Promise<void>): void => void deferred.push(run);
  try {
    return await ctx.db.transaction((tx) => fn({ ...ctx, tx, afterTransaction }), 'read committed');
  } finally {
    for (const run of deferred) {
      await run();
    }
  }
}

/**
 * Runs `fn` in a READ COMMITTED write transaction. Inside an open transaction it runs behind a savepoint, so a failed
 * write (a 412, a unique violation) leaves the caller's transaction usable.
 */
export async function inWriteTransaction<T>(ctx: StoreContext, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const { tx } = ctx;
  if (!tx) {
    return ctx.db.transaction(fn, 'read committed');
  }
  await tx.query(sql`SAVEPOINT carecircle_write`);
  try {
    const result = await fn(tx);
    await tx.query(sql`RELEASE SAVEPOINT carecircle_write`);
    return result;
  } catch (err) {
    await tx.query(sql`ROLLBACK TO SAVEPOINT carecircle_write`);
    throw err;
  }
}

/** Runs `fn` where every statement sees one snapshot: a REPEATABLE READ transaction, or the open transaction. */
export function inConsistentRead<T>(ctx: StoreContext, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return ctx.tx ? fn(ctx.tx) : ctx.db.transaction(fn, 'repeatable read');
}

/**
 * The policy's own condition over `rv` (or TRUE): all it takes for a live version, when the caller does not ask about
 * the resource's other versions (page 1 of a search, a read of the current version before it turns out a deletion).
 */
export function policyVisibility(ctx: StoreContext, resourceType: string): Sql {
  return ctx.policy.visibility(resourceType) ?? sql`TRUE`;
}

/**
 * The condition for showing `rv`, any version of `resourceType`, a deletion included (read, the write lock), or TRUE.
 * A deletion has no content for the policy to judge (no labels, no owner), so it is shown only to a caller who may see
 * it and the version it deleted: the deletion of a psychotherapy note is as absent to the client as the note was (404,
 * not 410), and so is the deletion of anything else the caller never saw.
 */
export function visibleTo(ctx: StoreContext, resourceType: string): Sql {
  return visibleWithDeciding(ctx, resourceType, { deleted: true, current: false }) ?? sql`TRUE`;
}

/**
 * The condition for showing a version of `resourceType` that may not be the current one (vread, history): the caller
 * may see that version and the resource's current version (its current labels and custodian govern its whole past),
 * each deletion among them judged with what it deleted, as {@link visibleTo} judges it. Undefined when the policy sets
 * no limit.
 */
export function visibleWithCurrent(ctx: StoreContext, resourceType: string): Sql | undefined {
  return visibleWithDeciding(ctx, resourceType, { deleted: true, current: true });
}

/**
 * The condition over `rv`, a live version of `resourceType` that was current in `view`, for serving it as a search
 * match or include: the caller may see it and, when `view` is the snapshot of an earlier page, the resource's current
 * version too. A resource relabelled, moved to another practice or deleted since page 1 is then not served from the
 * snapshot to a caller who may no longer see it now; pages stay free of overlaps and gaps for everything else.
 */
export function liveVisibleIn(ctx: StoreContext, resourceType: string, view: ReadView): Sql {
  if (view.kind === 'snapshot') {
    return sql`(${visibleWithDeciding(ctx, resourceType, { deleted: false, current: true }) ?? sql`TRUE`})`;
  }
  return sql`(${policyVisibility(ctx, resourceType)})`;
}

/** Which versions besides `rv` decide whether `rv` may be shown (see {@link visibleWithDeciding}). */
interface DecidingVersions {
  /** The version `rv` deleted, when `rv` is a deletion. */
  deleted: boolean;
  /** The resource's current version, when `rv` is not it, and what that one deleted, when it is a deletion. */
  current: boolean;
}

/**
 * The policy's condition over `rv` itself AND over every other version that decides whether `rv` may be shown: the
 * version `rv` deleted, when `rv` is a deletion (`deleted`); the resource's current version when `rv` is not it, and
 * the version that one deleted, when it is a deletion (`current`). Undefined when the policy sets no limit.
 *
 * A deletion always follows a version with content (deleting a deleted resource writes nothing), so what version n
 * deleted is version n - 1; should a deletion ever stand where content belongs, the row is refused. The condition on
 * `rv` stays in the statement as the policy wrote it (its indexable parts still choose the plan); the deciding versions
 * are judged by one more copy of it, looked up only for a row that is a deletion or not current. A condition that is
 * NULL for a deciding version counts as a refusal.
 */
function visibleWithDeciding(ctx: StoreContext, resourceType: string, deciding: DecidingVersions): Sql | undefined {
  const visibility = ctx.policy.visibility(resourceType);
  if (visibility === undefined) {
    return undefined;
  }
  // A record (AuditEvent, Provenance) has one version and is never deleted: no other version decides. Leaving the
  // correlated lookup out lets a client's trail of hundreds of thousands be counted in parallel on every page.
  if (APPEND_ONLY_RESOURCE_TYPES.has(resourceType)) {
    return sql`(${visibility})`;
  }
  // Rows the policy's condition on themselves decides alone (live, current), and the version ids deciding the others.
  const decidedAlone: Sql[] = [];
  const versionIds: Sql[] = [];
  if (deciding.deleted) {
    decidedAlone.push(sql`NOT rv.deleted`);
    versionIds.push(sql`ARRAY[CASE WHEN rv.deleted THEN rv.version_id - 1 END]`);
  }
  if (deciding.current) {
    decidedAlone.push(sql`rv.superseded_xid IS NULL`);
    versionIds.push(sql`COALESCE((
      SELECT ARRAY[current_version.version_id, CASE WHEN current_version.deleted THEN current_version.version_id - 1 END]
      FROM resource_version current_version
      WHERE rv.superseded_xid IS NOT NULL AND current_version.resource_type = rv.resource_type
        AND current_version.id = rv.id AND current_version.superseded_xid IS NULL), '{}'::int[])`);
  }
  // Inside the NOT EXISTS, `rv` names each deciding version in turn, so the policy's condition applies to it as is; a
  // deletion there that is not the current version stands where content belongs. The ids are computed once per row,
  // so the deciding versions are one index scan.
  return sql`((${visibility}) AND ((${join(decidedAlone, ' AND ')}) OR NOT EXISTS (
    SELECT 1 FROM (SELECT * FROM resource_version deciding
      WHERE deciding.resource_type = rv.resource_type AND deciding.id = rv.id
        AND deciding.version_id = ANY (${join(versionIds, ' || ')})) rv
    WHERE (rv.deleted AND rv.superseded_xid IS NOT NULL) OR (${visibility}) IS NOT TRUE)))`;
}

/** True when the caller may see the stored version `vid` of `resourceType`, a deletion included ({@link visibleTo}). */
export async function isVersionVisible(ctx: StoreContext, q: Queryable, resourceType: string, vid: number): Promise<boolean> {
  const { rows } = await q.query(sql`SELECT 1 FROM resource_version rv WHERE rv.vid = ${vid} AND ${visibleTo(ctx, resourceType)}`);
  return rows.length > 0;
}

/** True when `policy` lets its caller see the current, live `resourceType/id` (read through `q`, e.g. a write's tx). */
export async function isVisibleTo(q: Queryable, policy: AccessPolicy, resourceType: string, id: string): Promise<boolean> {
  const { rows } = await q.query(sql`
    SELECT 1 FROM resource_version rv
    WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND (${policy.visibility(resourceType) ?? sql`TRUE`})`);
  return rows.length > 0;
}
