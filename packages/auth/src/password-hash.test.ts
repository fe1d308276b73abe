import { hashPassword, UNKNOWN_USER_PASSWORD_HASH, verifyPassword } from './password-hash';

describe('password hashing (scrypt)', () => {
  test('verifies the right password and rejects others', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
  });

  test('salts each hash', async () => {
    expect(await hashPassword('same password here')).not.toBe(await hashPassword('same password here'));
  });

  test.each(['', 'plain', 'scrypt$1$1$1$$', 'scrypt$999999999$8$1$AAAA$AAAA', 'bcrypt$2$3$4$5$6'])(
    'treats malformed stored value %j as no match',
    async (stored) => {
      expect(await verifyPassword('whatever password', stored)).toBe(false);
    },
  );

  test('the unknown-user hash is a well-formed hash that nothing matches', async () => {
    expect(await verifyPassword('', UNKNOWN_USER_PASSWORD_HASH)).toBe(false);
  });
});
