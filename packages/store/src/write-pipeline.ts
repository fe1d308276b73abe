/**
 * The shape of the write pipeline: the ordered stages every create, update, patch and delete passes inside the
 * repository, each a typed function handed the writer (who writes, and with which access) explicitly, never read from
 * ambient state. The repository runs them in this order, its own steps (marked "store") between them:
 *
 *   1. scopes                  store: the policy's assertInteraction, before any database work
 *   2. R4 structure            store: the written resource is well-formed before anything reads it
 *   3. authorize               custody and consent: may this writer make this write
 *   4. rules / deleteRules     workflow rules, labels and indexes, in order (they may complete or refuse the write)
 *   5. validation              store: the whole validation, profiles included, of what the rules left
 *   6. version and outbox      store: the next version, its outbox event and the inserts the rules asked for
 *                              (WriteFacts.alongside), by one statement in the write's transaction
 *   7. records                 what is recorded of the write in the same transaction (Provenance)
 *
 * The stages themselves are declared once, in @carecircle/access (write-pipeline.ts); this package only runs them. The
 * writer's type is the pipeline's parameter, so the store knows nothing of callers.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { AccessPolicy } from './access-policy';
import type { Queryable } from './database';
import type { Repository } from './repository';
import type { Sql } from './sql';

/** What a stage may need besides the two versions. */
export interface WriteFacts {
  /**
   * The resource was deleted and this write brings it back; `current` is then its last live version (the one the
   * deletion deleted), which the rules still hold the write to (categories only go up, a note keeps its stamp).
   */
  revives: boolean;
  /**
   * Has `insert` made by the statement that writes the version, as one more of its data-modifying CTEs: it commits
   * with the version and costs no round trip of its own. For an INSERT of rows nothing else in the write reads, which
   * reads only rows already stored (all parts of one statement see the same snapshot, not each other's rows).
   */
  alongside(insert: Sql): void;
  /**
   * Versions of other resources the writer holds as it read them in this request (a disclosure's record holds what it
   * discloses; CreateOptions.held): a rule that judges a write by what it points at may take their `meta` from here
   * instead of reading it again. Empty unless the writer says.
   */
  readonly held: readonly Resource[];
}

/** The interactions that write. */
export type WriteInteraction = 'create' | 'update' | 'patch' | 'delete';

/**
 * Stage 3, custody and consent: throws (403, or 404 when the writer may not even know the resource exists) when
 * `writer` may not make this write. `next` is undefined for a delete. Runs in the write's transaction `tx`.
 */
export type WriteAuthorization<W> = (
  write: { interaction: WriteInteraction; next: Resource | undefined; current: Resource | undefined; tx: Queryable; policy: AccessPolicy },
  writer: W,
) => void | Promise<void>;

/**
 * Stage 4, a rule every create, update and patch passes, judged by who writes (`writer`): runs inside the write's
 * transaction, after `next` passed the R4 structural validation and stage 3, and before the final validation; it may
 * complete `next` (server-filled labels) or refuse it (throw an OperationOutcomeError).
 */
export type WriteRuleFor<W> = (next: Resource, current: Resource | undefined, tx: Queryable, write: WriteFacts, writer: W) => void | Promise<void>;

/** A {@link WriteRuleFor} that does not ask who writes (labels, indexes, the shape of what is written). */
export type WriteRule = (next: Resource, current: Resource | undefined, tx: Queryable, write?: WriteFacts) => void | Promise<void>;

/** Stage 4 for a delete: a rule the deletion of `current` (live, and visible to the writer) passes. */
export type DeleteRule<W> = (current: Resource, tx: Queryable, writer: W) => void | Promise<void>;

/** What a record stage is handed: the write as stored, its kind and the repository of its transaction. */
export interface RecordedWrite {
  written: Resource;
  kind: 'create' | 'update';
  repository: Repository;
}

/**
 * Stage 7: records what was written (`written`, as stored, with its id and version), in the write's transaction,
 * through `repository`, the repository of that transaction bound to the same writer (so what it records passes the
 * pipeline too). `kind` is `create` for a new resource or one brought back, else `update`. `appliesTo` says, before
 * the version is written, whether it records anything of `next` (as the rules left it): a write nothing records can
 * then be its version's one statement (Transaction.queryLast).
 */
export interface WriteRecord<W> {
  appliesTo(next: Resource): boolean;
  record(write: RecordedWrite, writer: W): void | Promise<void>;
}

/** The stages a repository runs for writer type `W` (see the module comment for where each runs). */
export interface WritePipeline<W> {
  readonly authorize: WriteAuthorization<W>;
  readonly rules: readonly WriteRuleFor<W>[];
  readonly deleteRules: readonly DeleteRule<W>[];
  readonly records: readonly WriteRecord<W>[];
}

/** A pipeline with its writer bound: what a repository runs (see {@link bindWritePipeline}). */
export interface BoundWritePipeline {
  authorize(write: Parameters<WriteAuthorization<unknown>>[0]): void | Promise<void>;
  readonly rules: readonly ((next: Resource, current: Resource | undefined, tx: Queryable, write: WriteFacts) => void | Promise<void>)[];
  readonly deleteRules: readonly ((current: Resource, tx: Queryable) => void | Promise<void>)[];
  readonly records: readonly { appliesTo(next: Resource): boolean; record(write: RecordedWrite): void | Promise<void> }[];
}

/** Stage 3 when nothing else is declared: the policy's own write check. */
export const authorizeByPolicy: WriteAuthorization<unknown> = ({ interaction, next, current, tx, policy }) =>
  policy.assertWrite(interaction, next, current, tx);

/** `pipeline` run for `writer`: every stage is handed that writer. */
export function bindWritePipeline<W>(pipeline: WritePipeline<W>, writer: W): BoundWritePipeline {
  return {
    authorize: (write) => pipeline.authorize(write, writer),
    rules: pipeline.rules.map((rule) => (next: Resource, current: Resource | undefined, tx: Queryable, write: WriteFacts) => rule(next, current, tx, write, writer)),
    deleteRules: pipeline.deleteRules.map((rule) => (current: Resource, tx: Queryable) => rule(current, tx, writer)),
    records: pipeline.records.map(({ appliesTo, record }) => ({ appliesTo, record: (write: RecordedWrite) => record(write, writer) })),
  };
}

/**
 * The policy's own write check and `rules` handed `writer`: the pipeline of a repository built without a declared one
 * (read-only views, the store's own tests: no rules), or of a test of some rules.
 */
export function withWriteRules<W>(rules: readonly WriteRuleFor<W>[], writer: W): BoundWritePipeline {
  return bindWritePipeline<W>({ authorize: authorizeByPolicy, rules, deleteRules: [], records: [] }, writer);
}
