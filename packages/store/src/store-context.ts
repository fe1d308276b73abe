/**
 * What every repository operation runs with: the database, the open transaction when the repository is bound to one,
 * the caller's policy and the clock. Also the two ways operations enter the database: a write transaction (joined,
 * behind a savepoint, when one is already open) and a consistent read (REPEATABLE READ, or the open transaction).
 */
import type { AccessPolicy } from './access-policy';
import type { WriteRule } from './resource-repository';
import type { Database, Queryable, Transaction } from './database';
import { sql, type Sql } from './sql';

export interface StoreContext {
  db: Database;
  /** The open transaction this repository is bound to, if any. */
  tx: Transaction | undefined;
  policy: AccessPolicy;
  now: () => Date;
  /** Rules every write passes (see WriteRule). */
  writeRules: readonly WriteRule[];
  /** The key that signs `_page` tokens (see search/page-token.ts). */
  pageTokenKey: Uint8Array;
  /** Who the repository acts for, as page tokens are bound to it. */
  principal: string;
}

/** The handle plain statements go through: the open transaction, else the pool. */
export function queryable(ctx: StoreContext): Queryable {
  return ctx.tx ?? ctx.db;
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

/** The policy's visibility condition for `resourceType` over `rv`, or TRUE. */
export function visibleTo(ctx: StoreContext, resourceType: string): Sql {
  return ctx.policy.visibility(resourceType) ?? sql`TRUE`;
}

/**
 * The condition for showing a version of `resourceType` that may not be the current one (vread, history): the caller
 * may see that version and the resource's current version (its current labels and custodian govern its whole past).
 * Undefined when the policy sets no limit.
 */
export function visibleWithCurrent(ctx: StoreContext, resourceType: string): Sql | undefined {
  const visibility = ctx.policy.visibility(resourceType);
  if (visibility === undefined) {
    return undefined;
  }
  // The inner `rv` is the current version of the outer `rv`'s resource, so the policy's condition applies to it as is.
  return sql`((${visibility}) AND (rv.superseded_xid IS NULL OR EXISTS (
    SELECT 1 FROM (SELECT * FROM resource_version current_version
      WHERE current_version.resource_type = rv.resource_type AND current_version.id = rv.id
        AND current_version.superseded_xid IS NULL) rv
    WHERE ${visibility})))`;
}

/** True when `policy` lets its caller see the current, live `resourceType/id` (read through `q`, e.g. a write's tx). */
export async function isVisibleTo(q: Queryable, policy: AccessPolicy, resourceType: string, id: string): Promise<boolean> {
  const { rows } = await q.query(sql`
    SELECT 1 FROM resource_version rv
    WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND (${policy.visibility(resourceType) ?? sql`TRUE`})`);
  return rows.length > 0;
}
