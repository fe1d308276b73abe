/**
 * Test plumbing for the care suites (never imported by production code): a fresh migrated PostgreSQL database per
 * suite with a full-access repository that runs the care write rules, and a way to act as a given caller. What a
 * refused call answers with is read with @carecircle/testing's refusalOf and rejectionStatus.
 */
import type { Resource } from '@medplum/fhirtypes';
import { runWithRequestContext, SERVER_WRITER, type Caller, type Writer } from '@carecircle/auth';
import {
  computePatientCompartments,
  createRepository,
  fullAccess,
  migrate,
  openDatabase,
  sql,
  withWriteRules,
  type Database,
  type Repository,
} from '@carecircle/store';
import { createTestDatabase } from '@carecircle/testing';
import { checkConsultNote } from '../consult-note-rule';
import { enforceTaskWorkflow } from '../task-workflow-rule';
import { checkBusinessHours } from '../business-hours';

export interface CareTestEnv {
  db: Database;
  /** Full access (the access policy is not under test here), with the care write rules, written by the server. */
  repository: Repository;
  /** Runs `fn` with the same repository written by `caller` (the writer the write rules judge), in its request context. */
  as<T>(caller: Caller, fn: (repository: Repository) => Promise<T>): Promise<T>;
  /** Number of stored versions (deletions included) of `resourceType`. */
  countVersions(resourceType: string): Promise<number>;
  /** Stores `resource` as its next version straight in SQL, bypassing the rules: puts a Task in any status. */
  putVersion(resource: Resource & { id: string }): Promise<void>;
  close(): Promise<void>;
}

/** Opens a migrated database of the suite's own and the repository over it. */
export async function openCareTestEnv(): Promise<CareTestEnv> {
  const testDb = await createTestDatabase();
  const db = await openDatabase({ databaseUrl: testDb.url, maxConnections: 5 });
  await migrate(db);
  const repositoryFor = (writer: Writer) => createRepository(db, fullAccess, { writes: withWriteRules([enforceTaskWorkflow, checkConsultNote, checkBusinessHours], writer) });
  const repository = repositoryFor(SERVER_WRITER);
  let requests = 0;
  return {
    db,
    repository,
    as: (caller, fn) => {
      const own = repositoryFor({ caller, policy: fullAccess });
      return runWithRequestContext({ requestId: `test-${++requests}`, caller, repository: own }, () => fn(own));
    },
    async countVersions(resourceType) {
      const { rows } = await db.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM resource_version WHERE resource_type = ${resourceType}`);
      return rows[0]?.n ?? 0;
    },
    async putVersion(resource) {
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ v: number }>(sql`
          UPDATE resource_version SET superseded_xid = pg_current_xact_id()
          WHERE resource_type = ${resource.resourceType} AND id = ${resource.id} AND superseded_xid IS NULL
          RETURNING version_id AS v`);
        const versionId = (rows[0]?.v ?? 0) + 1;
        const content = { ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated: new Date().toISOString() } };
        await tx.query(sql`
          INSERT INTO resource_version (resource_type, id, version_id, last_updated, content, compartments)
          VALUES (${resource.resourceType}, ${resource.id}, ${versionId}, now(), ${JSON.stringify(content)}::jsonb,
                  ${computePatientCompartments(resource)}::text[])`);
      });
    },
    async close() {
      await db.close();
      await testDb.drop();
    },
  };
}
