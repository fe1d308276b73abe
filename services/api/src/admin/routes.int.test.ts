import { generateKeyPairSync } from 'node:crypto';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import request from 'supertest';
import { openAuthTestApp, type AuthTestApp } from '../oauth/auth-test-app';
import { createAsAdmin, registerSystemClient } from '../smart-test-clients';

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
