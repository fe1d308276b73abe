import { randomUUID } from 'node:crypto';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import {
  disableAuthUser,
  enableAuthUser,
  findAuthUser,
  findAuthUserCredentials,
  insertAuthUser,
  listAuthUsers,
  setAuthUserPassword,
} from './auth-users';

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('auth_user rows on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test('a user is stored once per username, read back without its hash, and with it only for a sign-in', async () => {
    const id = randomUUID();
    const user = await insertAuthUser(store.db, {
      id,
      username: 'dana',
      passwordHash: 'scrypt$hash-1',
      fhirUser: 'Practitioner/dana',
      organization: 'Organization/clinic',
    });
    expect(user).toMatchObject({ id, username: 'dana', fhirUser: 'Practitioner/dana', organization: 'Organization/clinic', disabledAt: undefined });
    expect(user).not.toHaveProperty('passwordHash');
    expect(await insertAuthUser(store.db, { id: randomUUID(), username: 'dana', passwordHash: 'x', fhirUser: 'Patient/p' })).toBeUndefined();

    expect(await findAuthUser(store.db, id)).toEqual(user);
    expect(await findAuthUser(store.db, 'no-such-user')).toBeUndefined();
    expect((await listAuthUsers(store.db)).map((u) => u.id)).toContain(id);
    expect(await findAuthUserCredentials(store.db, 'dana')).toEqual({ user, passwordHash: 'scrypt$hash-1' });
    expect(await findAuthUserCredentials(store.db, 'nobody')).toBeUndefined();
  });

  test('a client (Patient) login is stored without an organization', async () => {
    const user = await insertAuthUser(store.db, { id: randomUUID(), username: 'alex', passwordHash: 'h', fhirUser: 'Patient/alex' });
    expect(user?.organization).toBeUndefined();
  });

  test('disabling, enabling and a new password change the row; unknown ids answer undefined', async () => {
    const id = randomUUID();
    await insertAuthUser(store.db, { id, username: `u-${id}`, passwordHash: 'old', fhirUser: 'Patient/u' });
    const disabled = await disableAuthUser(store.db, id);
    expect(disabled?.disabledAt).toBeInstanceOf(Date);
    expect((await disableAuthUser(store.db, id))?.disabledAt).toEqual(disabled?.disabledAt);
    expect((await enableAuthUser(store.db, id))?.disabledAt).toBeUndefined();
    await setAuthUserPassword(store.db, id, 'new');
    expect((await findAuthUserCredentials(store.db, `u-${id}`))?.passwordHash).toBe('new');
    expect(await disableAuthUser(store.db, 'no-such-user')).toBeUndefined();
    expect(await enableAuthUser(store.db, 'no-such-user')).toBeUndefined();
    expect(await setAuthUserPassword(store.db, 'no-such-user', 'x')).toBeUndefined();
  });
});
