/**
 * All SQL lives in packages/store (issue 16): a production file outside store that writes an `sql` template, builds a
 * `raw(...)` fragment or imports `pg` fails this test unless it is on the allowlist in /sql-outside-store.json (which npm run lint reads too).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containsSql, filesWithSqlOutsideStore, isScannedPath, unlistedSqlFiles } from '../support/sql-outside-store';

const ROOT = join(__dirname, '..', '..');

/** The files still carrying SQL outside store (access predicates); the list only shrinks, see its $comment. */
const STILL_CARRYING_SQL: ReadonlySet<string> = new Set(
  (JSON.parse(readFileSync(join(ROOT, 'sql-outside-store.json'), 'utf8')) as { files: string[] }).files,
);

describe('the scanner', () => {
  it('finds an sql template, a raw fragment and the pg driver', () => {
    expect(containsSql("const { rows } = await db.query(sql`SELECT 1 FROM consent_grant WHERE id = ${id}`);")).toBe(true);
    expect(containsSql("const column = raw('rv');")).toBe(true);
    expect(containsSql("import { Pool } from 'pg';")).toBe(true);
    expect(containsSql('import type { PoolClient } from "pg";')).toBe(true);
    expect(containsSql("const pg = require('pg');")).toBe(true);
  });

  it('passes code that only calls store functions', () => {
    expect(containsSql("import { replaceConsentGrants, type Sql } from '@carecircle/store';\nawait replaceConsentGrants(tx, id, 2, rows);")).toBe(false);
    expect(containsSql("const text = String.raw`a\\b`; readRaw(x); obj.raw(y); import x from 'pgx';")).toBe(false);
  });

  it('scans production sources outside store only', () => {
    expect(isScannedPath('packages/consent/src/new-table.ts')).toBe(true);
    expect(isScannedPath('services/portal/src/pages/home.tsx')).toBe(true);
    expect(isScannedPath('packages/store/src/tables/consent-grants.ts')).toBe(false);
    expect(isScannedPath('packages/consent/src/new-table.test.ts')).toBe(false);
    expect(isScannedPath('packages/consent/src/new-table.int.test.ts')).toBe(false);
    expect(isScannedPath('packages/care/src/testing/care-test-env.ts')).toBe(false);
    expect(isScannedPath('packages/testing/src/test-database.ts')).toBe(false);
  });
});

describe('SQL outside packages/store', () => {
  it('appears only in the files still carrying access predicates', () => {
    const outside = filesWithSqlOutsideStore(ROOT);
    expect(outside.length).toBeGreaterThan(0); // the scanner sees the tree (the list is not empty yet)
    expect(outside.filter((path) => !STILL_CARRYING_SQL.has(path))).toEqual([]);
  });

  it('fails for a new file outside store that writes SQL', () => {
    const files = [
      { path: 'packages/consent/src/new-table.ts', source: "export const q = sql`DELETE FROM consent_grant WHERE consent_id = ${id}`;" },
      { path: 'packages/consent/src/consent-policy.ts', source: 'const grant = sql`EXISTS (SELECT 1 FROM consent_grant g)`;' },
      { path: 'packages/consent/src/new-table.test.ts', source: 'await db.query(sql`SELECT 1`);' },
      { path: 'packages/store/src/tables/new-table.ts', source: 'await db.query(sql`SELECT 1`);' },
      { path: 'services/worker/src/new-job.ts', source: "import { Pool } from 'pg';" },
    ];
    expect(unlistedSqlFiles(files, STILL_CARRYING_SQL)).toEqual(['packages/consent/src/new-table.ts', 'services/worker/src/new-job.ts']);
  });
});
