/**
 * Re-indexing the search rows of stored versions when what is indexed changes. Rows are extracted when a version is
 * written (search-index.ts) and never rewritten on their own, so a search parameter added later (ours from
 * fhir-profiles, such as Task `ack-due`) or a change to the extraction (token `:text` rows) would silently miss every
 * version stored before it, in a PGlite data directory as in a production database.
 *
 * Each resource type's index is named by a fingerprint: a hash of its indexed SearchParameter definitions and
 * {@link SEARCH_INDEX_EXTRACTION}. The fingerprint its current versions carry is recorded in `search_index_version`;
 * the worker, at start, plans a re-indexing of every type whose recorded fingerprint differs from its own
 * (`search_reindex`, one row per type: the target and a cursor) and then rewrites, batch after batch, the rows of the
 * type's current versions in vid order. Searches read current versions only (later pages: versions current in their
 * first page's snapshot), so superseded versions and deletions are left as they are.
 *
 * - Resumable: each batch advances the cursor in the transaction that writes its rows, so a worker stopped anywhere
 *   leaves the rest to the next start, or to another replica.
 * - Replicas take turns: planning and every batch run under a transaction-scoped advisory lock that one replica holds at
 *   a time; the others wait and try again, so no batch is done twice and a replica that dies hands over at once.
 * - Requests keep being served: a batch is a short transaction of its own (rows deleted and written in it, so a search
 *   sees either the old rows or the new ones), and a version a writer has locked is not waited for (no deadlock with a
 *   transaction Bundle): it is deferred and re-indexed at the end of its type's walk.
 * - Idempotent: a version's rows are replaced whole by what the current code extracts.
 * - A release never undoes a newer one: a type recorded, or being re-indexed, under a higher extraction version is
 *   left alone by a replica of an older release.
 */
import { createHash } from 'node:crypto';
import { SUPPORTED_RESOURCE_TYPES } from '@carecircle/fhir';
import type { Resource } from '@medplum/fhirtypes';
import type { Database, Transaction } from '../database';
import { raw, sql, type Sql } from '../sql';
import { timestamptz } from './date-range';
import { extractSearchIndex, SEARCH_INDEX_EXTRACTION, type SearchIndexRows } from './search-index';
import { supportedSearchParameters } from './search-parameters';

// An arbitrary constant: the key of the advisory lock whose holder plans or runs the next batch.
const REINDEX_LOCK_KEY = 727_274_004;

/** Versions re-indexed per batch (one transaction): a fraction of a second of extraction. */
export const REINDEX_BATCH_SIZE = 100;
/** How long a replica waits before trying again while another holds the turn. */
export const REINDEX_BUSY_RETRY_MS = 1000;
// Extraction is CPU work on the event loop the API may share (ROLE=all): let other callbacks run this often.
const YIELD_EVERY = 20;
// The search index tables (0001-resources.sql), each keyed by the version's vid.
const SEARCH_TABLES = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_uri'];

/** The index a resource type's rows are to be built with, by this release. */
export interface SearchIndexTarget {
  resourceType: string;
  fingerprint: string;
  extraction: number;
}

/**
 * The index this release builds for `resourceType`: the extraction version and every indexed parameter's code, type,
 * url and expression, hashed. Computed from the loaded definitions, so a SearchParameter added to fhir-profiles
 * changes the fingerprint of the types it is based on, and of no other.
 */
export function searchIndexTarget(resourceType: string): SearchIndexTarget {
  const params = [...supportedSearchParameters(resourceType).values()]
    .filter((p) => p.source === 'indexed')
    .map((p) => [p.code, p.type, p.url, p.definition?.expression ?? ''])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ extraction: SEARCH_INDEX_EXTRACTION, resourceType, params }))
    .digest('hex');
  return { resourceType, fingerprint, extraction: SEARCH_INDEX_EXTRACTION };
}

/** A type planned for re-indexing: how many current versions it had when planned, and how many are done. */
export interface PlannedReindex {
  target: SearchIndexTarget;
  planned: number;
  reindexed: number;
}

/** What planning found. */
export interface ReindexPlan {
  /** The types whose rows are to be rewritten (new or resumed), in name order. */
  work: PlannedReindex[];
  /** Types indexed, or being re-indexed, by a newer release: left alone. */
  newer: string[];
}

/**
 * Plans the re-indexing this release needs: for each stored type whose recorded index differs from
 * {@link searchIndexTarget}, resumes its re-indexing or starts one (a re-indexing towards another target, of an older
 * or equal extraction, is restarted towards ours); a type with no current version is recorded as indexed at once.
 * Returns 'busy' while another replica holds the turn.
 */
export async function planSearchReindex(db: Database, resourceTypes: readonly string[] = SUPPORTED_RESOURCE_TYPES): Promise<ReindexPlan | 'busy'> {
  const targets = resourceTypes.map(searchIndexTarget);
  return db.transaction(async (tx) => {
    // Counting a large table's current versions may outlast the statement timeout of requests.
    await tx.exec('SET LOCAL statement_timeout = 0');
    if (!(await takeTurn(tx))) {
      return 'busy';
    }
    const types = targets.map((t) => t.resourceType);
    const stored = new Map(
      (
        await tx.query<{ resource_type: string; fingerprint: string; extraction: number }>(
          sql`SELECT resource_type, fingerprint, extraction FROM search_index_version WHERE resource_type = ANY(${types}::text[])`,
        )
      ).rows.map((r) => [r.resource_type, r]),
    );
    const jobs = new Map(
      (
        await tx.query<{ resource_type: string; fingerprint: string; extraction: number; planned: number | string; reindexed: number | string }>(
          sql`SELECT resource_type, fingerprint, extraction, planned, reindexed FROM search_reindex WHERE resource_type = ANY(${types}::text[])`,
        )
      ).rows.map((r) => [r.resource_type, r]),
    );
    const plan: ReindexPlan = { work: [], newer: [] };
    const toStart: SearchIndexTarget[] = [];
    for (const target of targets) {
      const recorded = stored.get(target.resourceType);
      const job = jobs.get(target.resourceType);
      if ((recorded?.extraction ?? 0) > target.extraction || (job?.extraction ?? 0) > target.extraction) {
        plan.newer.push(target.resourceType);
      } else if (recorded && sameIndex(recorded, target)) {
        if (job) {
          // A re-indexing towards an index since replaced by ours: nothing left to do.
          await tx.query(sql`DELETE FROM search_reindex WHERE resource_type = ${target.resourceType}`);
        }
      } else if (job && sameIndex(job, target)) {
        plan.work.push({ target, planned: Number(job.planned), reindexed: Number(job.reindexed) });
      } else {
        toStart.push(target);
      }
    }
    if (toStart.length > 0) {
      const counts = new Map(
        (
          await tx.query<{ resource_type: string; n: number | string }>(sql`
            SELECT resource_type, count(*) AS n FROM resource_version
             WHERE resource_type = ANY(${toStart.map((t) => t.resourceType)}::text[]) AND superseded_xid IS NULL AND NOT deleted
             GROUP BY resource_type`)
        ).rows.map((r) => [r.resource_type, Number(r.n)]),
      );
      for (const target of toStart) {
        const planned = counts.get(target.resourceType) ?? 0;
        if (planned === 0) {
          await recordIndexed(tx, target);
          continue;
        }
        await tx.query(sql`
          INSERT INTO search_reindex (resource_type, fingerprint, extraction, planned)
          VALUES (${target.resourceType}, ${target.fingerprint}, ${target.extraction}, ${planned})
          ON CONFLICT (resource_type) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, extraction = EXCLUDED.extraction,
            after_vid = 0, deferred_vids = '{}', planned = EXCLUDED.planned, reindexed = 0, started_at = now(), updated_at = now()`);
        plan.work.push({ target, planned, reindexed: 0 });
      }
    }
    plan.work.sort((a, b) => (a.target.resourceType < b.target.resourceType ? -1 : 1));
    return plan;
  });
}

/** What one batch did. */
export type ReindexBatchOutcome =
  /** Another replica holds the turn: try again later. */
  | { kind: 'busy' }
  /** The type's re-indexing is no longer this target's: finished (by another replica too), or restarted by another release. */
  | { kind: 'gone' }
  /**
   * Rows rewritten for `reindexed` versions (`skipped`: versions whose extraction failed keep their rows);
   * `deferred` versions wait for their writers (`waiting`: only those are left, and still held); `total`: the
   * type's count so far.
   */
  | { kind: 'progress'; reindexed: number; skipped: number; deferred: number; total: number; planned: number; waiting: boolean }
  /** The walk is over: the type's index is recorded as the target. */
  | { kind: 'done'; total: number; planned: number };

/**
 * Re-indexes the next batch of `target`'s current versions (after the cursor; at the end, the deferred ones), and
 * records the type as indexed once none is left. Each call is one transaction under the turn lock.
 */
export async function reindexSearchBatch(
  db: Database,
  target: SearchIndexTarget,
  batchSize = REINDEX_BATCH_SIZE,
): Promise<ReindexBatchOutcome> {
  return db.transaction(async (tx) => {
    if (!(await takeTurn(tx))) {
      return { kind: 'busy' };
    }
    const { rows: jobs } = await tx.query<{
      fingerprint: string;
      extraction: number;
      after_vid: number | string;
      deferred_vids: Array<number | string>;
      planned: number | string;
      reindexed: number | string;
    }>(sql`
      SELECT fingerprint, extraction, after_vid, deferred_vids, planned, reindexed FROM search_reindex
       WHERE resource_type = ${target.resourceType} FOR UPDATE`);
    const job = jobs[0];
    if (!job || !sameIndex(job, target)) {
      return { kind: 'gone' };
    }
    const planned = Number(job.planned);
    const before = Number(job.reindexed);
    const afterVid = Number(job.after_vid);
    const deferred = job.deferred_vids.map(Number);
    // The walk: the next current versions in vid order. Once past the last, the versions deferred on the way.
    let candidates = await currentVersions(
      tx,
      sql`rv.resource_type = ${target.resourceType} AND rv.vid > ${afterVid} ORDER BY rv.vid LIMIT ${batchSize}`,
    );
    const walking = candidates.length > 0;
    if (!walking) {
      if (deferred.length === 0) {
        await recordIndexed(tx, target);
        await tx.query(sql`DELETE FROM search_reindex WHERE resource_type = ${target.resourceType}`);
        return { kind: 'done', total: before, planned };
      }
      // Those superseded or deleted since drop out: their successors were indexed when written.
      candidates = await currentVersions(tx, sql`rv.vid = ANY(${deferred.slice(0, batchSize)}::bigint[]) ORDER BY rv.vid`);
    }
    const extracted: Array<{ vid: number; rows: SearchIndexRows }> = [];
    let skipped = 0;
    for (const [i, candidate] of candidates.entries()) {
      if (i > 0 && i % YIELD_EVERY === 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      try {
        extracted.push({ vid: candidate.vid, rows: extractSearchIndex(candidate.content) });
      } catch {
        // Content the current definitions cannot evaluate keeps the rows it was written with rather than none.
        skipped++;
      }
    }
    // A version a writer holds (it is superseding it) is not waited for: it is deferred to the end of the walk.
    const { rows: lockedRows } = await tx.query<{ vid: number | string }>(
      sql`SELECT vid FROM resource_version WHERE vid = ANY(${extracted.map((e) => e.vid)}::bigint[]) FOR KEY SHARE SKIP LOCKED`,
    );
    const locked = new Set(lockedRows.map((r) => Number(r.vid)));
    const writable = extracted.filter((e) => locked.has(e.vid));
    const held = extracted.filter((e) => !locked.has(e.vid)).map((e) => e.vid);
    await replaceSearchRows(tx, writable);
    const stillDeferred = walking ? [...deferred, ...held] : [...deferred.slice(batchSize), ...held];
    const total = before + writable.length;
    await tx.query(sql`
      UPDATE search_reindex SET after_vid = ${walking ? candidates[candidates.length - 1]!.vid : afterVid},
        deferred_vids = ${stillDeferred}::bigint[], reindexed = ${total}, updated_at = now()
       WHERE resource_type = ${target.resourceType}`);
    return {
      kind: 'progress',
      reindexed: writable.length,
      skipped,
      deferred: stillDeferred.length,
      total,
      planned,
      // Only versions still held by their writers are left: nothing moves until they commit.
      waiting: !walking && writable.length === 0 && skipped === 0 && held.length > 0,
    };
  });
}

/** Progress of one type, for the caller's logs: counts and the type's name only. */
export interface ReindexProgress {
  resourceType: string;
  /** Versions re-indexed so far, of `planned` current versions when the re-indexing started. */
  reindexed: number;
  planned: number;
  deferred: number;
  /** Versions the current definitions could not evaluate in this run (they keep their rows). */
  skipped: number;
  done: boolean;
}

export interface ReindexOptions {
  batchSize?: number;
  /** How long to wait while another replica holds the turn. */
  busyRetryMs?: number;
  /** Stops between batches (the cursor keeps the place); the promise then resolves with what was done. */
  signal?: AbortSignal;
  onProgress?: (progress: ReindexProgress) => void;
  /** For tests: the types to consider (default: every supported type). */
  resourceTypes?: readonly string[];
}

export interface ReindexSummary {
  /** Types this call finished (or saw finished by another replica). */
  finished: string[];
  /** Versions this call re-indexed (not those of other replicas). */
  reindexed: number;
  /** Types a newer release indexes: left alone. */
  newer: string[];
  /** False when stopped by the signal before every type was finished. */
  complete: boolean;
}

/**
 * Brings every type's search index to this release's: plans (waiting for its turn), then runs batches until each
 * planned type is done, here or by another replica, or `signal` aborts. Database errors reject; calling again resumes.
 */
export async function reindexSearch(db: Database, options: ReindexOptions = {}): Promise<ReindexSummary> {
  const { batchSize = REINDEX_BATCH_SIZE, busyRetryMs = REINDEX_BUSY_RETRY_MS, signal, onProgress } = options;
  const summary: ReindexSummary = { finished: [], reindexed: 0, newer: [], complete: false };
  let plan: ReindexPlan | 'busy';
  while ((plan = await planSearchReindex(db, options.resourceTypes)) === 'busy') {
    if (!(await pause(busyRetryMs, signal))) {
      return summary;
    }
  }
  summary.newer = plan.newer;
  for (const { target } of plan.work) {
    let skipped = 0;
    for (;;) {
      if (signal?.aborted) {
        return summary;
      }
      const outcome = await reindexSearchBatch(db, target, batchSize);
      if (outcome.kind === 'busy') {
        if (!(await pause(busyRetryMs, signal))) {
          return summary;
        }
        continue;
      }
      if (outcome.kind === 'gone') {
        summary.finished.push(target.resourceType);
        break;
      }
      if (outcome.kind === 'done') {
        onProgress?.({ resourceType: target.resourceType, reindexed: outcome.total, planned: outcome.planned, deferred: 0, skipped, done: true });
        summary.finished.push(target.resourceType);
        break;
      }
      skipped += outcome.skipped;
      summary.reindexed += outcome.reindexed;
      onProgress?.({
        resourceType: target.resourceType,
        reindexed: outcome.total,
        planned: outcome.planned,
        deferred: outcome.deferred,
        skipped,
        done: false,
      });
      // Between batches, whatever else waits for the database or the event loop goes first.
      if (!(await pause(outcome.waiting ? busyRetryMs : 0, signal))) {
        return summary;
      }
    }
  }
  summary.complete = true;
  return summary;
}

function sameIndex(a: { fingerprint: string; extraction: number }, b: SearchIndexTarget): boolean {
  return a.fingerprint === b.fingerprint && a.extraction === b.extraction;
}

async function takeTurn(tx: Transaction): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>(sql`SELECT pg_try_advisory_xact_lock(${REINDEX_LOCK_KEY}) AS locked`);
  return rows[0]?.locked === true;
}

async function recordIndexed(tx: Transaction, target: SearchIndexTarget): Promise<void> {
  await tx.query(sql`
    INSERT INTO search_index_version (resource_type, fingerprint, extraction) VALUES (${target.resourceType}, ${target.fingerprint}, ${target.extraction})
    ON CONFLICT (resource_type) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, extraction = EXCLUDED.extraction, indexed_at = now()`);
}

/** Current, live versions matching `condition` (over `rv`, with its ORDER BY and LIMIT). */
async function currentVersions(tx: Transaction, condition: Sql): Promise<Array<{ vid: number; content: Resource }>> {
  const { rows } = await tx.query<{ vid: number | string; content: Resource }>(
    sql`SELECT rv.vid, rv.content FROM resource_version rv WHERE rv.superseded_xid IS NULL AND NOT rv.deleted AND ${condition}`,
  );
  return rows.map((r) => ({ vid: Number(r.vid), content: r.content }));
}

/**
 * Replaces the search rows of each version with `rows`: one DELETE and one INSERT per table for the whole batch (the
 * columns of search-index.ts's searchIndexInserts, with the vid per row).
 */
async function replaceSearchRows(tx: Transaction, versions: Array<{ vid: number; rows: SearchIndexRows }>): Promise<void> {
  if (versions.length === 0) {
    return;
  }
  const vids = versions.map((v) => v.vid);
  for (const table of SEARCH_TABLES) {
    await tx.query(sql`DELETE FROM ${raw(table)} WHERE vid = ANY(${vids}::bigint[])`);
  }
  const strings = versions.flatMap((v) => v.rows.strings.map((row) => ({ vid: v.vid, ...row })));
  if (strings.length > 0) {
    await tx.query(sql`INSERT INTO search_string (vid, code, value, norm)
      SELECT * FROM unnest(${strings.map((r) => r.vid)}::bigint[], ${strings.map((r) => r.code)}::text[],
        ${strings.map((r) => r.value)}::text[], ${strings.map((r) => r.norm)}::text[])`);
  }
  const tokens = versions.flatMap((v) => v.rows.tokens.map((row) => ({ vid: v.vid, ...row })));
  if (tokens.length > 0) {
    await tx.query(sql`INSERT INTO search_token (vid, code, system, value)
      SELECT * FROM unnest(${tokens.map((r) => r.vid)}::bigint[], ${tokens.map((r) => r.code)}::text[],
        ${tokens.map((r) => r.system)}::text[], ${tokens.map((r) => r.value)}::text[])`);
  }
  const references = versions.flatMap((v) => v.rows.references.map((row) => ({ vid: v.vid, ...row })));
  if (references.length > 0) {
    await tx.query(sql`INSERT INTO search_reference (vid, code, reference, target_type, target_id)
      SELECT * FROM unnest(${references.map((r) => r.vid)}::bigint[], ${references.map((r) => r.code)}::text[],
        ${references.map((r) => r.reference)}::text[], ${references.map((r) => r.targetType)}::text[],
        ${references.map((r) => r.targetId)}::text[])`);
  }
  const dates = versions.flatMap((v) => v.rows.dates.map((row) => ({ vid: v.vid, ...row })));
  if (dates.length > 0) {
    await tx.query(sql`INSERT INTO search_date (vid, code, low, high)
      SELECT * FROM unnest(${dates.map((r) => r.vid)}::bigint[], ${dates.map((r) => r.code)}::text[],
        ${dates.map((r) => timestamptz(r.low))}::timestamptz[], ${dates.map((r) => timestamptz(r.high))}::timestamptz[])`);
  }
  const numbers = versions.flatMap((v) => v.rows.numbers.map((row) => ({ vid: v.vid, ...row })));
  if (numbers.length > 0) {
    await tx.query(sql`INSERT INTO search_number (vid, code, value)
      SELECT * FROM unnest(${numbers.map((r) => r.vid)}::bigint[], ${numbers.map((r) => r.code)}::text[],
        ${numbers.map((r) => r.value)}::numeric[])`);
  }
  const uris = versions.flatMap((v) => v.rows.uris.map((row) => ({ vid: v.vid, ...row })));
  if (uris.length > 0) {
    await tx.query(sql`INSERT INTO search_uri (vid, code, value)
      SELECT * FROM unnest(${uris.map((r) => r.vid)}::bigint[], ${uris.map((r) => r.code)}::text[], ${uris.map((r) => r.value)}::text[])`);
  }
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) {
    return false;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
  return !signal?.aborted;
}
