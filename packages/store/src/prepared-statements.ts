/**
 * Statements PostgreSQL plans once per connection instead of on every request. An access policy puts a large
 * condition into every read (custody, consent grants, partner authorship); planning it cost 3-6 ms of database CPU a
 * request, executing it a quarter of a millisecond. Sent as a named (prepared) statement, each connection parses and
 * plans a statement text once and, after its first executions, reuses the plan while the plan's estimated cost stays
 * as good as planning afresh (PostgreSQL's plan_cache_mode auto); values are always parameters, so a text is a shape,
 * and the shapes are few.
 *
 * The name is derived from the text, so every connection names the same statement alike. At most `limit` texts are
 * named, whichever come first; any further one runs unnamed as before, so a run of odd shapes cannot grow the
 * server's memory without bound (each connection keeps what it prepared until it closes).
 */
import { createHash } from 'node:crypto';

/** Enough for every shape the API sends many times; each connection holds at most this many plans. */
export const PREPARED_STATEMENT_LIMIT = 400;

export interface StatementNamer {
  /** The name to prepare `text` under, or undefined to run it unnamed. */
  nameOf(text: string): string | undefined;
  /** Stops naming `text` (its prepared form failed, e.g. a table it reads changed shape under it). */
  forget(text: string): void;
}

export function createStatementNamer(limit = PREPARED_STATEMENT_LIMIT): StatementNamer {
  const names = new Map<string, string | undefined>();
  return {
    nameOf(text) {
      const known = names.get(text);
      if (known !== undefined || names.has(text)) {
        return known;
      }
      if (names.size >= limit) {
        return undefined;
      }
      const name = `cc_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
      names.set(text, name);
      return name;
    },
    forget(text) {
      names.set(text, undefined);
    },
  };
}

/**
 * A prepared statement whose plan PostgreSQL can no longer use as it is: the result's shape changed (another replica's
 * migration altered a table it reads). Run unnamed, it is planned afresh.
 */
export function isStalePreparedStatement(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '0A000' && /cached plan/.test((err as Error).message);
}
