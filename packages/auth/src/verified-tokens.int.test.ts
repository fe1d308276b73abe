/**
 * The process's memory of verified access tokens (verified-tokens.ts) never outlives what made the token valid: a
 * remembered token still expires on the clock, and is refused once the key that verified it is withdrawn (deleted
 * after its retention), on the next verification after the key ring reloads.
 */
import { deleteExpiredSigningKeys } from '@carecircle/store';
import { issueAccessToken, verifyAccessToken, AccessTokenRejected, type AccessTokenSubject } from './access-token';
import { signingKeysFor } from './auth-deps';
import { rotateSigningKey } from './key-rotation';
import { openAuthTestEnv, type AuthTestEnv } from './testing/auth-test-env';
import { CLOCK_SKEW_SECONDS } from './token-lifetimes';

const subject: AccessTokenSubject = { sub: 'system-1', client_id: 'system-1', scope: 'system/Patient.rs', organization: 'Organization/o' };

let env: AuthTestEnv;
beforeAll(async () => {
  env = await openAuthTestEnv();
});
afterAll(async () => {
  await env.close();
});

test('a remembered token is refused once the clock passes its expiry and the skew', async () => {
  const issuedAt = Date.now();
  let now = issuedAt;
  const clocked = { ...env, clock: () => now };
  const { accessToken } = await issueAccessToken(clocked, subject, 60);
  await expect(verifyAccessToken(clocked, accessToken)).resolves.toMatchObject({ sub: 'system-1' });
  // Remembered now: within its lifetime it verifies again.
  now = issuedAt + 59_000;
  await expect(verifyAccessToken(clocked, accessToken)).resolves.toMatchObject({ sub: 'system-1' });
  now = issuedAt + (60 + CLOCK_SKEW_SECONDS + 1) * 1000;
  await expect(verifyAccessToken(clocked, accessToken)).rejects.toThrow(AccessTokenRejected);
});

test('a remembered token is refused once the key that verified it is no longer published', async () => {
  const { accessToken } = await issueAccessToken(env, subject, 300);
  await expect(verifyAccessToken(env, accessToken)).resolves.toMatchObject({ sub: 'system-1' });
  await rotateSigningKey(env);
  // The retired key stays published for its retention, and so the token keeps verifying ...
  signingKeysFor(env).invalidate();
  await expect(verifyAccessToken(env, accessToken)).resolves.toMatchObject({ sub: 'system-1' });
  // ... until the key is deleted: then the memory of it is worth nothing.
  await deleteExpiredSigningKeys(env.db, -3600);
  signingKeysFor(env).invalidate();
  await expect(verifyAccessToken(env, accessToken)).rejects.toThrow(AccessTokenRejected);
});
