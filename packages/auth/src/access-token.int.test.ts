import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { OperationOutcomeError } from '@medplum/core';
import { insertSigningKey, openDatabase, retireActiveSigningKey } from '@carecircle/store';
import jwt from 'jsonwebtoken';
import { AccessTokenRejected, issueAccessToken, verifyAccessToken, type AccessTokenSubject } from './access-token';
import { authenticateBearer } from './authenticate-bearer';
import { openAuthTestEnv, type AuthTestEnv } from './testing/auth-test-env';
import { disableClient, registerClient } from './client-registry';
import { publishedJwks, rotateSigningKey } from './key-rotation';
import { signingKeysFor } from './auth-deps';
import { ensureActiveSigningKey } from './signing-keys';
import { createUser, disableUser } from './user-registry';

let systemSubject: AccessTokenSubject = {
  sub: 'client-1',
  client_id: 'client-1',
  scope: 'system/Patient.rs',
  organization: 'Organization/practice-a',
};

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('access tokens', () => {
  let env: AuthTestEnv;
  let appId: string;
  beforeAll(async () => {
    env = await openAuthTestEnv();
    const client = await registerClient(env, {
      kind: 'system',
      name: 'practice system',
      organization: 'Organization/practice-a',
      jwksUri: 'https://partner.example/jwks.json',
      scope: 'system/Patient.rs',
    });
    systemSubject = { ...systemSubject, sub: client.clientId, client_id: client.clientId };
    appId = (await registerClient(env, { kind: 'public', name: 'app', redirectUris: ['https://app.example/cb'], scope: 'patient/*.rs' })).clientId;
  });
  afterAll(async () => {
    await env.close();
  });

  test('carry iss, aud, sub, scope, organization, jti and a bounded lifetime, signed RS384 with a published kid', async () => {
    const { accessToken, jti } = await issueAccessToken(env, systemSubject, 300);
    const claims = await verifyAccessToken(env, accessToken);
    expect(claims).toMatchObject({ ...systemSubject, iss: env.config.baseUrl, aud: env.config.fhirBaseUrl, jti });
    expect(claims.exp - claims.iat).toBe(300);
    const header = jwt.decode(accessToken, { complete: true })?.header;
    expect(header?.alg).toBe('RS384');
    const jwks = await publishedJwks(env);
    expect(jwks.keys.map((k) => k.kid)).toContain(header?.kid);
    expect(jwks.keys.every((k) => !('d' in k))).toBe(true);
  });

  test('a key of the earlier ES384 generation is retired on start and verifies only what it signed, only as ES384', async () => {
    // A database from before the switch to RS384: its active key is ES384.
    const legacy = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const kid = `legacy-${randomUUID()}`;
    const publicJwk = { ...legacy.publicKey.export({ format: 'jwk' }), kid, alg: 'ES384', use: 'sig' };
    await retireActiveSigningKey(env.db);
    await insertSigningKey(env.db, {
      kid,
      alg: 'ES384',
      privateKeyPem: legacy.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      publicJwk,
    });
    const now = Math.floor(Date.now() / 1000);
    const claims = { ...systemSubject, jti: randomUUID(), iat: now, exp: now + 300, iss: env.config.baseUrl, aud: env.config.fhirBaseUrl };
    const legacyToken = jwt.sign(claims, legacy.privateKey, { algorithm: 'ES384', keyid: kid });

    await ensureActiveSigningKey(env.db); // as at the first start after the upgrade
    signingKeysFor(env).invalidate();
    const { accessToken } = await issueAccessToken(env, systemSubject, 300);
    expect(jwt.decode(accessToken, { complete: true })?.header).toMatchObject({ alg: 'RS384' });
    expect(jwt.decode(accessToken, { complete: true })?.header.kid).not.toBe(kid);
    await expect(verifyAccessToken(env, legacyToken)).resolves.toMatchObject({ sub: systemSubject.sub });
    // The same key under another algorithm name is refused before any verification.
    const [, payload, signature] = legacyToken.split('.') as [string, string, string];
    await expect(verifyAccessToken(env, `${base64url({ alg: 'RS384', typ: 'JWT', kid })}.${payload}.${signature}`)).rejects.toThrow(
      AccessTokenRejected,
    );
  });

  test('a tampered payload does not verify', async () => {
    const { accessToken } = await issueAccessToken(env, systemSubject, 300);
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${base64url({ ...claims, scope: 'system/*.cruds' })}.${signature}`;
    await expect(verifyAccessToken(env, forged)).rejects.toThrow(AccessTokenRejected);
  });

  test('alg none is refused', async () => {
    const { accessToken } = await issueAccessToken(env, systemSubject, 300);
    const [, payload] = accessToken.split('.') as [string, string];
    const kid = jwt.decode(accessToken, { complete: true })?.header.kid;
    await expect(verifyAccessToken(env, `${base64url({ alg: 'none', typ: 'JWT', kid })}.${payload}.`)).rejects.toThrow(
      AccessTokenRejected,
    );
  });

  test('HS256 keyed with our public key (algorithm confusion) is refused', async () => {
    const jwks = await publishedJwks(env);
    const key = jwks.keys[0];
    const publicPem = createPublicKey({ key: key!, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
    const forged = [
      base64url({ alg: 'HS256', typ: 'JWT', kid: key?.kid }),
      base64url({ ...systemSubject, iss: env.config.baseUrl, aud: env.config.fhirBaseUrl, jti: 'x', iat: 1, exp: 4102444800 }),
    ].join('.');
    const signature = createHmac('sha256', publicPem).update(forged).digest('base64url');
    await expect(verifyAccessToken(env, `${forged}.${signature}`)).rejects.toThrow(AccessTokenRejected);
  });

  test('a token for another audience or from another issuer is refused', async () => {
    const otherAudience = await issueAccessToken({ ...env, config: { ...env.config, fhirBaseUrl: 'https://elsewhere/fhir' } }, systemSubject, 300);
    await expect(verifyAccessToken(env, otherAudience.accessToken)).rejects.toThrow(AccessTokenRejected);
    const otherIssuer = await issueAccessToken({ ...env, config: { ...env.config, baseUrl: 'https://evil.test' } }, systemSubject, 300);
    await expect(verifyAccessToken(env, otherIssuer.accessToken)).rejects.toThrow(AccessTokenRejected);
  });

  test('an expired token is refused once past the clock skew', async () => {
    const { accessToken } = await issueAccessToken(env, systemSubject, -60);
    await expect(verifyAccessToken(env, accessToken)).rejects.toThrow(AccessTokenRejected);
    const withinSkew = await issueAccessToken(env, systemSubject, -5);
    await expect(verifyAccessToken(env, withinSkew.accessToken)).resolves.toBeDefined();
  });

  test('rotation: old tokens keep verifying, new ones use the new key, another replica follows without restart', async () => {
    const before = await issueAccessToken(env, systemSubject, 300);
    const otherReplica = { ...env, db: await openDatabase({ databaseUrl: env.databaseUrl }) };
    try {
      await verifyAccessToken(otherReplica, before.accessToken); // warms the other replica's cache
      const newKid = await rotateSigningKey(env);
      const after = await issueAccessToken(env, systemSubject, 300);
      expect(jwt.decode(after.accessToken, { complete: true })?.header.kid).toBe(newKid);
      await expect(verifyAccessToken(env, before.accessToken)).resolves.toBeDefined();
      await expect(verifyAccessToken(otherReplica, after.accessToken)).resolves.toBeDefined();
      const kids = (await publishedJwks(env)).keys.map((k) => k.kid);
      expect(kids).toContain(newKid);
      expect(kids).toContain(jwt.decode(before.accessToken, { complete: true })?.header.kid);
    } finally {
      await otherReplica.db.close();
    }
  });

  describe('authenticateBearer', () => {
    test('the admin token makes the admin', async () => {
      await expect(authenticateBearer(env, `Bearer ${env.config.adminToken}`)).resolves.toEqual({ kind: 'admin' });
    });

    test('a system token makes a system caller of its organization', async () => {
      const { accessToken, jti } = await issueAccessToken(env, systemSubject, 300);
      await expect(authenticateBearer(env, `Bearer ${accessToken}`)).resolves.toEqual({
        kind: 'system',
        clientId: systemSubject.client_id,
        organization: 'Organization/practice-a',
        scope: 'system/Patient.rs',
        tokenId: jti,
      });
    });

    test('a patient token makes a patient caller; once the user is disabled, it stops working', async () => {
      const user = await createUser(env.db, { username: 'client-p9', password: 'a long enough password', fhirUser: 'Patient/p9' });
      const { accessToken } = await issueAccessToken(
        env,
        { sub: user.id, client_id: appId, scope: 'patient/*.rs', fhirUser: 'Patient/p9', patient: 'p9' },
        3600,
      );
      await expect(authenticateBearer(env, `Bearer ${accessToken}`)).resolves.toMatchObject({ kind: 'patient', fhirUser: 'Patient/p9' });
      await disableUser(env, user.id);
      await expect(authenticateBearer(env, `Bearer ${accessToken}`)).rejects.toBeInstanceOf(OperationOutcomeError);
    });

    test('a token carries its purposes of use to the caller', async () => {
      const { accessToken } = await issueAccessToken(env, { ...systemSubject, purpose_of_use: ['CAREMGT', 'TREAT'] }, 300);
      await expect(authenticateBearer(env, `Bearer ${accessToken}`)).resolves.toMatchObject({ purposes: ['CAREMGT', 'TREAT'] });
    });

    test('a correctly signed token of a client or user that is not registered is refused', async () => {
      const unknownClient = await issueAccessToken(env, { ...systemSubject, sub: 'nobody', client_id: 'nobody' }, 300);
      await expect(authenticateBearer(env, `Bearer ${unknownClient.accessToken}`)).rejects.toBeInstanceOf(OperationOutcomeError);
      const unknownUser = await issueAccessToken(env, { sub: 'no-user', client_id: appId, scope: 'patient/*.rs', fhirUser: 'Patient/p9', patient: 'p9' }, 300);
      await expect(authenticateBearer(env, `Bearer ${unknownUser.accessToken}`)).rejects.toBeInstanceOf(OperationOutcomeError);
    });

    test('the disabled check needs no Redis: Postgres is the source of truth', async () => {
      const { redis: _redis, ...withoutRedis } = env;
      const { accessToken } = await issueAccessToken(env, systemSubject, 300);
      await expect(authenticateBearer(withoutRedis, `Bearer ${accessToken}`)).resolves.toMatchObject({ kind: 'system' });
    });

    test.each([
      ['no header', undefined],
      ['an empty header', ''],
      ['another scheme', 'Basic abc'],
      ['no token', 'Bearer'],
      ['a token that is no JWT', 'Bearer not.a.jwt'],
      ['an oversized token', `Bearer ${'a'.repeat(9000)}`],
    ])('answers 401 for %s', async (_name, header) => {
      const err = await authenticateBearer(env, header).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationOutcomeError);
      expect((err as OperationOutcomeError).outcome.id).toBe('unauthorized');
    });

    test('tokens of a disabled client stop working at once', async () => {
      const client = await registerClient(env, {
        kind: 'system',
        name: 'to disable',
        organization: 'Organization/practice-a',
        jwksUri: 'https://partner.example/jwks.json',
        scope: 'system/Patient.rs',
      });
      const { accessToken } = await issueAccessToken(env, { ...systemSubject, sub: client.clientId, client_id: client.clientId }, 300);
      await expect(authenticateBearer(env, `Bearer ${accessToken}`)).resolves.toMatchObject({ kind: 'system' });
      await disableClient(env, client.clientId);
      await expect(authenticateBearer(env, `Bearer ${accessToken}`)).rejects.toBeInstanceOf(OperationOutcomeError);
    });
  });
});

