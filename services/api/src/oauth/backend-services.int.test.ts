import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticateBearer, MIN_FETCH_INTERVAL_MS } from '@carecircle/auth';
import { sql } from '@carecircle/store';
import { buildOrganization } from '@carecircle/testing';
import type express from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createAsAdmin, generateClientKey, type ClientKey } from '../smart-test-clients';
import { appWithClock, appWithoutRedis, createTestClock, openAuthTestApp, TEST_BASE_URL, type AuthTestApp } from './auth-test-app';

const TOKEN_URL = `${TEST_BASE_URL}/oauth2/token`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function signAssertion(key: ClientKey, clientId: string, overrides: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: clientId, sub: clientId, aud: TOKEN_URL, exp: now + 240, jti: randomUUID(), ...overrides };
  return jwt.sign(payload, key.privateKey, { algorithm: key.alg, keyid: key.kid });
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('SMART Backend Services over HTTP', () => {
  let t: AuthTestApp;
  let jwksServer: Server;
  let servedJwks: { keys: Record<string, unknown>[] } = { keys: [] };
  const rsKey = generateClientKey('RS384');
  const esKey = generateClientKey('ES384');
  let inlineClientId: string;
  let remoteClientId: string;
  let practiceA: string;
  let practiceB: string;
  let jwksRequests = 0;
  let brokenRequests = 0;

  const admin = () => `Bearer ${t.services.config.adminToken}`;
  const tokenRequest = (fields: Record<string, string>, app: express.Express = t.app) => request(app).post('/oauth2/token').type('form').send(fields);
  const clientCredentials = (assertion: string, scope = 'system/Patient.rs', app: express.Express = t.app) =>
    tokenRequest({ grant_type: 'client_credentials', scope, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }, app);
  // The JWKS cache judges its refetch bound by the auth clock: each call moves one shared clock further on, so a test
  // gets past the bound without sleeping (and the cache never sees time go back).
  const clock = createTestClock();
  const laterApp = (): express.Express => {
    clock.advance(MIN_FETCH_INTERVAL_MS / 1000 + 1);
    return appWithClock(t, clock);
  };

  beforeAll(async () => {
    t = await openAuthTestApp();
    practiceA = await createAsAdmin(t, buildOrganization({ name: 'Practice A' }));
    practiceB = await createAsAdmin(t, buildOrganization({ name: 'Practice B' }));
    jwksServer = createServer((req, res) => {
      if (req.url === '/broken/jwks.json') {
        brokenRequests++;
        res.statusCode = 503;
        res.end();
        return;
      }
      jwksRequests++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(servedJwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    servedJwks = { keys: [esKey.publicJwk] };

    const inline = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Partner EHR', organization: practiceA, jwks: { keys: [rsKey.publicJwk] }, scope: 'system/Patient.rs system/Observation.cruds' })
      .expect(201);
    inlineClientId = inline.body.client_id;
    const remote = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({
        name: 'Remote-keyed EHR',
        organization: practiceB,
        jwks_uri: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`,
        scope: 'system/*.rs',
      })
      .expect(201);
    remoteClientId = remote.body.client_id;
  });
  afterAll(async () => {
    await new Promise((resolve) => jwksServer.close(resolve));
    await t.close();
  });

  test('publishes the SMART configuration at the FHIR base and the root', async () => {
    for (const path of ['/fhir/R4/.well-known/smart-configuration', '/.well-known/smart-configuration']) {
      const res = await request(t.app).get(path).expect(200);
      expect(res.body).toMatchObject({
        jwks_uri: `${TEST_BASE_URL}/.well-known/jwks.json`,
        token_endpoint: TOKEN_URL,
        authorization_endpoint: `${TEST_BASE_URL}/oauth2/authorize`,
        revocation_endpoint: `${TEST_BASE_URL}/oauth2/revoke`,
        token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
        token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
        revocation_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
        code_challenge_methods_supported: ['S256'],
      });
      expect(res.body.capabilities).toEqual(expect.arrayContaining(['client-confidential-asymmetric', 'permission-v2', 'launch-standalone']));
      expect(res.body.grant_types_supported).toEqual(expect.arrayContaining(['client_credentials', 'authorization_code']));
    }
  });

  test('publishes public signing keys only', async () => {
    const res = await request(t.app).get('/.well-known/jwks.json').expect(200);
    expect(res.body.keys.length).toBeGreaterThan(0);
    for (const key of res.body.keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS384', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
  });

  test('an RS384 assertion against an inline JWKS gets a 5-minute token the API accepts', async () => {
    const res = await clientCredentials(signAssertion(rsKey, inlineClientId)).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'system/Patient.rs' });
    expect(res.body).not.toHaveProperty('refresh_token');
    const caller = await authenticateBearer(t.services, `Bearer ${res.body.access_token}`);
    expect(caller).toEqual({ kind: 'system', clientId: inlineClientId, organization: practiceA, scope: 'system/Patient.rs', tokenId: (jwt.decode(res.body.access_token) as { jti: string }).jti });
  });

  test('an ES384 assertion against a jwks_uri works, and a new key there is picked up on its unknown kid', async () => {
    await clientCredentials(signAssertion(esKey, remoteClientId), 'system/Patient.read').expect(200);
    const rotated = generateClientKey('ES384');
    servedJwks = { keys: [esKey.publicJwk, rotated.publicJwk] };
    const later = laterApp(); // past the refetch bound
    const res = await clientCredentials(signAssertion(rotated, remoteClientId), 'system/Patient.read', later).expect(200);
    expect(res.body.scope).toBe('system/Patient.rs');
  }, 15000);

  test('scope escalation: only the intersection with the registered scope is granted', async () => {
    const res = await clientCredentials(signAssertion(rsKey, inlineClientId), 'system/Patient.cruds system/Consent.rs system/Observation.r').expect(200);
    expect(res.body.scope).toBe('system/Patient.rs system/Observation.r');
  });

  test('scope escalation: nothing in common is invalid_scope', async () => {
    const res = await clientCredentials(signAssertion(rsKey, inlineClientId), 'system/Consent.cruds user/Patient.rs').expect(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  const now = () => Math.floor(Date.now() / 1000);
  test.each<[string, string, () => string]>([
    ['an expired assertion', 'client_assertion has expired', () => signAssertion(rsKey, inlineClientId, { exp: now() - 120 })],
    ['an assertion for another audience', 'client_assertion aud must be the token endpoint URL', () => signAssertion(rsKey, inlineClientId, { aud: 'https://other.example/token' })],
    ['an assertion expiring more than 5 minutes ahead', 'client_assertion exp is more than 5 minutes ahead', () => signAssertion(rsKey, inlineClientId, { exp: now() + 3600 })],
    ['an assertion without jti', 'client_assertion needs jti', () => signAssertion(rsKey, inlineClientId, { jti: undefined })],
    ['an assertion whose sub is not the client', 'client_assertion iss and sub must both be the client_id', () => signAssertion(rsKey, inlineClientId, { sub: 'someone-else' })],
    ['an assertion from an unknown client', 'unknown or disabled client', () => signAssertion(rsKey, 'unknown-client')],
    ['an assertion signed with another key under the registered kid', 'client_assertion signature does not verify', () => signAssertion({ ...generateClientKey('RS384'), kid: rsKey.kid }, inlineClientId)],
    ['an assertion signed with a key registered to another client', 'no registered key matches the client_assertion kid and alg', () => signAssertion(esKey, inlineClientId)],
    ['an assertion with alg none', 'client_assertion must be signed with RS384 or ES384', () => `${base64url({ alg: 'none', kid: rsKey.kid })}.${base64url({ iss: inlineClientId, sub: inlineClientId, aud: TOKEN_URL, exp: now() + 60, jti: randomUUID() })}.`],
    [
      'an assertion HS256-signed with the public key',
      'client_assertion must be signed with RS384 or ES384',
      () => {
        const head = `${base64url({ alg: 'HS256', kid: rsKey.kid })}.${base64url({ iss: inlineClientId, sub: inlineClientId, aud: TOKEN_URL, exp: now() + 60, jti: randomUUID() })}`;
        return `${head}.${createHmac('sha256', JSON.stringify(rsKey.publicJwk)).update(head).digest('base64url')}`;
      },
    ],
    ['an assertion RS256-signed (not RS384)', 'client_assertion must be signed with RS384 or ES384', () => jwt.sign({ iss: inlineClientId, sub: inlineClientId, aud: TOKEN_URL, exp: now() + 60, jti: randomUUID() }, rsKey.privateKey, { algorithm: 'RS256', keyid: rsKey.kid })],
    ['a tampered assertion', 'client_assertion signature does not verify', () => {
      const [h, , s] = signAssertion(rsKey, inlineClientId).split('.');
      return `${h}.${base64url({ iss: inlineClientId, sub: inlineClientId, aud: TOKEN_URL, exp: now() + 60, jti: randomUUID(), extra: 1 })}.${s}`;
    }],
  ])('rejects %s with invalid_client (401)', async (_name, description, makeAssertion) => {
    const res = await clientCredentials(makeAssertion()).expect(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: description });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('rejects a replayed jti', async () => {
    const assertion = signAssertion(rsKey, inlineClientId);
    await clientCredentials(assertion).expect(200);
    const res = await clientCredentials(assertion).expect(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client_assertion jti was already used' });
  });

  test('rejects a tampered access token at the API', async () => {
    const res = await clientCredentials(signAssertion(rsKey, inlineClientId)).expect(200);
    const [h, p, s] = (res.body.access_token as string).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${base64url({ ...claims, organization: practiceB })}.${s}`;
    await expect(authenticateBearer(t.services, `Bearer ${forged}`)).rejects.toThrow();
  });

  test.each<[string, Record<string, string>, number, string]>([
    ['no grant_type', {}, 400, 'invalid_request'],
    ['an unsupported grant_type', { grant_type: 'password', username: 'a', password: 'b' }, 400, 'unsupported_grant_type'],
    ['client_credentials without an assertion', { grant_type: 'client_credentials', scope: 'system/Patient.rs' }, 401, 'invalid_client'],
  ])('answers %s with RFC 6749 JSON', async (_name, fields, status, error) => {
    const res = await tokenRequest(fields).expect(status);
    expect(res.body.error).toBe(error);
  });

  test('a disabled client gets no more tokens', async () => {
    const created = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Short-lived', organization: practiceA, jwks: { keys: [generateClientKey('RS384').publicJwk] }, scope: 'system/Patient.rs' })
      .expect(201);
    const key = generateClientKey('RS384');
    const other = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'To disable', organization: practiceA, jwks: { keys: [key.publicJwk] }, scope: 'system/Patient.rs' })
      .expect(201);
    await clientCredentials(signAssertion(key, other.body.client_id)).expect(200);
    await request(t.app).post(`/admin/clients/${other.body.client_id}/disable`).set('Authorization', admin()).expect(200);
    const res = await clientCredentials(signAssertion(key, other.body.client_id)).expect(401);
    expect(res.body.error).toBe('invalid_client');
    expect(created.body.disabled).toBe(false);
  });
  test('purpose_of_use: the token carries the purposes asked for; an unknown code is invalid_request', async () => {
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      scope: 'system/Patient.rs',
      purpose_of_use: 'CAREMGT TREAT CAREMGT',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: signAssertion(rsKey, inlineClientId),
    }).expect(200);
    expect(res.body.purpose_of_use).toBe('CAREMGT TREAT');
    const caller = await authenticateBearer(t.services, `Bearer ${res.body.access_token}`);
    expect(caller).toMatchObject({ kind: 'system', purposes: ['CAREMGT', 'TREAT'] });
    const unknown = await tokenRequest({
      grant_type: 'client_credentials',
      scope: 'system/Patient.rs',
      purpose_of_use: 'MARKETING',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: signAssertion(rsKey, inlineClientId),
    }).expect(400);
    expect(unknown.body.error).toBe('invalid_request');
  });

  test('a header that names or carries a key (jku other than the registered jwks_uri, x5u, jwk, x5c) or crit is invalid_client', async () => {
    const sign = (header: Record<string, unknown>) =>
      jwt.sign(
        { iss: inlineClientId, sub: inlineClientId, aud: TOKEN_URL, exp: Math.floor(Date.now() / 1000) + 240, jti: randomUUID() },
        rsKey.privateKey,
        { algorithm: rsKey.alg, keyid: rsKey.kid, header: { alg: rsKey.alg, ...header } },
      );
    for (const header of [
      { jku: 'https://attacker.example/jwks.json' },
      { x5u: 'https://attacker.example/cert.pem' },
      { jwk: rsKey.publicJwk },
      { x5c: ['MIIB'] },
      { crit: ['exp'] },
    ]) {
      const res = await clientCredentials(sign(header)).expect(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.error_description).toMatch(/^client_assertion header (jku|x5u|jwk|x5c|crit) /);
    }
    // The registered jwks_uri itself may be named (SMART Backend Services).
    const registered = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const remoteAssertion = jwt.sign(
      { iss: remoteClientId, sub: remoteClientId, aud: TOKEN_URL, exp: Math.floor(Date.now() / 1000) + 240, jti: randomUUID() },
      esKey.privateKey,
      { algorithm: esKey.alg, keyid: esKey.kid, header: { alg: esKey.alg, jku: registered } },
    );
    await clientCredentials(remoteAssertion).expect(200);
  });

  test('a client_id parameter naming another client than the assertion is invalid_client, and spends nothing', async () => {
    const assertion = signAssertion(rsKey, inlineClientId);
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      scope: 'system/Patient.rs',
      client_id: remoteClientId,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    }).expect(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client_id does not name the client the client_assertion is for' });
    await tokenRequest({
      grant_type: 'client_credentials',
      scope: 'system/Patient.rs',
      client_id: inlineClientId,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    }).expect(200);
  });

  test('an assertion issued (iat) or valid from (nbf) beyond the clock skew ahead is invalid_client', async () => {
    const now = Math.floor(Date.now() / 1000);
    const yearAhead = await clientCredentials(signAssertion(rsKey, inlineClientId, { iat: now + 365 * 24 * 3600 })).expect(401);
    expect(yearAhead.body).toEqual({ error: 'invalid_client', error_description: 'client_assertion iat is in the future' });
    const notYet = await clientCredentials(signAssertion(rsKey, inlineClientId, { nbf: now + 120 })).expect(401);
    expect(notYet.body.error_description).toBe('client_assertion is not yet valid');
    // Within the skew a clock slightly ahead of ours is fine.
    await clientCredentials(signAssertion(rsKey, inlineClientId, { iat: now + 10 })).expect(200);
  });

  test('a jwks_uri is checked again at fetch time: a stored private or metadata address is never contacted', async () => {
    const key = generateClientKey('ES384');
    const created = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Re-pointed', organization: practiceA, jwks_uri: 'https://partner.example/jwks.json', scope: 'system/Patient.rs' })
      .expect(201);
    // As if the row had been written before the rule, or by hand: the fetch must refuse it all the same.
    for (const uri of [
      'https://169.254.169.254/latest/meta-data/jwks',
      'https://10.0.0.1/jwks.json',
      'http://[fd00::1]/jwks.json',
      'https://[2001:0:4136:e378:8000:63bf:5601:5601]/jwks.json',
      'https://192.88.99.1/jwks.json',
    ]) {
      await t.services.db.query(sql`UPDATE auth_client SET jwks_uri = ${uri} WHERE id = ${created.body.client_id as string}`);
      const started = Date.now();
      const res = await clientCredentials(signAssertion(key, created.body.client_id)).expect(401);
      expect(res.body.error_description).toBe('no registered key matches the client_assertion kid and alg');
      expect(Date.now() - started).toBeLessThan(1000); // refused before connecting, not after a 5 s timeout
    }
  });

  test.each([
    ['Teredo embedding the metadata address', 'https://[2001:0:4136:e378:8000:63bf:5601:5601]/jwks.json'],
    ['the 6to4 relay anycast', 'https://192.88.99.1/jwks.json'],
    ['6to4 embedding a private address', 'https://[2002:a00:1::1]/jwks.json'],
    ['NAT64 embedding the metadata address', 'https://[64:ff9b::a9fe:a9fe]/jwks.json'],
    ['local-use NAT64 embedding the metadata address', 'https://[64:ff9b:1::a9fe:a9fe]/jwks.json'],
  ])('a jwks_uri at %s is refused at registration (400)', async (_name, jwksUri) => {
    const res = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Tunnelled', organization: practiceA, jwks_uri: jwksUri, scope: 'system/Patient.rs' })
      .expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('unknown kids cannot make the server fetch a jwks_uri at will: one fetch per URI per interval, failures included', async () => {
    const brokenKey = generateClientKey('ES384');
    const broken = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({
        name: 'Broken keys',
        organization: practiceB,
        jwks_uri: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/broken/jwks.json`,
        scope: 'system/Patient.rs',
      })
      .expect(201);
    const brokenId = broken.body.client_id as string;
    const app = laterApp();
    for (let i = 0; i < 5; i++) {
      const res = await clientCredentials(signAssertion({ ...brokenKey, kid: randomUUID() }, brokenId), 'system/Patient.rs', app).expect(401);
      expect(res.body.error).toBe('invalid_client');
    }
    expect(brokenRequests).toBe(1);
    // A working jwks_uri likewise: forged kids after the set was fetched cost at most one refetch per interval.
    const beforeWorking = jwksRequests;
    for (let i = 0; i < 5; i++) {
      await clientCredentials(signAssertion({ ...esKey, kid: randomUUID() }, remoteClientId), 'system/Patient.rs', app).expect(401);
    }
    expect(jwksRequests - beforeWorking).toBeLessThanOrEqual(1);
    // Past the interval the URI is tried again, once.
    const after = laterApp();
    await clientCredentials(signAssertion({ ...brokenKey, kid: randomUUID() }, brokenId), 'system/Patient.rs', after).expect(401);
    await clientCredentials(signAssertion({ ...brokenKey, kid: randomUUID() }, brokenId), 'system/Patient.rs', after).expect(401);
    expect(brokenRequests).toBe(2);
  });

  test('a jwks_uri on loopback is fetched in development and test (and only there)', async () => {
    const before = jwksRequests;
    const rotated = generateClientKey('ES384');
    servedJwks = { keys: [esKey.publicJwk, rotated.publicJwk] };
    await clientCredentials(signAssertion(rotated, remoteClientId), 'system/Patient.read', laterApp()).expect(200);
    expect(jwksRequests).toBeGreaterThan(before);
  }, 15000);

  test('without Redis (no replay check possible) the token endpoint answers 503 temporarily_unavailable with Retry-After', async () => {
    const down = appWithoutRedis(t);
    try {
      const res = await request(down.app)
        .post('/oauth2/token')
        .type('form')
        .send({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: ASSERTION_TYPE, client_assertion: signAssertion(rsKey, inlineClientId) })
        .expect(503);
      expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['cache-control']).toBe('no-store');
    } finally {
      down.disconnect();
    }
  }, 30_000);

  test('the FHIR API keeps answering without Redis: who is disabled is read from Postgres', async () => {
    const access = (await clientCredentials(signAssertion(rsKey, inlineClientId)).expect(200)).body.access_token as string;
    const down = appWithoutRedis(t);
    try {
      await request(down.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${access}`).expect(200);
    } finally {
      down.disconnect();
    }
  });

  test('a Redis flush cannot bring a disabled client back', async () => {
    const key = generateClientKey('ES384');
    const created = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Flushed', organization: practiceA, jwks: { keys: [key.publicJwk] }, scope: 'system/Patient.rs' })
      .expect(201);
    const access = (await clientCredentials(signAssertion(key, created.body.client_id)).expect(200)).body.access_token as string;
    await request(t.app).post(`/admin/clients/${created.body.client_id}/disable`).set('Authorization', admin()).expect(200);
    const keys = await t.services.redis.keys(`${t.services.config.redisPrefix}:*`);
    if (keys.length > 0) {
      await t.services.redis.del(...keys);
    }
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${access}`).expect(401);
  });
});
