/**
 * Which versions a read sees. `current` is what is stored now (the rows nothing has superseded); `snapshot` is what
 * was current under an earlier Postgres snapshot, so page 2 of a search sees exactly the world page 1 saw. History
 * asks a different question (which versions existed then), answered by {@link versionCreatedIn}.
 */
import { sql, type Sql } from './sql';

export type ReadView = { kind: 'current' } | { kind: 'snapshot'; snapshot: string };

export const CURRENT_VIEW: ReadView = { kind: 'current' };

/** Condition over `rv`: the version was the current one in `view`. */
export function versionCurrentIn(view: ReadView): Sql {
  switch (view.kind) {
    case 'current':
      return sql`rv.superseded_xid IS NULL`;
    case 'snapshot':
      return sql`(pg_visible_in_snapshot(rv.created_xid, ${view.snapshot}::pg_snapshot)
        AND NOT (rv.superseded_xid IS NOT NULL AND pg_visible_in_snapshot(rv.superseded_xid, ${view.snapshot}::pg_snapshot)))`;
    default:
      return view satisfies never;
  }
}

/** Condition over `rv`: the version existed (was committed) in `view`. */
export function versionCreatedIn(view: ReadView): Sql {
  switch (view.kind) {
    case 'current':
      return sql`TRUE`;
    case 'snapshot':
      return sql`pg_visible_in_snapshot(rv.created_xid, ${view.snapshot}::pg_snapshot)`;
    default:
      return view satisfies never;
  }
}
