import { createRepository, fullAccess, migrate, openDatabase, sql, withWriteRules, type Database, type Repository } from '@carecircle/store';
import { createTestDatabase, rejectionStatus, type TestDatabase } from '@carecircle/testing';
import type { Subscription } from '@medplum/fhirtypes';
import { buildBackportSubscription } from './subscription-builders';
import { createExtractSubscriptionSecret } from './subscription-write-rule';

const SECRET = 'a-subscriber-secret-of-forty-characters!';
let database: TestDatabase;
let db: Database;
let repo: Repository;

beforeAll(async () => {
  database = await createTestDatabase();
  db = await openDatabase({ databaseUrl: database.url });
  await migrate(db);
  repo = createRepository(db, fullAccess, { writes: withWriteRules([createExtractSubscriptionSecret()], undefined) });
});

afterAll(async () => {
  await db.close();
  await database.drop();
});

const subscription = (secret?: string) =>
  buildBackportSubscription({
    topic: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
    endpoint: 'https://partner.example/hook',
    ...(secret ? { secret } : {}),
  });

test('the secret goes to the side table, never into the resource, its history or searches', async () => {
  const { resource } = await repo.create({ ...subscription(SECRET), status: 'active' as const });
  expect(resource.status).toBe('requested');
  expect(JSON.stringify(resource)).not.toContain(SECRET);
  const stored = await repo.read('Subscription', resource.id ?? '');
  expect(JSON.stringify(stored)).not.toContain(SECRET);
  const { rows } = await db.query<{ secret: string }>(sql`SELECT secret FROM subscription_secret WHERE subscription_id = ${resource.id}`);
  expect(rows[0]?.secret).toBe(SECRET);
  const { rows: versions } = await db.query(sql`SELECT 1 FROM resource_version WHERE content::text LIKE ${`%${SECRET}%`}`);
  expect(versions).toHaveLength(0);
});

test('a subscription without a secret is refused with 422 (never sent unsigned); a short secret is a 400', async () => {
  expect(await rejectionStatus(repo.create(subscription()))).toBe(422);
  expect(await rejectionStatus(repo.create(subscription('short')))).toBe(400);
});

test('an update may omit the secret (kept) or replace it; clients may not set active', async () => {
  const { resource } = await repo.create(subscription(SECRET));
  const { resource: updated } = await repo.update<Subscription>({ ...resource, reason: 'changed' });
  expect(updated.status).toBe('requested');
  const rotated = `${SECRET}-rotated`;
  await repo.update<Subscription>({ ...updated, extension: subscription(rotated).extension });
  const { rows } = await db.query<{ secret: string }>(sql`SELECT secret FROM subscription_secret WHERE subscription_id = ${updated.id}`);
  expect(rows[0]?.secret).toBe(rotated);
  const current = await repo.read<Subscription>('Subscription', updated.id ?? '');
  const { resource: off } = await repo.update<Subscription>({ ...current, status: 'off' });
  expect(off.status).toBe('off');
  expect(await rejectionStatus(repo.update<Subscription>({ ...off, status: 'active' }))).toBe(422);
});

test('a bad endpoint is refused before anything is stored', async () => {
  const bad = { ...subscription(SECRET), channel: { ...subscription(SECRET).channel, endpoint: 'http://partner.example/hook' } };
  expect(await rejectionStatus(repo.create(bad))).toBe(422);
});

test('a deleted subscription brought back is requested again, even as it was when active', async () => {
  const { resource } = await repo.create(subscription(SECRET));
  // The worker's handshake had made it active.
  await db.query(sql`UPDATE resource_version SET content = jsonb_set(content, '{status}', '"active"')
    WHERE resource_type = 'Subscription' AND id = ${resource.id} AND superseded_xid IS NULL`);
  const active = await repo.read<Subscription>('Subscription', resource.id ?? '');
  expect(active.status).toBe('active');
  await repo.delete('Subscription', resource.id ?? '');
  const { resource: back, outcome } = await repo.update<Subscription>({ ...active, extension: subscription(SECRET).extension });
  expect(outcome).toBe('created');
  expect(back.status).toBe('requested');
});
