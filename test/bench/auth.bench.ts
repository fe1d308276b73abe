/**
 * What authenticating a request costs: verifying one of our access tokens (signature, algorithm pinned to its key,
 * issuer, audience, expiry, claims) beside the bare signature check of the same token with node:crypto, for the RS384
 * keys we sign with and for an ES384 key (the earlier generation, still verified until retired). Every FHIR request
 * verifies a token, few sign one, which is why our keys are RSA. Then the whole bearer authentication a FHIR request
 * runs (the token, and PostgreSQL asked whether its client and user are enabled and, for a user token, whether its
 * sign-in session was revoked: one primary-key lookup beside the other, in parallel), for a user token with and
 * without a session id.
 *
 *   npm run bench   (needs PostgreSQL and Redis like the tests)
 */
import { createPublicKey, generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto';
import { authenticateBearer, issueAccessToken, publishedJwks, verifyAccessToken, type AccessTokenSubject } from '@carecircle/auth';
import { createTestApp } from '@carecircle/api/testing';
import { sql } from '@carecircle/store';
import jwt from 'jsonwebtoken';

const VERIFICATIONS = 3000;

async function perSecond(ops: number, op: () => Promise<unknown> | unknown): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    await op();
  }
  return ops / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** The bare signature check of a compact JWS, as a baseline: no parsing of claims, no key lookup. */
function rawVerify(token: string, alg: 'RS384' | 'ES384', key: KeyObject): boolean {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  return alg === 'RS384' ? verify('sha384', data, key, sig) : verify('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
}

async function main(): Promise<void> {
  const t = await createTestApp({ LOG_LEVEL: 'silent' });
  const deps = { db: t.services.db, config: t.services.config };
  const subject: AccessTokenSubject = { sub: 'bench', client_id: 'bench', scope: 'system/*.rs', organization: 'Organization/bench' };
  try {
    const { accessToken } = await issueAccessToken(deps, subject, 300);
    const jwk = (await publishedJwks(deps)).keys[0];
    const rsaPublic = createPublicKey({ key: jwk as never, format: 'jwk' });

    // An ES384 key as the earlier generation left it: retired, still verifying what it signed.
    const legacy = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const kid = `bench-es384-${randomUUID()}`;
    await t.services.db.query(sql`
      INSERT INTO auth_signing_key (kid, alg, private_key, public_jwk, retired_at)
      VALUES (${kid}, 'ES384', ${legacy.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()},
              ${JSON.stringify({ ...legacy.publicKey.export({ format: 'jwk' }), kid, alg: 'ES384', use: 'sig' })}::jsonb, now())`);
    const now = Math.floor(Date.now() / 1000);
    const esToken = jwt.sign(
      { ...subject, jti: randomUUID(), iat: now, exp: now + 300, iss: t.services.config.baseUrl, aud: t.services.config.fhirBaseUrl },
      legacy.privateKey,
      { algorithm: 'ES384', keyid: kid },
    );
    await verifyAccessToken(deps, esToken); // warms the key cache with the new kid

    const rows: [string, number, number][] = [
      [
        'RS384 (our keys)',
        await perSecond(VERIFICATIONS, () => verifyAccessToken(deps, accessToken)),
        await perSecond(VERIFICATIONS, () => rawVerify(accessToken, 'RS384', rsaPublic)),
      ],
      [
        'ES384 (earlier keys)',
        await perSecond(VERIFICATIONS / 3, () => verifyAccessToken(deps, esToken)),
        await perSecond(VERIFICATIONS / 3, () => rawVerify(esToken, 'ES384', legacy.publicKey)),
      ],
    ];
    process.stdout.write('Access-token verification, one at a time on one core\n\n');
    process.stdout.write('| key | verifyAccessToken /s | µs each | raw signature check /s | CareCircle / raw |\n|---|---|---|---|---|\n');
    for (const [name, ours, raw] of rows) {
      process.stdout.write(`| ${name} | ${ours.toFixed(0)} | ${(1e6 / ours).toFixed(0)} | ${raw.toFixed(0)} | ${(ours / raw).toFixed(2)} |\n`);
    }

    // A registered app and user, so the per-request checks find them enabled.
    const admin = `Bearer ${t.adminToken}`;
    const organization = await t.http.post('/fhir/R4/Organization').set('Authorization', admin).set('Content-Type', 'application/fhir+json').send({ resourceType: 'Organization', name: 'Bench practice' });
    const practitioner = await t.http.post('/fhir/R4/Practitioner').set('Authorization', admin).set('Content-Type', 'application/fhir+json').send({ resourceType: 'Practitioner' });
    const app = await t.http.post('/admin/clients').set('Authorization', admin).send({ name: 'Bench app', redirect_uris: ['https://app.example/cb'], scope: 'user/*.rs' });
    const user = await t.http
      .post('/admin/users')
      .set('Authorization', admin)
      .send({ username: `bench-${randomUUID().slice(0, 8)}`, password: 'a long bench password', fhirUser: `Practitioner/${practitioner.body.id}`, organization: `Organization/${organization.body.id}` });
    const userSubject: AccessTokenSubject = {
      sub: user.body.id,
      client_id: app.body.client_id,
      scope: 'user/*.rs',
      fhirUser: `Practitioner/${practitioner.body.id}`,
      organization: `Organization/${organization.body.id}`,
    };
    const withoutSession = `Bearer ${(await issueAccessToken(deps, userSubject, 300)).accessToken}`;
    const withSession = `Bearer ${(await issueAccessToken(deps, { ...userSubject, sid: randomUUID() }, 300)).accessToken}`;
    await authenticateBearer(deps, withSession);
    const bearer: [string, number][] = [
      ['user token without sid (client and user checks)', await perSecond(VERIFICATIONS, () => authenticateBearer(deps, withoutSession))],
      ['user token with sid (and the session check)', await perSecond(VERIFICATIONS, () => authenticateBearer(deps, withSession))],
    ];
    process.stdout.write('\nBearer authentication of a FHIR request (token + PostgreSQL checks), one at a time\n\n');
    process.stdout.write('| token | authenticateBearer /s | µs each |\n|---|---|---|\n');
    for (const [name, perSec] of bearer) {
      process.stdout.write(`| ${name} | ${perSec.toFixed(0)} | ${(1e6 / perSec).toFixed(0)} |\n`);
    }
  } finally {
    await t.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
