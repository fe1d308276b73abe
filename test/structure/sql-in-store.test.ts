/**
 * All SQL lives in packages/store (issue 16): a production file outside store that writes an `sql` template, builds a
 * `raw(...)` fragment or imports `pg` fails this test (and npm run lint refuses `pg` and store's `sql`, `raw` and
 * `join` outside store). There is no allowlist: the last files carrying SQL outside store moved theirs into store's
 * table modules.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { containsSql, filesWithSqlOutsideStore, isScannedPath, scannedSources, unlistedSqlFiles } from '../support/sql-outside-store';

const ROOT = join(__dirname, '..', '..');

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

  it("reads the tree's production sources, and store's SQL is what it finds", () => {
    const paths = [...scannedSources(ROOT)].map((file) => file.path);
    expect(paths.length).toBeGreaterThan(200);
    expect(paths).toEqual(expect.arrayContaining(['packages/consent/src/consent-policy.ts', 'packages/access/src/caller-repository.ts', 'services/api/src/server.ts']));
    // The SQL the policies compose is written in store, where the scanner would find it were it anywhere else.
    const store = ['packages/store/src/tables/consent-grants.ts', 'packages/store/src/tables/consent-disclosure.ts', 'packages/store/src/database.ts'];
    for (const path of store) {
      expect(containsSql(readFileSync(join(ROOT, path), 'utf8'))).toBe(true);
    }
  });
});

describe('SQL outside packages/store', () => {
  it('appears nowhere', () => {
    expect(filesWithSqlOutsideStore(ROOT)).toEqual([]);
  });

  it('fails for any file outside store that writes SQL or imports pg', () => {
    const files = [
      { path: 'packages/consent/src/new-table.ts', source: "export const q = sql`DELETE FROM consent_grant WHERE consent_id = ${id}`;" },
      { path: 'packages/consent/src/consent-policy.ts', source: 'const grant = sql`EXISTS (SELECT 1 FROM consent_grant g)`;' },
      { path: 'packages/consent/src/new-table.test.ts', source: 'await db.query(sql`SELECT 1`);' },
      { path: 'packages/store/src/tables/new-table.ts', source: 'await db.query(sql`SELECT 1`);' },
      { path: 'services/worker/src/new-job.ts', source: "import { Pool } from 'pg';" },
    ];
    expect(unlistedSqlFiles(files, new Set())).toEqual([
      'packages/consent/src/consent-policy.ts',
      'packages/consent/src/new-table.ts',
      'services/worker/src/new-job.ts',
    ]);
  });

  it('is found in a tree where a production file outside store writes it', () => {
    const root = mkdtempSync(join(tmpdir(), 'sql-in-store-'));
    try {
      const write = (path: string, source: string): void => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), source);
      };
      write('packages/consent/src/consent-policy.ts', "import { grantInForce } from '@carecircle/store';\nexport const c = grantInForce;");
      write('packages/consent/src/disclosure-audit.ts', 'export const q = sql`SELECT rv.id FROM resource_version rv`;');
      write('packages/store/src/tables/consent-grants.ts', 'export const q = sql`SELECT 1 FROM consent_grant`;');
      write('services/worker/src/testing/fake.ts', "import { Pool } from 'pg';");
      expect(filesWithSqlOutsideStore(root)).toEqual(['packages/consent/src/disclosure-audit.ts']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
