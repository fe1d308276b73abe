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
  /** Rules every write passes before validation (see WriteRule). */
  writeRules: readonly WriteRule[];
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

/** True when `policy` lets its caller see the current, live `resourceType/id` (read through `q`, e.g. a write's tx). */
export async function isVisibleTo(q: Queryable, policy: AccessPolicy, resourceType: string, id: string): Promise<boolean> {
  const { rows } = await q.query(sql`
    SELECT 1 FROM resource_version rv
    WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND (${policy.visibility(resourceType) ?? sql`TRUE`})`);
  return rows.length > 0;
}
