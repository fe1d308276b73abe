import { createHash, randomUUID } from 'node:crypto';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import { disableAuthClient, enableAuthClient, insertAuthClient } from './auth-clients';
import {
  areTokenHoldersEnabled,
  findRefreshTokenFamily,
  findRefreshTokenForUpdate,
  insertRefreshToken,
  listLiveRefreshSessions,
  markRefreshTokenUsed,
  recordAppSessionsEnded,
  recordSessionRevocation,
  revokeClientRefreshTokens,
  revokeFamilyRefreshTokens,
  revokeUserRefreshTokens,
} from './auth-sessions';
import { disableAuthUser, insertAuthUser, setAuthUserPassword } from './auth-users';

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('sign-in sessions on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  /** A fresh enabled app and user of it. */
  async function appAndUser(): Promise<{ clientId: string; userId: string }> {
    const clientId = randomUUID();
    const userId = randomUUID();
    await insertAuthClient(store.db, { id: clientId, kind: 'public', name: 'App', redirectUris: ['https://a.example/cb'], scope: 'patient/*.rs' });
    await insertAuthUser(store.db, { id: userId, username: `u-${userId}`, passwordHash: 'h', fhirUser: `Patient/${userId}` });
    return { clientId, userId };
  }

  async function storeToken(holder: { clientId: string; userId: string }, familyId: string, token: string, purposes?: string[]): Promise<void> {
    await insertRefreshToken(store.db, {
      tokenHash: hashOf(token),
      familyId,
      ...holder,
      scope: 'patient/*.rs offline_access',
      purposes,
      expiresAt: new Date('2099-01-01T00:00:00Z'),
    });
  }

  test('a refresh token is found by its hash with its session, purposes and state, and marked used', async () => {
    const holder = await appAndUser();
    const familyId = randomUUID();
    await storeToken(holder, familyId, 'token-a', ['TREAT']);
    const found = await store.db.transaction((tx) => findRefreshTokenForUpdate(tx, hashOf('token-a')));
    expect(found).toEqual({
      familyId,
      ...holder,
      scope: 'patient/*.rs offline_access',
      purposes: ['TREAT'],
      expiresAt: new Date('2099-01-01T00:00:00Z'),
      usedAt: undefined,
      revokedAt: undefined,
      holdersEnabled: true,
    });
    await markRefreshTokenUsed(store.db, hashOf('token-a'));
    expect((await findRefreshTokenForUpdate(store.db, hashOf('token-a')))?.usedAt).toBeInstanceOf(Date);
    expect(await findRefreshTokenForUpdate(store.db, hashOf('never-issued'))).toBeUndefined();
    expect(await findRefreshTokenFamily(store.db, hashOf('token-a'), holder.clientId)).toEqual({ familyId, userId: holder.userId });
    expect(await findRefreshTokenFamily(store.db, hashOf('token-a'), 'another-client')).toBeUndefined();
  });

  test('a token of a session naming no purposes reads back with none; a disabled holder shows', async () => {
    const holder = await appAndUser();
    await storeToken(holder, randomUUID(), 'token-b');
    await disableAuthUser(store.db, holder.userId);
    expect(await findRefreshTokenForUpdate(store.db, hashOf('token-b'))).toMatchObject({ purposes: undefined, holdersEnabled: false });
  });

  test('revoking by family, client or user reaches only those tokens, and revoked sessions are no longer live', async () => {
    const holder = await appAndUser();
    const [one, two] = [randomUUID(), randomUUID()];
    await storeToken(holder, one, `t1-${one}`);
    await storeToken(holder, two, `t2-${two}`);
    expect((await listLiveRefreshSessions(store.db, holder.userId, holder.clientId)).sort()).toEqual([one, two].sort());
    await revokeFamilyRefreshTokens(store.db, one);
    expect(await listLiveRefreshSessions(store.db, holder.userId, holder.clientId)).toEqual([two]);
    await revokeClientRefreshTokens(store.db, holder.clientId);
    expect(await listLiveRefreshSessions(store.db, holder.userId, holder.clientId)).toEqual([]);

    const other = await appAndUser();
    await storeToken(other, randomUUID(), `t3-${one}`);
    await revokeUserRefreshTokens(store.db, other.userId);
    expect((await findRefreshTokenForUpdate(store.db, hashOf(`t3-${one}`)))?.revokedAt).toBeInstanceOf(Date);
  });

  test('a token holder is enabled until disabled, re-enabled after the token, its session revoked or its app sessions ended', async () => {
    const holder = await appAndUser();
    const now = Math.floor(Date.now() / 1000);
    const before = now - 60;
    const sessionId = randomUUID();
    const token = { ...holder, issuedAt: before, sessionId };
    expect(await areTokenHoldersEnabled(store.db, token)).toBe(true);
    expect(await areTokenHoldersEnabled(store.db, { clientId: 'no-such-client' })).toBe(false);

    await recordSessionRevocation(store.db, sessionId, 60);
    await recordSessionRevocation(store.db, sessionId, 60); // idempotent
    expect(await areTokenHoldersEnabled(store.db, token)).toBe(false);
    expect(await areTokenHoldersEnabled(store.db, { ...token, sessionId: randomUUID() })).toBe(true);

    await recordAppSessionsEnded(store.db, holder.userId, holder.clientId);
    expect(await areTokenHoldersEnabled(store.db, { ...holder, issuedAt: before })).toBe(false);
    expect(await areTokenHoldersEnabled(store.db, { ...holder, issuedAt: now + 60 })).toBe(true);
    expect(await areTokenHoldersEnabled(store.db, { ...holder })).toBe(true);

    await setAuthUserPassword(store.db, holder.userId, 'new');
    expect(await areTokenHoldersEnabled(store.db, { ...holder, issuedAt: now + 60 })).toBe(true);

    await disableAuthClient(store.db, holder.clientId);
    expect(await areTokenHoldersEnabled(store.db, { clientId: holder.clientId })).toBe(false);
    await enableAuthClient(store.db, holder.clientId);
    expect(await areTokenHoldersEnabled(store.db, { clientId: holder.clientId })).toBe(true);
    expect(await areTokenHoldersEnabled(store.db, { clientId: holder.clientId, issuedAt: before })).toBe(false);
  });

  test('a revocation is kept for its time, and past ones are deleted as new ones are written', async () => {
    const expired = randomUUID();
    await recordSessionRevocation(store.db, expired, -1);
    await recordSessionRevocation(store.db, randomUUID(), 60);
    const holder = await appAndUser();
    expect(await areTokenHoldersEnabled(store.db, { ...holder, sessionId: expired })).toBe(true);
  });
});
