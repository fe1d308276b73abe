/**
 * The {@link Repository} over resource_version: reads, versioned writes, conditional create, JSON Patch, delete,
 * search, history and transactions, each consulting the bound {@link AccessPolicy} (interaction first, visibility
 * inside every SELECT, the write check inside the write's transaction).
 *
 * Decisions where FHIR leaves room: a write to a resource the caller cannot see is 404, and so is an update, patch or
 * delete of one that does not exist, so a write never tells a caller more than a read would; only a policy that lets
 * its caller choose ids (the operator's) turns an update of an absent id into a create (and If-Match on it into 412).
 * Deleting a deleted resource succeeds again (204); update of a deleted resource brings it back (outcome `created`,
 * which needs the create interaction too; the policy and the rules judge it against its last live version); a version
 * the caller is shown only in part is not its to update, patch or delete (403, before anything reads it); create with a caller-chosen id that exists is 409; every update writes a
 * new version even when only meta would differ; malformed ids are 400. AuditEvent and Provenance are append-only: no
 * update, patch or delete, whoever asks (405). A conditional create (If-None-Exist) is a search too: it needs the
 * search interaction as well (403), and the match it answers with is recorded as a search's disclosure.
 *
 * Every written resource is checked against R4 structure before anything reads it (the policy, the write rules), so
 * each rule sees a well-formed resource; after the rules, the whole validation (profiles included) runs on the result
 * unless the rules only filled in share labels and no profile is claimed (then the first check covered all of it).
 */
import { badRequest, conflict, gone, notFound, OperationOutcomeError, preconditionFailed } from '@medplum/core';
import type { Meta, Resource } from '@medplum/fhirtypes';
import {
  APPEND_ONLY_RESOURCE_TYPES,
  assertSupportedResourceType,
  assertValidId,
  methodNotAllowed,
  statusOf,
  validateFhirResource,
  validateFhirStructure,
  VersionMismatchError,
} from '@carecircle/fhir';
import type { AccessPolicy } from './access-policy';
import { compartmentList, computePatientCompartments, parseCompartmentList } from './compartments';
import type { Database, Queryable, Transaction } from './database';
import { ALL_RESOURCE_TYPES, runHistory } from './history';
import { applyJsonPatch } from './json-patch';
import type {
  CreateOptions,
  HistoryOutcome,
  PatchOperation,
  Repository,
  SearchOutcome,
  UpdateOptions,
  WriteOutcome,
} from './repository';
import { PROCESS_PAGE_TOKEN_KEY } from './search/page-token';
import { conditionalCreateLockKey } from './search/conditional-create-lock';
import { findConditionalMatches, parseConditionalSearch, runSearch } from './search/run-search';
import { partialColumn, presentationOf, refusedAsShownInPart, shownVersion } from './presentation';
import { foundIn, recorderColumns, type FoundForRecord, type RecorderColumnValues } from './recorder-columns';
import { raw, sql, type Sql } from './sql';
import { withholdHiddenReferences } from './withheld-references';
import {
  inRepositoryTransaction,
  inWriteTransaction,
  isVersionVisible,
  policyVisibility,
  queryable,
  visibleTo,
  visibleWithCurrent,
  type StoreContext,
} from './store-context';
import { appendVersion, lockCurrentVersion, type ChangeKind, type CurrentVersion } from './version-store';
import { withWriteRules, type BoundWritePipeline, type WriteFacts } from './write-pipeline';

export interface RepositoryOptions {
  /** The clock for meta.lastUpdated and `ap` date searches; tests pin it. */
  now?: () => Date;
  /**
   * The write pipeline every create, update, patch and delete passes, its writer bound (write-pipeline.ts); without
   * one, the policy's write check alone.
   */
  writes?: BoundWritePipeline;
  /**
   * The key that signs `_page` tokens. Replicas must share it (deployments derive it from configuration); without one,
   * a key of this process is used, which suits tests and a single development process.
   */
  pageTokenKey?: Uint8Array;
  /** Who the repository acts for (caller and purpose): `_page` tokens are bound to it. */
  principal?: string;
  /** An open transaction of `db` to work in (and to join on `transaction()`), instead of the database itself. */
  transaction?: Transaction;
  /** What it writes is built by the server itself, its shape proven by tests: not validated at run time (StoreContext). */
  serverBuilt?: boolean;
}

/** A repository over `db` bound to `policy`. */
export function createRepository(db: Database, policy: AccessPolicy, options: RepositoryOptions = {}): Repository {
  return new ResourceRepository({
    db,
    tx: options.transaction,
    afterTransaction: undefined,
    policy,
    now: options.now ?? (() => new Date()),
    writes: options.writes ?? withWriteRules([], undefined),
    pageTokenKey: options.pageTokenKey ?? PROCESS_PAGE_TOKEN_KEY,
    principal: options.principal ?? '',
    serverBuilt: options.serverBuilt ?? false,
  });
}

class ResourceRepository implements Repository {
  constructor(private readonly ctx: StoreContext) {}

  get policy(): AccessPolicy {
    return this.ctx.policy;
  }

  async read<T extends Resource = Resource>(resourceType: string, id: string): Promise<T> {
    this.ctx.policy.assertInteraction('read', resourceType);
    assertSupportedResourceType(resourceType);
    assertValidId(id);
    const q = queryable(this.ctx);
    const { rows } = await q.query<
      { vid: number | string; deleted: boolean; content: T | null; compartments: string; partial: boolean } & RecorderColumnValues
    >(sql`
      SELECT rv.vid, rv.deleted, rv.content, ${compartmentList(raw('rv'))} AS compartments, ${partialColumn(this.ctx, resourceType)}${recorderColumns(this.ctx.policy.recorder)}
      FROM resource_version rv
      WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.superseded_xid IS NULL
        AND (${policyVisibility(this.ctx, resourceType)})`);
    // The policy's own condition decides a live version; a deletion shows only with the version it deleted, asked
    // apart so that the common read plans one copy of the policy.
    const row = rows[0]?.deleted && !(await isVersionVisible(this.ctx, q, resourceType, Number(rows[0].vid))) ? undefined : rows[0];
    if (!row) {
      await this.recordDenialIfHidden('read', resourceType, id);
    }
    const resource = shownVersion(this.ctx, presentVersion(row), row?.partial, row && parseCompartmentList(row.compartments));
    await recordDisclosure(this.ctx, 'read', [resource], foundIn(row));
    return resource;
  }

  async vread<T extends Resource = Resource>(resourceType: string, id: string, versionId: string): Promise<T> {
    this.ctx.policy.assertInteraction('vread', resourceType);
    assertSupportedResourceType(resourceType);
    assertValidId(id);
    if (!/^[1-9]\d{0,8}$/.test(versionId)) {
      throw new OperationOutcomeError(notFound);
    }
    // An older version shows only while the current one does too: a resource that became more sensitive hides its past.
    const { rows } = await queryable(this.ctx).query<{ deleted: boolean; content: T | null; partial: boolean }>(sql`
      SELECT rv.deleted, rv.content, ${partialColumn(this.ctx, resourceType)} FROM resource_version rv
      WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.version_id = ${Number(versionId)}
        AND ${visibleWithCurrent(this.ctx, resourceType) ?? sql`TRUE`}`);
    if (!rows[0]) {
      await this.recordDenialIfHidden('vread', resourceType, id);
    }
    const resource = shownVersion(this.ctx, presentVersion(rows[0]), rows[0]?.partial);
    await recordDisclosure(this.ctx, 'vread', [resource]);
    return resource;
  }

  async create<T extends Resource>(resource: T, options: CreateOptions = {}): Promise<WriteOutcome<T>> {
    const resourceType = requireResourceType(resource);
    this.ctx.policy.assertInteraction('create', resourceType);
    if (options.ifNoneExist !== undefined) {
      // A conditional create searches first and may answer with what it found: FHIR asks search rights for it.
      this.ctx.policy.assertInteraction('search', resourceType);
    }
    assertSupportedResourceType(resourceType);
    const id = options.id === undefined ? crypto.randomUUID() : assertValidId(options.id);
    const condition = options.ifNoneExist === undefined ? undefined : parseConditionalSearch(resourceType, options.ifNoneExist);
    const outcome = await inWriteTransaction(this.ctx, async (tx): Promise<WriteOutcome<T>> => {
      if (condition) {
        // Every spelling of one search takes one lock (conditional-create-lock.ts): the second to run finds the first's.
        await tx.query(sql`SELECT pg_advisory_xact_lock(hashtext(${conditionalCreateLockKey(condition)}))`);
        const matches = await findConditionalMatches({ ...this.ctx, tx }, tx, condition, 2);
        if (matches.length > 1) {
          throw new OperationOutcomeError(preconditionFailed);
        }
        if (matches[0]) {
          return { resource: matches[0] as T, outcome: 'existing' };
        }
      }
      // A caller-chosen id may exist already (409), or be created concurrently (the lock serialises the two); a fresh
      // random UUID cannot, and the primary key would refuse it anyway.
      if (options.id !== undefined && (await lockCurrentVersion(tx, resourceType, id, visibleTo(this.ctx, resourceType)))) {
        throw new OperationOutcomeError(conflict('A resource with this id already exists'));
      }
      const stored = await this.store(tx, 'create', resource, id, undefined, 'create', options.held);
      return { resource: stored, outcome: 'created' };
    });
    if (outcome.outcome === 'existing') {
      // The match is handed back as a search would hand it back, and recorded as such before it leaves.
      await recordDisclosure(this.ctx, 'search', [outcome.resource]);
    }
    return outcome;
  }

  async update<T extends Resource>(resource: T, options: UpdateOptions = {}): Promise<WriteOutcome<T>> {
    const resourceType = requireResourceType(resource);
    assertChangeable(resourceType);
    this.ctx.policy.assertInteraction('update', resourceType);
    assertSupportedResourceType(resourceType);
    if (resource.id === undefined || resource.id === '') {
      throw new OperationOutcomeError(badRequest('An update needs the resource id', 'id'));
    }
    const id = assertValidId(typeof resource.id === 'string' ? resource.id : '');
    return inWriteTransaction(this.ctx, async (tx) => {
      const current = await this.lockVisible(tx, resourceType, id);
      if (!current && !this.ctx.policy.clientAssignedIds) {
        // Absent answers as hidden does: only the operator may create with an id of its choosing.
        throw new OperationOutcomeError(notFound);
      }
      assertIfMatch(current, options.ifMatch);
      const live = current && !current.deleted ? current : undefined;
      if (!live) {
        this.ctx.policy.assertInteraction('create', resourceType);
      }
      const stored = await this.store(tx, 'update', resource, id, current, live ? 'update' : 'create');
      return { resource: stored, outcome: live ? 'updated' : 'created' };
    });
  }

  async patch<T extends Resource = Resource>(
    resourceType: string,
    id: string,
    operations: PatchOperation[],
    options: UpdateOptions = {},
  ): Promise<T> {
    assertChangeable(resourceType);
    this.ctx.policy.assertInteraction('patch', resourceType);
    assertSupportedResourceType(resourceType);
    assertValidId(id);
    return inWriteTransaction(this.ctx, async (tx) => {
      const current = await this.lockVisible(tx, resourceType, id);
      if (!current) {
        throw new OperationOutcomeError(notFound);
      }
      if (current.deleted || !current.content) {
        throw new OperationOutcomeError(gone);
      }
      assertIfMatch(current, options.ifMatch);
      const patched = applyJsonPatch(current.content, operations);
      if (!isResourceLike(patched) || patched.resourceType !== resourceType || patched.id !== id) {
        throw new OperationOutcomeError(badRequest('A patch may not change resourceType or id'));
      }
      return this.store(tx, 'patch', patched as T, id, current, 'update');
    });
  }

  async delete(resourceType: string, id: string, options: UpdateOptions = {}): Promise<void> {
    assertChangeable(resourceType);
    this.ctx.policy.assertInteraction('delete', resourceType);
    assertSupportedResourceType(resourceType);
    assertValidId(id);
    await inWriteTransaction(this.ctx, async (tx) => {
      const current = await this.lockVisible(tx, resourceType, id);
      if (!current) {
        throw new OperationOutcomeError(notFound);
      }
      assertIfMatch(current, options.ifMatch);
      if (current.deleted) {
        return;
      }
      // The pipeline (write-pipeline.ts) for a deletion: custody and consent, the delete rules, the version.
      await this.ctx.writes.authorize({ interaction: 'delete', next: undefined, current: current.content, tx, policy: this.ctx.policy });
      if (current.content) {
        for (const rule of this.ctx.writes.deleteRules) {
          await rule(current.content, tx);
        }
      }
      await appendVersion(tx, current, {
        resourceType,
        id,
        versionId: current.versionId + 1,
        lastUpdated: this.ctx.now().toISOString(),
        resource: undefined,
        // A deletion stays in the compartments of what it deleted, so compartment-based policies still show it.
        compartments: current.compartments,
        kind: 'delete',
      });
    });
  }

  async search(resourceType: string, params: URLSearchParams): Promise<SearchOutcome> {
    this.ctx.policy.assertInteraction('search', resourceType);
    assertSupportedResourceType(resourceType);
    const { found, ...outcome } = await runSearch(this.ctx, resourceType, params);
    await recordDisclosure(this.ctx, 'search', [...outcome.matches, ...outcome.included], found);
    return outcome;
  }

  async history(resourceType: string | undefined, id: string | undefined, params: URLSearchParams): Promise<HistoryOutcome> {
    if (resourceType === undefined) {
      if (id !== undefined) {
        throw new OperationOutcomeError(badRequest('Instance history needs a resource type'));
      }
      return withHistoryDisclosed(this.ctx, await runHistory(this.ctx, this.historyTypes(), undefined, params));
    }
    this.ctx.policy.assertInteraction('history', resourceType);
    assertSupportedResourceType(resourceType);
    if (id === undefined) {
      return withHistoryDisclosed(this.ctx, await runHistory(this.ctx, [resourceType], undefined, params));
    }
    assertValidId(id);
    try {
      return withHistoryDisclosed(this.ctx, await runHistory(this.ctx, [resourceType], id, params));
    } catch (err) {
      // Instance history of a resource that exists but is hidden answers 404, and is a denial as a read would be.
      if (err instanceof OperationOutcomeError && statusOf(err.outcome) === 404) {
        await this.recordDenialIfHidden('history', resourceType, id);
      }
      throw err;
    }
  }

  async transaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.ctx.tx) {
      return fn(this);
    }
    return inRepositoryTransaction(this.ctx, (bound) => fn(new ResourceRepository(bound)));
  }

  /** System history covers the types the caller may read history of; with none, the first refusal stands. */
  private historyTypes(): string[] {
    const allowed: string[] = [];
    let refusal: unknown;
    for (const type of ALL_RESOURCE_TYPES) {
      try {
        this.ctx.policy.assertInteraction('history', type);
        allowed.push(type);
      } catch (err) {
        if (!(err instanceof OperationOutcomeError)) {
          throw err;
        }
        refusal ??= err;
      }
    }
    if (allowed.length === 0 && refusal) {
      throw refusal;
    }
    return allowed;
  }

  /** When the policy records denials and a resource it hides exists, records the denial (the caller still gets 404). */
  private async recordDenialIfHidden(interaction: 'read' | 'vread' | 'history', resourceType: string, id: string): Promise<void> {
    const recorder = this.ctx.policy.recorder;
    if (!recorder) {
      return;
    }
    const { rows } = await queryable(this.ctx).query<{ compartments: string[] }>(sql`
      SELECT rv.compartments FROM resource_version rv
      WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.superseded_xid IS NULL AND NOT rv.deleted`);
    if (rows[0]) {
      const { afterTransaction } = this.ctx;
      await recorder.recordDenial({ interaction, resourceType, id, compartments: rows[0].compartments, ...(afterTransaction && { afterTransaction }) });
    }
  }

  /**
   * Locks the current version for an update, patch or delete; one the caller cannot see answers 404, as a read would.
   * One the caller is shown only in part (a recipient's view of a Consent) answers 403 before anything reads the
   * stored version for it: If-Match, the patch and validation would otherwise tell it what it is not shown.
   */
  private async lockVisible(
    tx: Parameters<typeof lockCurrentVersion>[0],
    resourceType: string,
    id: string,
  ): Promise<CurrentVersion | undefined> {
    const current = await lockCurrentVersion(tx, resourceType, id, visibleTo(this.ctx, resourceType), presentationOf(this.ctx, resourceType)?.partial);
    if (current && !current.visible) {
      throw new OperationOutcomeError(notFound);
    }
    if (current?.partial) {
      throw refusedAsShownInPart(resourceType);
    }
    return current;
  }

  /**
   * The version a write is judged against: the current one, or, when the resource is deleted, the last live version
   * before the deletion, so bringing a resource back cannot undo what its history holds it to (categories only go up,
   * a note keeps its custodian's stamp).
   */
  private async judgedAgainst(
    tx: Queryable,
    resourceType: string,
    id: string,
    current: CurrentVersion | undefined,
  ): Promise<Resource | undefined> {
    if (!current) {
      return undefined;
    }
    if (!current.deleted) {
      return current.content;
    }
    const { rows } = await tx.query<{ content: Resource | null }>(sql`
      SELECT rv.content FROM resource_version rv
      WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.version_id < ${current.versionId} AND NOT rv.deleted
      ORDER BY rv.version_id DESC
      LIMIT 1`);
    return rows[0]?.content ?? undefined;
  }

  /**
   * The write pipeline (write-pipeline.ts) for a create, update or patch: sets id and meta, checks R4 structure,
   * authorizes (custody and consent), applies the rules, validates the result (profiles included), appends the next
   * version with its outbox event, and runs the records, all in `tx`.
   */
  private async store<T extends Resource>(
    tx: Transaction,
    interaction: 'create' | 'update' | 'patch',
    resource: T,
    id: string,
    current: CurrentVersion | undefined,
    kind: ChangeKind,
    held: readonly Resource[] = [],
  ): Promise<T> {
    const versionId = (current?.versionId ?? 0) + 1;
    const lastUpdated = this.ctx.now().toISOString();
    const meta: Meta = { ...resource.meta, versionId: String(versionId), lastUpdated };
    const next = { ...resource, id, meta } as T;
    // A deleted resource written again is judged against its last live version (judgedAgainst).
    const previous = await this.judgedAgainst(tx, resource.resourceType, id, current);
    // Structure first, so the policy and the rules only ever read a well-formed resource (a string where an array
    // belongs would crash them); it judges the caller's own input alone, so it tells a refused caller nothing.
    if (!this.ctx.serverBuilt) {
      validateFhirStructure(next);
    }
    // Authorisation next, so a refused caller learns nothing from the rules' answers (they look up other resources).
    await this.ctx.writes.authorize({ interaction, next, current: previous, tx, policy: this.ctx.policy });
    // What the rules start from, to tell whether they changed more than labels (the server's own events are not
    // validated per write, so theirs is not serialised for nothing). Taken after the policy, whose only change is its
    // own well-formed stamp (a practice's new Patient gets `managingOrganization`), so that stamp alone does not cost
    // the whole validation again.
    const checked = this.ctx.serverBuilt ? undefined : withoutLabels(next);
    const alongside: Sql[] = [];
    const facts: WriteFacts = { revives: current?.deleted === true, alongside: (insert) => alongside.push(insert), held };
    for (const rule of this.ctx.writes.rules) {
      await rule(next, previous, tx, facts);
    }
    // The whole validation again when a profile is claimed or a rule changed more than the server's own labels: the
    // structure check above already covers everything else, and revalidating is most of the cost of a large write.
    if (!this.ctx.serverBuilt && (next.meta?.profile !== undefined || withoutLabels(next) !== checked)) {
      validateFhirResource(next);
    }
    // The version is the write's last statement when nothing is recorded after it and the write's transaction is its
    // own (not a savepoint in the caller's): a create whose rules read nothing is then one statement.
    const records = this.ctx.writes.records.filter((record) => record.appliesTo(next));
    const last = this.ctx.tx === undefined && records.length === 0;
    await appendVersion(
      tx,
      current,
      { resourceType: next.resourceType, id, versionId, lastUpdated, resource: next, compartments: computePatientCompartments(next), kind, alongside },
      last,
    );
    if (records.length > 0) {
      // Recorded through this transaction's repository, bound to the same policy and writer.
      const repository = new ResourceRepository({ ...this.ctx, tx });
      for (const { record } of records) {
        await record({ written: next, kind: kind === 'create' ? 'create' : 'update', repository });
      }
    }
    return next;
  }
}

/** `resource` as JSON without `meta.tag` and `meta.security`, the labels write rules fill in. */
function withoutLabels(resource: Resource): string {
  return JSON.stringify({ ...resource, meta: { ...resource.meta, tag: undefined, security: undefined } });
}

/** Tells the policy's recorder (if any) what is about to be handed out; throws if it cannot record it. */
/** `ownClients`: of the resources' clients, the caller's own, when the statement that read them said (Disclosure). */
async function recordDisclosure(
  ctx: StoreContext,
  interaction: 'read' | 'vread' | 'search' | 'history',
  resources: Resource[],
  found: FoundForRecord = {},
): Promise<void> {
  // Every path that hands versions out passes here: references to what the caller may not see are withheld first.
  await withholdHiddenReferences(ctx, resources);
  if (ctx.policy.recorder && resources.length > 0) {
    await ctx.policy.recorder.recordDisclosure({ interaction, resources, ...(ctx.tx && { tx: ctx.tx }), ...found });
  }
}

async function withHistoryDisclosed(ctx: StoreContext, outcome: HistoryOutcome): Promise<HistoryOutcome> {
  const resources = outcome.entries.flatMap((entry) => (entry.resource ? [entry.resource] : []));
  await recordDisclosure(ctx, 'history', resources);
  return outcome;
}

/** 405 for changing a record of what happened (AuditEvent, Provenance): those are only ever appended. */
function assertChangeable(resourceType: string): void {
  if (APPEND_ONLY_RESOURCE_TYPES.has(resourceType)) {
    throw new OperationOutcomeError(methodNotAllowed(`${resourceType} is append-only: it cannot be updated, patched or deleted`));
  }
}

function presentVersion<T extends Resource>(row: { deleted: boolean; content: T | null } | undefined): T {
  if (!row) {
    throw new OperationOutcomeError(notFound);
  }
  if (row.deleted || !row.content) {
    throw new OperationOutcomeError(gone);
  }
  return row.content;
}

function requireResourceType(resource: Resource): string {
  if (!isResourceLike(resource)) {
    throw new OperationOutcomeError(badRequest('The body is not a FHIR resource', 'resourceType'));
  }
  return resource.resourceType;
}

function isResourceLike(value: unknown): value is Resource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { resourceType?: unknown }).resourceType === 'string'
  );
}

/**
 * If-Match: the version the caller saw (`3`, `"3"` or `W/"3"`) must be the current one; none at all is 412 too. The 412
 * names the current version: `current` is one the caller sees (hidden ones are 404 before this).
 */
function assertIfMatch(current: CurrentVersion | undefined, ifMatch: string | undefined): void {
  if (ifMatch === undefined) {
    return;
  }
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(ifMatch.trim());
  if (!m) {
    throw new OperationOutcomeError(badRequest('Invalid If-Match: expected a version id'));
  }
  if (!current || current.versionId !== Number(m[1])) {
    throw new VersionMismatchError(current === undefined ? undefined : String(current.versionId));
  }
}
