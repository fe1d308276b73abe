import { randomUUID } from 'node:crypto';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import {
  disableAuthClient,
  enableAuthClient,
  findAuthClient,
  findAuthClientForUpdate,
  insertAuthClient,
  listAuthClients,
  updateAuthClient,
} from './auth-clients';

const jwks = { keys: [{ kty: 'EC', kid: 'k1', crv: 'P-384', x: 'x', y: 'y' }] };

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('auth_client rows on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test('a system client, a public app and a confidential app are stored and read back in camelCase', async () => {
    const systemId = randomUUID();
    const system = await insertAuthClient(store.db, {
      id: systemId,
      kind: 'system',
      name: 'Partner EHR',
      organization: 'Organization/partner',
      jwks,
      redirectUris: [],
      scope: 'system/Patient.rs',
    });
    expect(system).toMatchObject({
      id: systemId,
      kind: 'system',
      organization: 'Organization/partner',
      jwks,
      jwksUri: undefined,
      redirectUris: [],
      disabledAt: undefined,
    });
    expect(system.createdAt).toBeInstanceOf(Date);

    const publicApp = await insertAuthClient(store.db, {
      id: randomUUID(),
      kind: 'public',
      name: 'Phone app',
      redirectUris: ['https://app.example/cb'],
      scope: 'patient/*.rs',
    });
    expect(publicApp).toMatchObject({ kind: 'public', organization: undefined, jwks: undefined, redirectUris: ['https://app.example/cb'] });

    const confidential = await insertAuthClient(store.db, {
      id: randomUUID(),
      kind: 'confidential',
      name: 'Portal',
      redirectUris: ['https://portal.example/cb'],
      jwksUri: 'https://portal.example/jwks.json',
      scope: 'user/*.rs',
    });
    expect(confidential).toMatchObject({ kind: 'confidential', jwksUri: 'https://portal.example/jwks.json', jwks: undefined });

    expect(await findAuthClient(store.db, systemId)).toEqual(system);
    expect(await findAuthClient(store.db, 'no-such-client')).toBeUndefined();
    const listed = await listAuthClients(store.db);
    expect(listed.map((c) => c.id)).toEqual(expect.arrayContaining([systemId, publicApp.id, confidential.id]));
  });

  test('an update replaces name, scope, URIs and keys and keeps kind and organization; unknown ids answer undefined', async () => {
    const id = randomUUID();
    await insertAuthClient(store.db, {
      id,
      kind: 'system',
      name: 'Before',
      organization: 'Organization/o',
      jwks,
      redirectUris: [],
      scope: 'system/Patient.rs',
    });
    const after = await store.db.transaction(async (tx) => {
      const locked = await findAuthClientForUpdate(tx, id);
      expect(locked?.name).toBe('Before');
      return updateAuthClient(tx, id, { name: 'After', scope: 'system/Patient.r', redirectUris: [], jwksUri: 'https://o.example/jwks' });
    });
    expect(after).toMatchObject({
      kind: 'system',
      organization: 'Organization/o',
      name: 'After',
      scope: 'system/Patient.r',
      jwks: undefined,
      jwksUri: 'https://o.example/jwks',
    });
    expect(await updateAuthClient(store.db, 'no-such-client', { name: 'x', scope: 'x', redirectUris: [] })).toBeUndefined();
  });

  test('disabling keeps the first time; enabling clears it; unknown ids answer undefined', async () => {
    const id = randomUUID();
    await insertAuthClient(store.db, { id, kind: 'public', name: 'App', redirectUris: ['https://a.example/cb'], scope: 'patient/*.rs' });
    const first = await disableAuthClient(store.db, id);
    expect(first?.disabledAt).toBeInstanceOf(Date);
    const again = await disableAuthClient(store.db, id);
    expect(again?.disabledAt).toEqual(first?.disabledAt);
    expect((await enableAuthClient(store.db, id))?.disabledAt).toBeUndefined();
    expect(await disableAuthClient(store.db, 'no-such-client')).toBeUndefined();
    expect(await enableAuthClient(store.db, 'no-such-client')).toBeUndefined();
  });
});
