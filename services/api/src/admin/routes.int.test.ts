import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from '@carecircle/store';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createApp } from '../app';
import { openAuthTestApp, type AuthTestApp } from '../oauth/auth-test-app';
import {
  CLIENT_ASSERTION_TYPE,
  createAsAdmin,
  generateClientKey,
  registerSystemClient,
  signAssertion,
  signInUser,
  type ClientKey,
} from '../smart-test-clients';
import { ADMIN_ACTION_SYSTEM, ADMIN_ENTITY_SYSTEMS } from './admin-audit';

function publicJwk(kid: string, type: 'rsa' | 'ec' = 'ec'): Record<string, unknown> {
  const { publicKey } =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return { ...publicKey.export({ format: 'jwk' }), kid };
}

describe('admin API', () => {
  let t: AuthTestApp;
  let clinic: string;
  let practitioner: string;
  let patient: string;
  const admin = () => `Bearer ${t.services.config.adminToken}`;

  beforeAll(async () => {
    t = await openAuthTestApp();
    clinic = await createAsAdmin(t, buildOrganization({ name: 'Clinic' }));
    practitioner = await createAsAdmin(t, buildPractitioner());
    patient = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: clinic } }));
  });
  afterAll(async () => {
    await t.close();
  });

  test.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer not-the-admin-token'],
    ['another scheme', 'Basic YWRtaW46YWRtaW4='],
  ])('refuses %s with 401', async (_name, header) => {
    const req = request(t.app).get('/admin/clients');
    const res = await (header ? req.set('Authorization', header) : req).expect(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  test('registers, lists and disables a system client', async () => {
    const created = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Clinic EHR', organization: clinic, jwks: { keys: [publicJwk('k1')] }, scope: 'system/Patient.read' })
      .expect(201);
    expect(created.body).toMatchObject({ kind: 'system', name: 'Clinic EHR', organization: clinic, scope: 'system/Patient.rs', disabled: false });
    expect(typeof created.body.client_id).toBe('string');

    const listed = await request(t.app).get('/admin/clients').set('Authorization', admin()).expect(200);
    expect(listed.body.clients.map((c: { client_id: string }) => c.client_id)).toContain(created.body.client_id);

    const disabled = await request(t.app).post(`/admin/clients/${created.body.client_id}/disable`).set('Authorization', admin()).expect(200);
    expect(disabled.body.disabled).toBe(true);
    await request(t.app).post('/admin/clients/no-such-client/disable').set('Authorization', admin()).expect(404);
  });

  test('registers a public app', async () => {
    const res = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Client portal', redirect_uris: ['https://portal.example/cb', 'http://localhost:3000/cb'], scope: 'patient/*.rs launch/patient' })
      .expect(201);
    expect(res.body).toMatchObject({ kind: 'public', redirect_uris: ['https://portal.example/cb', 'http://localhost:3000/cb'] });
  });

  test('a system client of an organization that does not exist is 422', async () => {
    const res = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Ghost EHR', organization: 'Organization/no-such-org', jwks: { keys: [publicJwk('k1')] }, scope: 'system/Patient.rs' })
      .expect(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).toContain('organization');
  });

  test.each<[string, string]>([
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/jwks'],
    ['a private address (10/8)', 'https://10.1.2.3/jwks.json'],
    ['a private address (172.16/12)', 'https://172.20.0.5/jwks.json'],
    ['a private address (192.168/16)', 'https://192.168.1.10/jwks.json'],
    ['a unique-local IPv6 address', 'https://[fd12::1]/jwks.json'],
    ['an IPv4-mapped private address', 'https://[::ffff:10.0.0.1]/jwks.json'],
    ['a metadata host name', 'https://metadata.google.internal/jwks'],
    ['plain http off loopback', 'http://partner.example/jwks.json'],
    ['credentials in the URL', 'https://user:pass@partner.example/jwks.json'],
  ])('refuses a jwks_uri at %s (400)', async (_name, jwksUri) => {
    const res = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'x', organization: clinic, jwks_uri: jwksUri, scope: 'system/Patient.rs' })
      .expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('accepts an https jwks_uri on a public name, and loopback (http too) outside production', async () => {
    for (const jwksUri of ['https://partner.example/.well-known/jwks.json', 'http://127.0.0.1:9999/jwks.json', 'http://localhost:9999/jwks.json']) {
      await request(t.app)
        .post('/admin/clients')
        .set('Authorization', admin())
        .send({ name: 'x', organization: clinic, jwks_uri: jwksUri, scope: 'system/Patient.rs' })
        .expect(201);
    }
  });

  test.each<[string, () => Record<string, unknown>]>([
    ['a private key in the JWKS', () => ({ name: 'x', organization: clinic, jwks: { keys: [{ ...(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' })), kid: 'p' }] }, scope: 'system/Patient.rs' })],
    ['a P-256 key (not ES384)', () => ({ name: 'x', organization: clinic, jwks: { keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'p' }] }, scope: 'system/Patient.rs' })],
    ['both jwks and jwks_uri', () => ({ name: 'x', organization: clinic, jwks: { keys: [publicJwk('a')] }, jwks_uri: 'https://x.example/jwks', scope: 'system/Patient.rs' })],
    ['neither jwks nor jwks_uri', () => ({ name: 'x', organization: clinic, scope: 'system/Patient.rs' })],
    ['a plain-http jwks_uri', () => ({ name: 'x', organization: clinic, jwks_uri: 'http://x.example/jwks', scope: 'system/Patient.rs' })],
    ['user/ scopes for a system client', () => ({ name: 'x', organization: clinic, jwks: { keys: [publicJwk('a')] }, scope: 'user/Patient.rs' })],
    ['a malformed organization', () => ({ name: 'x', organization: 'Practitioner/o', jwks: { keys: [publicJwk('a')] }, scope: 'system/Patient.rs' })],
    ['a redirect URI with a fragment', () => ({ name: 'x', redirect_uris: ['https://a.example/cb#x'], scope: 'patient/*.rs' })],
    ['a plain-http redirect URI', () => ({ name: 'x', redirect_uris: ['http://a.example/cb'], scope: 'patient/*.rs' })],
    ['system/ scopes for a public app', () => ({ name: 'x', redirect_uris: ['https://a.example/cb'], scope: 'system/*.rs' })],
    ['unknown fields', () => ({ name: 'x', redirect_uris: ['https://a.example/cb'], scope: 'patient/*.rs', client_secret: 's' })],
  ])('refuses a client with %s (400 OperationOutcome)', async (_name, body) => {
    const res = await request(t.app).post('/admin/clients').set('Authorization', admin()).send(body()).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('creates, lists and disables users without ever returning a password or hash', async () => {
    const created = await request(t.app)
      .post('/admin/users')
      .set('Authorization', admin())
      .send({ username: 'Therapist.One', password: 'correct horse battery', fhirUser: practitioner, organization: clinic })
      .expect(201);
    expect(created.body).toMatchObject({ username: 'therapist.one', fhirUser: practitioner, organization: clinic, disabled: false });
    const listed = await request(t.app).get('/admin/users').set('Authorization', admin()).expect(200);
    const text = JSON.stringify(listed.body) + JSON.stringify(created.body);
    expect(text).not.toContain('correct horse');
    expect(text).not.toContain('scrypt');
    expect(listed.body.users.map((u: { id: string }) => u.id)).toContain(created.body.id);
    const disabled = await request(t.app).post(`/admin/users/${created.body.id}/disable`).set('Authorization', admin()).expect(200);
    expect(disabled.body.disabled).toBe(true);
    await request(t.app).post('/admin/users/no-such-user/disable').set('Authorization', admin()).expect(404);
  });

  test('a taken username is 409', async () => {
    const body = { username: 'twice', password: 'a long enough password', fhirUser: patient };
    await request(t.app).post('/admin/users').set('Authorization', admin()).send(body).expect(201);
    await request(t.app).post('/admin/users').set('Authorization', admin()).send({ ...body, username: 'TWICE' }).expect(409);
  });

  test('a client (Patient) user with an organization is 400: the custodian is the Patient\'s managingOrganization', async () => {
    const res = await request(t.app)
      .post('/admin/users')
      .set('Authorization', admin())
      .send({ username: 'client.with.org', password: 'a long enough password', fhirUser: patient, organization: clinic })
      .expect(400);
    expect(JSON.stringify(res.body)).toContain('managingOrganization');
    await request(t.app)
      .post('/admin/users')
      .set('Authorization', admin())
      .send({ username: 'client.without.org', password: 'a long enough password', fhirUser: patient })
      .expect(201);
  });

  test.each<[string, () => Record<string, unknown>]>([
    ['a Patient that does not exist', () => ({ username: 'ghost.client', password: 'a long enough password', fhirUser: 'Patient/no-such-patient' })],
    ['a Practitioner that does not exist', () => ({ username: 'ghost.dr', password: 'a long enough password', fhirUser: 'Practitioner/nobody', organization: clinic })],
    ['an organization that does not exist', () => ({ username: 'lost.dr', password: 'a long enough password', fhirUser: practitioner, organization: 'Organization/nowhere' })],
  ])('a user naming %s is 422', async (_name, body) => {
    const res = await request(t.app).post('/admin/users').set('Authorization', admin()).send(body()).expect(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('every admin request and every FHIR request with the admin token is logged with the caller (ids only)', async () => {
    const requestId = 'admin-audit-check';
    await request(t.app).get('/admin/clients').set('Authorization', admin()).set('X-Request-Id', requestId).expect(200);
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', admin()).set('X-Request-Id', `${requestId}-fhir`).expect(200);
    const lines = t.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(lines.find((l) => l.requestId === requestId)).toMatchObject({ caller: 'admin', status: 200 });
    expect(lines.find((l) => l.requestId === `${requestId}-fhir`)).toMatchObject({ caller: 'admin', status: 200 });
  });

  test.each<[string, () => Record<string, unknown>]>([
    ['a short password', () => ({ username: 'short', password: 'elevenchars', fhirUser: patient })],
    ['a practitioner without organization', () => ({ username: 'noorg', password: 'a long enough password', fhirUser: practitioner })],
    ['an unsupported fhirUser', () => ({ username: 'rp', password: 'a long enough password', fhirUser: 'RelatedPerson/x' })],
    ['no username', () => ({ password: 'a long enough password', fhirUser: patient })],
  ])('refuses a user with %s (400), never echoing the password', async (_name, makeBody) => {
    const body = makeBody();
    const res = await request(t.app).post('/admin/users').set('Authorization', admin()).send(body).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).not.toContain(String(body.password));
  });

  // D10: text is stored as sent or refused; an unpaired surrogate was stored as U+FFFD (201), NUL answered generically.
  test.each<[string, string, () => string, string]>([
    ['a client name with an unpaired surrogate', '/admin/clients', () => `{"name":"x\\ud800","redirect_uris":["https://a.example/cb"],"scope":"patient/*.rs"}`, 'name'],
    ['a client name with a lone low surrogate', '/admin/clients', () => `{"name":"\\udc00x","organization":"${clinic}","jwks_uri":"https://partner.example/jwks.json","scope":"system/Patient.rs"}`, 'name'],
    ['a client name with NUL', '/admin/clients', () => `{"name":"x\\u0000","redirect_uris":["https://a.example/cb"],"scope":"patient/*.rs"}`, 'name'],
    ['a redirect URI with an unpaired surrogate', '/admin/clients', () => `{"name":"x","redirect_uris":["https://a.example/cb?\\ud800"],"scope":"patient/*.rs"}`, 'redirect_uris.0'],
    ['a scope with an unpaired surrogate', '/admin/clients', () => `{"name":"x","redirect_uris":["https://a.example/cb"],"scope":"patient/*.rs \\ud800"}`, 'scope'],
    ['a JWK with an unpaired surrogate', '/admin/clients', () => `{"name":"x","organization":"${clinic}","jwks":{"keys":[{"kty":"EC","kid":"\\ud800"}]},"scope":"system/Patient.rs"}`, 'jwks.keys.0.kid'],
    ['a key with NUL', '/admin/clients', () => `{"name":"x","redirect_uris":["https://a.example/cb"],"scope":"patient/*.rs","\\u0000":1}`, 'body (a key)'],
    ['a username with an unpaired surrogate', '/admin/users', () => `{"username":"user\\ud800","password":"a long enough password","fhirUser":"${patient}"}`, 'username'],
    ['a password with an unpaired surrogate', '/admin/users', () => `{"username":"surrogate.pw","password":"a long enough password\\ud800","fhirUser":"${patient}"}`, 'password'],
  ])('refuses %s (400 naming the field), storing nothing', async (_name, path, body, field) => {
    const res = await request(t.app).post(path).set('Authorization', admin()).set('Content-Type', 'application/json').send(body()).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.text).toBe(`Invalid request body: ${field}: text may not contain NUL or unpaired surrogate characters`);
    const listed = await request(t.app).get(path).set('Authorization', admin()).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain('\ufffd');
  });

  test('a body that is not UTF-8 is 400, not stored with U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from('{"name":"x'), Buffer.from([0xff]), Buffer.from('","redirect_uris":["https://a.example/cb"],"scope":"patient/*.rs"}')]);
    const res = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .set('Content-Type', 'application/json')
      .serialize((raw: unknown) => raw as string)
      .send(bytes)
      .expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const listed = await request(t.app).get('/admin/clients').set('Authorization', admin()).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain('\ufffd');
  });
});

describe('signing key rotation', () => {
  test('a token signed before rotation keeps working; new tokens carry the new key; both keys are published', async () => {
    const t = await openAuthTestApp();
    try {
      const admin = `Bearer ${t.services.config.adminToken}`;
      const client = await registerSystemClient(t, await createAsAdmin(t, buildOrganization()), 'system/Organization.rs');
      const before = await client.token();
      const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid;
      const rotated = await request(t.app).post('/admin/signing-keys/rotate').set('Authorization', admin).expect(201);
      const after = await client.token();
      expect(kidOf(after)).toBe(rotated.body.kid);
      expect(kidOf(after)).not.toBe(kidOf(before));
      const jwks = (await request(t.app).get('/.well-known/jwks.json').expect(200)).body as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([kidOf(before), kidOf(after)]));
      for (const token of [before, after]) {
        await request(t.app).get('/fhir/R4/Organization').set('Authorization', `Bearer ${token}`).expect(200);
      }
      await request(t.app).post('/admin/signing-keys/rotate').expect(401);
    } finally {
      await t.close();
    }
  });
});

describe('admin API in production', () => {
  test('a jwks_uri must be https and off loopback', async () => {
    const t = await openAuthTestApp({ NODE_ENV: 'production' });
    try {
      const clinic = await createAsAdmin(t, buildOrganization());
      const register = (jwksUri: string) =>
        request(t.app)
          .post('/admin/clients')
          .set('Authorization', `Bearer ${t.services.config.adminToken}`)
          .send({ name: 'x', organization: clinic, jwks_uri: jwksUri, scope: 'system/Patient.rs' });
      for (const jwksUri of ['http://127.0.0.1:9999/jwks.json', 'https://127.0.0.1/jwks.json', 'https://localhost/jwks.json', 'https://[::1]/jwks.json', 'http://partner.example/jwks']) {
        expect((await register(jwksUri)).status).toBe(400);
      }
      expect((await register('https://partner.example/jwks.json')).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});

describe('admin API: reading, updating, re-enabling, password resets, and the audit of every change', () => {
  let t: AuthTestApp;
  let clinic: string;
  let practitioner: string;
  let patient: string;
  let appClientId: string;
  let jwksServer: Server;
  let servedJwks: { keys: Record<string, unknown>[] } = { keys: [] };
  const admin = () => `Bearer ${t.services.config.adminToken}`;
  const APP_SCOPE = 'user/*.rs patient/*.rs offline_access';
  const REDIRECT_URI = 'https://app.example/callback';

  const clientCredentials = (key: ClientKey, clientId: string, scope = 'system/Patient.rs') =>
    request(t.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', scope, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: signAssertion(t, key, clientId) });

  /** Signs in through the authorize form with PKCE; the token response, or undefined when the sign-in is refused. */
  const signIn = (username: string, password: string, scope = 'user/Patient.rs offline_access') =>
    signInUser(t, appClientId, { username, password }, scope);

  async function createPractitionerUser(password: string): Promise<{ id: string; username: string }> {
    const username = `dr-${randomBytes(4).toString('hex')}`;
    const res = await request(t.app)
      .post('/admin/users')
      .set('Authorization', admin())
      .send({ username, password, fhirUser: practitioner, organization: clinic })
      .expect(201);
    return { id: res.body.id as string, username };
  }

  /** The AuditEvents of admin changes about `value` (a client_id, user id ...), searched as the operator would. */
  async function adminEventsAbout(system: string, value: string): Promise<AuditEvent[]> {
    const res = await request(t.app)
      .get(`/fhir/R4/AuditEvent?type=${encodeURIComponent('http://dicom.nema.org/resources/ontology/DCM|110100')}&_count=1000`)
      .set('Authorization', admin())
      .expect(200);
    return ((res.body as Bundle<AuditEvent>).entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .filter((e) => e.entity?.some((entity) => entity.what?.identifier?.system === system && entity.what.identifier.value === value));
  }
  const subtypes = (events: AuditEvent[]) => events.map((e) => e.subtype?.[0]?.code).sort();

  /** Waits for the next whole second: access tokens' iat is in seconds, and a change counts from its second on. */
  const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));

  beforeAll(async () => {
    t = await openAuthTestApp();
    clinic = await createAsAdmin(t, buildOrganization({ name: 'Clinic' }));
    practitioner = await createAsAdmin(t, buildPractitioner());
    patient = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: clinic } }));
    appClientId = (
      await request(t.app)
        .post('/admin/clients')
        .set('Authorization', admin())
        .send({ name: 'Therapist app', redirect_uris: [REDIRECT_URI], scope: APP_SCOPE })
        .expect(201)
    ).body.client_id as string;
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(servedJwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => jwksServer.close(resolve));
    await t.close();
  });

  test('reads one client and one user; unknown or impossible ids are 404 OperationOutcomes', async () => {
    const system = await registerSystemClient(t, clinic, 'system/Patient.rs');
    const client = await request(t.app).get(`/admin/clients/${system.clientId}`).set('Authorization', admin()).expect(200);
    expect(client.body).toMatchObject({ client_id: system.clientId, kind: 'system', organization: clinic, scope: 'system/Patient.rs', disabled: false });
    expect(client.body.jwks.keys[0]).not.toHaveProperty('d');
    const { id } = await createPractitionerUser('a long enough password');
    const user = await request(t.app).get(`/admin/users/${id}`).set('Authorization', admin()).expect(200);
    expect(user.body).toMatchObject({ id, fhirUser: practitioner, organization: clinic, disabled: false });
    expect(JSON.stringify(user.body)).not.toMatch(/password|scrypt/);
    for (const path of ['/admin/clients/no-such-client', '/admin/users/no-such-user', '/admin/clients/%00', '/admin/users/a%20b', '/admin/users/%E2%82%AC']) {
      const res = await request(t.app).get(path).set('Authorization', admin()).expect(404);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    await request(t.app).get(`/admin/clients/${system.clientId}`).expect(401);
  });

  test('rotates an inline JWKS and the scope without a new client_id: the old key stops, the new key works at once', async () => {
    const system = await registerSystemClient(t, clinic, 'system/Patient.rs system/Observation.rs');
    await clientCredentials(system.key, system.clientId).expect(200);
    const rotated = generateClientKey('RS384');
    const res = await request(t.app)
      .patch(`/admin/clients/${system.clientId}`)
      .set('Authorization', admin())
      .send({ jwks: { keys: [rotated.publicJwk] }, scope: 'system/Patient.rs', name: 'Clinic EHR (rotated)' })
      .expect(200);
    expect(res.body).toMatchObject({ client_id: system.clientId, name: 'Clinic EHR (rotated)', scope: 'system/Patient.rs', organization: clinic });
    expect(res.body.jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([rotated.kid]);
    expect((await clientCredentials(system.key, system.clientId).expect(401)).body.error).toBe('invalid_client');
    const token = await clientCredentials(rotated, system.clientId, 'system/Patient.rs system/Observation.rs').expect(200);
    expect(token.body.scope).toBe('system/Patient.rs');
    const events = await adminEventsAbout(ADMIN_ENTITY_SYSTEMS.client, system.clientId);
    expect(subtypes(events)).toEqual(['client-register', 'client-update']);
    const update = events.find((e) => e.subtype?.[0]?.code === 'client-update') as AuditEvent;
    expect(update.entity?.[0]?.detail).toEqual([{ type: 'changed', valueString: 'jwks name scope' }]);
    expect(JSON.stringify(update)).not.toContain(String(rotated.publicJwk.x ?? rotated.publicJwk.n));
  });

  test('a key changed at the same jwks_uri (same kid) verifies on the next assertion: the cached JWKS is dropped', async () => {
    const before = generateClientKey('ES384');
    const after = { ...generateClientKey('ES384'), kid: before.kid };
    after.publicJwk = { ...after.publicJwk, kid: before.kid };
    servedJwks = { keys: [before.publicJwk] };
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const created = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Remote-keyed EHR', organization: clinic, jwks_uri: jwksUri, scope: 'system/Patient.rs' })
      .expect(201);
    const clientId = created.body.client_id as string;
    await clientCredentials(before, clientId).expect(200); // now cached, fresh for 5 minutes
    servedJwks = { keys: [after.publicJwk] };
    await request(t.app).patch(`/admin/clients/${clientId}`).set('Authorization', admin()).send({ jwks_uri: jwksUri }).expect(200);
    await clientCredentials(after, clientId).expect(200);
    expect((await clientCredentials(before, clientId).expect(401)).body.error).toBe('invalid_client');
  });

  test('switches a client from inline keys to a jwks_uri and back', async () => {
    const system = await registerSystemClient(t, clinic, 'system/Patient.rs');
    const remote = generateClientKey('ES384');
    servedJwks = { keys: [remote.publicJwk] };
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const toUri = await request(t.app).patch(`/admin/clients/${system.clientId}`).set('Authorization', admin()).send({ jwks_uri: jwksUri }).expect(200);
    expect(toUri.body.jwks_uri).toBe(jwksUri);
    expect(toUri.body).not.toHaveProperty('jwks');
    await clientCredentials(remote, system.clientId).expect(200);
    await clientCredentials(system.key, system.clientId).expect(401);
    const back = await request(t.app)
      .patch(`/admin/clients/${system.clientId}`)
      .set('Authorization', admin())
      .send({ jwks: { keys: [system.key.publicJwk] } })
      .expect(200);
    expect(back.body).not.toHaveProperty('jwks_uri');
    await clientCredentials(system.key, system.clientId).expect(200);
  });

  test.each<[string, () => Record<string, unknown>, string]>([
    ['a private key', () => ({ jwks: { keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' }), kid: 'p' }] } }), 'jwks'],
    ['a weak key (RSA 1024)', () => ({ jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }), kid: 'w' }] } }), 'jwks'],
    ['a jwks_uri at the metadata address', () => ({ jwks_uri: 'https://169.254.169.254/latest/meta-data/jwks' }), 'jwks_uri'],
    ['a jwks_uri on a private address', () => ({ jwks_uri: 'https://10.1.2.3/jwks.json' }), 'jwks_uri'],
    ['both jwks and jwks_uri', () => ({ jwks: { keys: [publicJwk('a')] }, jwks_uri: 'https://partner.example/jwks.json' }), 'jwks'],
    ['user/ scopes', () => ({ scope: 'user/Patient.rs' }), 'system/ scopes'],
    ['redirect URIs for a system client', () => ({ redirect_uris: ['https://a.example/cb'] }), 'redirect_uris'],
    ['an empty body', () => ({}), 'at least one of'],
    ['an unknown field', () => ({ client_secret: 's' }), 'client_secret'],
    ['an empty name', () => ({ name: '' }), 'name'],
  ])('refuses an update with %s (400 naming it), changing nothing and auditing nothing', async (_name, body, field) => {
    const system = await registerSystemClient(t, clinic, 'system/Patient.rs');
    const res = await request(t.app).patch(`/admin/clients/${system.clientId}`).set('Authorization', admin()).send(body()).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.text).toContain(field);
    const unchanged = await request(t.app).get(`/admin/clients/${system.clientId}`).set('Authorization', admin()).expect(200);
    expect(unchanged.body.jwks).toEqual({ keys: [system.key.publicJwk] });
    expect(unchanged.body.scope).toBe('system/Patient.rs');
    await clientCredentials(system.key, system.clientId).expect(200);
    expect(subtypes(await adminEventsAbout(ADMIN_ENTITY_SYSTEMS.client, system.clientId))).toEqual(['client-register']);
  });

  test('a public app takes new redirect URIs and scope but no keys; an unknown client is 404', async () => {
    const res = await request(t.app)
      .patch(`/admin/clients/${appClientId}`)
      .set('Authorization', admin())
      .send({ redirect_uris: [REDIRECT_URI, 'https://app.example/other'], scope: APP_SCOPE })
      .expect(200);
    expect(res.body.redirect_uris).toEqual([REDIRECT_URI, 'https://app.example/other']);
    const keys = await request(t.app).patch(`/admin/clients/${appClientId}`).set('Authorization', admin()).send({ jwks: { keys: [publicJwk('k')] } }).expect(400);
    expect(keys.body.issue[0].details.text).toContain('jwks');
    await request(t.app).patch('/admin/clients/no-such-client').set('Authorization', admin()).send({ name: 'x' }).expect(404);
    await request(t.app).post('/admin/clients/no-such-client/enable').set('Authorization', admin()).expect(404);
  });

  test('a narrowed scope ends the sessions granted under the old one (refresh tokens revoked)', async () => {
    const app = (
      await request(t.app)
        .post('/admin/clients')
        .set('Authorization', admin())
        .send({ name: 'Narrowed app', redirect_uris: [REDIRECT_URI], scope: APP_SCOPE })
        .expect(201)
    ).body.client_id as string;
    const username = `narrow-${randomBytes(4).toString('hex')}`;
    await request(t.app).post('/admin/users').set('Authorization', admin()).send({ username, password: 'a long enough password', fhirUser: practitioner, organization: clinic }).expect(201);
    const saved = appClientId;
    appClientId = app;
    try {
      const session = await signIn(username, 'a long enough password');
      expect(session?.refresh_token).toBeDefined();
      await request(t.app).patch(`/admin/clients/${app}`).set('Authorization', admin()).send({ scope: 'user/Patient.rs offline_access' }).expect(200);
      const refresh = await request(t.app)
        .post('/oauth2/token')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: session?.refresh_token, client_id: app })
        .expect(400);
      expect(refresh.body.error).toBe('invalid_grant');
    } finally {
      appClientId = saved;
    }
  });

  test('disabling and enabling a client: it gets tokens again, but a token from before the disabling stays refused', async () => {
    const system = await registerSystemClient(t, clinic, 'system/Patient.rs');
    const old = await system.token();
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${old}`).expect(200);
    await nextSecond();
    await request(t.app).post(`/admin/clients/${system.clientId}/disable`).set('Authorization', admin()).expect(200);
    await clientCredentials(system.key, system.clientId).expect(401);
    const enabled = await request(t.app).post(`/admin/clients/${system.clientId}/enable`).set('Authorization', admin()).expect(200);
    expect(enabled.body.disabled).toBe(false);
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${old}`).expect(401);
    const fresh = await system.token();
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${fresh}`).expect(200);
    // Enabling an enabled client changes nothing: the fresh token keeps working.
    await request(t.app).post(`/admin/clients/${system.clientId}/enable`).set('Authorization', admin()).expect(200);
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${fresh}`).expect(200);
    expect(subtypes(await adminEventsAbout(ADMIN_ENTITY_SYSTEMS.client, system.clientId))).toEqual([
      'client-disable',
      'client-enable',
      'client-enable',
      'client-register',
    ]);
  });

  test('a password reset takes the new password, refuses the old, and ends every session of the user', async () => {
    const { id, username } = await createPractitionerUser('the first long password');
    const session = await signIn(username, 'the first long password');
    expect(session?.refresh_token).toBeDefined();
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${session?.access_token}`).expect(200);
    await nextSecond();
    const res = await request(t.app)
      .post(`/admin/users/${id}/password`)
      .set('Authorization', admin())
      .send({ password: 'the second long password' })
      .expect(200);
    expect(res.body).toMatchObject({ id, username, disabled: false });
    expect(JSON.stringify(res.body)).not.toMatch(/second long|scrypt|password/);
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${session?.access_token}`).expect(401);
    const refresh = await request(t.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: session?.refresh_token, client_id: appClientId })
      .expect(400);
    expect(refresh.body.error).toBe('invalid_grant');
    expect(await signIn(username, 'the first long password')).toBeUndefined();
    const again = await signIn(username, 'the second long password');
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${again?.access_token}`).expect(200);
    const events = await adminEventsAbout(ADMIN_ENTITY_SYSTEMS.user, id);
    expect(subtypes(events)).toEqual(['user-create', 'user-password-reset']);
    expect(JSON.stringify(events)).not.toMatch(/long password|scrypt|dr-/);
  });

  test.each<[string, () => unknown, string]>([
    ['a short password', () => ({ password: 'elevenchars' }), 'password'],
    ['an over-long password', () => ({ password: 'x'.repeat(257) }), 'password'],
    ['no password', () => ({}), 'password'],
    ['another field', () => ({ password: 'a long enough password', username: 'other' }), 'username'],
    ['a password with NUL', () => ({ password: 'a long enough password\u0000' }), 'password'],
  ])('refuses a password reset with %s (400 naming the field, never echoing it), changing nothing', async (_name, body, field) => {
    const { id, username } = await createPractitionerUser('the unchanged password');
    const res = await request(t.app).post(`/admin/users/${id}/password`).set('Authorization', admin()).send(body() as object).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.text).toContain(field);
    expect(JSON.stringify(res.body)).not.toContain('elevenchars');
    expect(JSON.stringify(res.body)).not.toContain('xxxxxxxx');
    expect(await signIn(username, 'the unchanged password')).toBeDefined();
    expect(subtypes(await adminEventsAbout(ADMIN_ENTITY_SYSTEMS.user, id))).toEqual(['user-create']);
  });

  test('an unknown user is 404 for a password reset and enabling', async () => {
    await request(t.app).post('/admin/users/no-such-user/password').set('Authorization', admin()).send({ password: 'a long enough password' }).expect(404);
    await request(t.app).post('/admin/users/no-such-user/enable').set('Authorization', admin()).expect(404);
  });

  test('disabling and enabling a user: sign-in works again, tokens from before stay refused', async () => {
    const { id, username } = await createPractitionerUser('a long enough password');
    const session = await signIn(username, 'a long enough password');
    await nextSecond();
    await request(t.app).post(`/admin/users/${id}/disable`).set('Authorization', admin()).expect(200);
    expect(await signIn(username, 'a long enough password')).toBeUndefined();
    const enabled = await request(t.app).post(`/admin/users/${id}/enable`).set('Authorization', admin()).expect(200);
    expect(enabled.body.disabled).toBe(false);
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${session?.access_token}`).expect(401);
    const again = await signIn(username, 'a long enough password');
    await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${again?.access_token}`).expect(200);
    expect(subtypes(await adminEventsAbout(ADMIN_ENTITY_SYSTEMS.user, id))).toEqual(['user-create', 'user-disable', 'user-enable']);
  });

  test('every admin change is one AuditEvent by the operator, about ids only, in no client\'s compartment', async () => {
    const rotated = await request(t.app).post('/admin/signing-keys/rotate').set('Authorization', admin()).set('X-Request-Id', 'rotate-audit-check').expect(201);
    const [rotation] = await adminEventsAbout(ADMIN_ENTITY_SYSTEMS.signingKey, rotated.body.kid);
    expect(rotation).toMatchObject({
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110100' },
      subtype: [{ system: ADMIN_ACTION_SYSTEM, code: 'signing-key-rotate' }],
      action: 'C',
      outcome: '0',
      agent: [{ who: { identifier: { system: 'https://carecircle.dev/fhir/operator', value: 'admin' } }, requestor: true }],
      source: { site: 'rotate-audit-check' },
    });
    // Every other kind of change, once, and a client (Patient) user whose events must not join the client's record.
    const system = await registerSystemClient(t, clinic, 'system/Patient.rs');
    const clientAdmin = (path: string, body?: object) => request(t.app).post(path).set('Authorization', admin()).send(body);
    await request(t.app).patch(`/admin/clients/${system.clientId}`).set('Authorization', admin()).send({ name: 'Renamed' }).expect(200);
    await clientAdmin(`/admin/clients/${system.clientId}/disable`).expect(200);
    await clientAdmin(`/admin/clients/${system.clientId}/enable`).expect(200);
    const clientUser = await clientAdmin('/admin/users', {
      username: `client-${randomBytes(4).toString('hex')}`,
      password: 'a long enough password',
      fhirUser: patient,
    }).expect(201);
    const userId = clientUser.body.id as string;
    await clientAdmin(`/admin/users/${userId}/password`, { password: 'another long password' }).expect(200);
    await clientAdmin(`/admin/users/${userId}/disable`).expect(200);
    await clientAdmin(`/admin/users/${userId}/enable`).expect(200);
    const { rows } = await t.services.db.query<{ compartments: string[]; content: AuditEvent }>(sql`
      SELECT compartments, content FROM resource_version
      WHERE resource_type = 'AuditEvent' AND content -> 'subtype' -> 0 ->> 'system' = ${ADMIN_ACTION_SYSTEM}`);
    expect(new Set(rows.map((row) => row.content.subtype?.[0]?.code))).toEqual(
      new Set([
        'signing-key-rotate',
        'client-register',
        'client-update',
        'client-disable',
        'client-enable',
        'user-create',
        'user-password-reset',
        'user-disable',
        'user-enable',
      ]),
    );
    for (const row of rows) {
      expect(row.compartments).toEqual([]);
      expect(JSON.stringify(row.content)).not.toMatch(/Patient\/|long enough password|another long password|scrypt/);
      expect(JSON.stringify(row.content)).not.toContain(clientUser.body.username);
    }
    // The client's own accounting of disclosures, and the operator's listing by patient, hold no admin events.
    const patientId = patient.slice('Patient/'.length);
    const ownSession = await signIn(clientUser.body.username, 'another long password', 'patient/AuditEvent.rs');
    expect(ownSession).toBeDefined();
    for (const authorization of [`Bearer ${ownSession?.access_token}`, admin()]) {
      const listed = await request(t.app).get(`/fhir/R4/AuditEvent?patient=${patientId}&_count=100`).set('Authorization', authorization).expect(200);
      const codes = ((listed.body as Bundle<AuditEvent>).entry ?? []).map((e) => e.resource?.subtype?.[0]?.system);
      expect(codes).not.toContain(ADMIN_ACTION_SYSTEM);
    }
    const everything = await request(t.app).get('/fhir/R4/AuditEvent?_count=100').set('Authorization', `Bearer ${ownSession?.access_token}`).expect(200);
    expect(JSON.stringify(everything.body)).not.toContain(ADMIN_ACTION_SYSTEM);
  });
});

describe('admin API: dead letters (see test/e2e/dead-letter-replay.test.ts for replays reaching a receiver)', () => {
  let t: AuthTestApp;
  beforeAll(async () => {
    t = await openAuthTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  test('an empty dead-letter queue lists as such; bad parameters are 400 naming them; unknown dead letters are 404, audited nowhere', async () => {
    const admin = `Bearer ${t.services.config.adminToken}`;
    const empty = await request(t.app).get('/admin/dead-letters').set('Authorization', admin).expect(200);
    expect(empty.body).toEqual({ total: 0, offset: 0, count: 50, deadLetters: [] });
    for (const [query, name] of [['?count=abc', 'count'], ['?offset=1.5', 'offset'], ['?page=2', 'page']] as const) {
      const res = await request(t.app).get(`/admin/dead-letters${query}`).set('Authorization', admin).expect(400);
      expect(res.body.issue[0].details.text).toContain(name);
    }
    for (const id of ['sub-1_1', 'nope', 'sub-1_01']) {
      const res = await request(t.app).post(`/admin/dead-letters/${id}/replay`).set('Authorization', admin).expect(404);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const { rows } = await t.services.db.query(sql`SELECT 1 FROM resource_version WHERE resource_type = 'AuditEvent'`);
    expect(rows).toEqual([]);
  });

  test('without Redis, listing and replaying are 503 OperationOutcomes, and nothing is audited', async () => {
    const admin = `Bearer ${t.services.config.adminToken}`;
    // As appWithoutRedis builds it (a Redis client whose server is gone), with a registry of its own for the app's metrics.
    const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, connectTimeout: 200, maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    const down = { app: createApp({ ...t.services, redis, metrics: new Registry() }), disconnect: () => redis.disconnect() };
    try {
      const listed = await request(down.app).get('/admin/dead-letters').set('Authorization', admin).expect(503);
      expect(listed.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
      const replayed = await request(down.app).post('/admin/dead-letters/sub-1_1/replay').set('Authorization', admin).expect(503);
      expect(replayed.body.resourceType).toBe('OperationOutcome');
    } finally {
      down.disconnect();
    }
    const { rows } = await t.services.db.query(sql`SELECT 1 FROM resource_version WHERE resource_type = 'AuditEvent'`);
    expect(rows).toEqual([]);
  });
});
