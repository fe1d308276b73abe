import { randomUUID } from 'node:crypto';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import {
  deleteExpiredSigningKeys,
  hasActiveSigningKey,
  insertSigningKey,
  listVerifyingSigningKeys,
  lockSigningKeys,
  retireActiveSigningKey,
} from './auth-signing-keys';

function key(alg: string): { kid: string; alg: string; privateKeyPem: string; publicJwk: { kty: string; kid: string } } {
  const kid = randomUUID();
  return { kid, alg, privateKeyPem: `pem-${kid}`, publicJwk: { kty: 'RSA', kid } };
}

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('auth_signing_key rows on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test('one key is active; a retired key verifies within its retention and is deleted after it', async () => {
    const first = key('ES384');
    await store.db.transaction(async (tx) => {
      await lockSigningKeys(tx);
      expect(await hasActiveSigningKey(tx, 'RS384')).toBe(false);
      await insertSigningKey(tx, first);
    });
    expect(await hasActiveSigningKey(store.db, 'ES384')).toBe(true);
    expect(await hasActiveSigningKey(store.db, 'RS384')).toBe(false);

    const second = key('RS384');
    await retireActiveSigningKey(store.db);
    await insertSigningKey(store.db, second);
    const keys = await listVerifyingSigningKeys(store.db, 3600);
    expect(keys.map((k) => k.kid)).toEqual([second.kid, first.kid]);
    expect(keys[0]).toEqual({ ...second, retiredAt: undefined });
    expect(keys[1]?.retiredAt).toBeInstanceOf(Date);

    // With no retention, the retired key no longer verifies, and is deleted.
    expect((await listVerifyingSigningKeys(store.db, 0)).map((k) => k.kid)).toEqual([second.kid]);
    await deleteExpiredSigningKeys(store.db, 0);
    expect((await listVerifyingSigningKeys(store.db, 3600)).map((k) => k.kid)).toEqual([second.kid]);
  });
});
