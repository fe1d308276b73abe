/**
 * CareCircle as its users start it: a real process, real PostgreSQL or embedded PGlite, real Redis, real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPatient } from '@carecircle/testing';
import { createTestDatabase } from '@carecircle/testing';
import { startCareCircle, waitForExit } from '../support/process';

const adminToken = randomBytes(32).toString('hex');
const headers = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/fhir+json' };

async function createAndFindPatient(baseUrl: string, family: string): Promise<string> {
  const created = await fetch(`${baseUrl}/fhir/R4/Patient`, { method: 'POST', headers, body: JSON.stringify(buildPatient({ name: [{ family }] })) });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const found = await fetch(`${baseUrl}/fhir/R4/Patient?family=${family}`, { headers });
  const bundle = (await found.json()) as { total: number; entry: { resource: { id: string } }[] };
  expect(bundle.total).toBe(1);
  expect(bundle.entry[0]?.resource.id).toBe(id);
  return id;
}

describe('the process', () => {
  test('starts on PostgreSQL, serves FHIR, reports ready, and exits 0 on SIGTERM', async () => {
    const database = await createTestDatabase();
    const app = await startCareCircle({ DATABASE_URL: database.url, ADMIN_TOKEN: adminToken });
    try {
      expect(app.output()).toContain('/fhir/R4');
      const ready = await fetch(`${app.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      await createAndFindPatient(app.baseUrl, 'Lifecycle');
    } finally {
      expect(await app.stop()).toBe(0);
      await database.drop();
    }
  });

  test('runs on embedded PGlite when DATABASE_URL is unset, and keeps data across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'carecircle-pglite-'));
    try {
      const first = await startCareCircle({ DATA_DIR: dataDir, ADMIN_TOKEN: adminToken });
      expect(first.output()).toContain('PGlite');
      const id = await createAndFindPatient(first.baseUrl, 'Embedded');
      expect(await first.stop()).toBe(0);

      const second = await startCareCircle({ DATA_DIR: dataDir, ADMIN_TOKEN: adminToken });
      const read = await fetch(`${second.baseUrl}/fhir/R4/Patient/${id}`, { headers });
      expect(read.status).toBe(200);
      expect(await second.stop()).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('ROLE=worker runs the worker alone and exits 0 on SIGTERM', async () => {
    const database = await createTestDatabase();
    const worker = await startCareCircle({ DATABASE_URL: database.url, ADMIN_TOKEN: adminToken, ROLE: 'worker' });
    try {
      expect(worker.output()).toContain('CareCircle worker is running');
    } finally {
      expect(await worker.stop()).toBe(0);
      await database.drop();
    }
  });

  test('prints the generated admin token in development', async () => {
    const database = await createTestDatabase();
    const app = await startCareCircle({ DATABASE_URL: database.url, NODE_ENV: 'development' });
    try {
      expect(app.output()).toMatch(/Admin token: \S{32,}/);
    } finally {
      await app.stop();
      await database.drop();
    }
  });

  test('exits with a message saying how to start Redis when Redis does not answer', async () => {
    const app = await startCareCircle({ REDIS_URL: 'redis://127.0.0.1:1', ADMIN_TOKEN: adminToken, DATA_DIR: mkdtempSync(join(tmpdir(), 'cc-')) });
    expect(await waitForExit(app)).toBe(1);
    expect(app.output()).toMatch(/Cannot reach Redis.*redis-server/);
  });

  test('exits with a message naming the variable when configuration is invalid', async () => {
    const app = await startCareCircle({ DATABASE_URL: 'mysql://nope', ADMIN_TOKEN: adminToken });
    expect(await waitForExit(app)).toBe(1);
    expect(app.output()).toContain('DATABASE_URL');
  });
});
