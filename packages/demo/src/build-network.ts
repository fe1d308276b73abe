/**
 * Makes the demo care network through the public API, as the operator would by hand: FHIR resources with the admin
 * token (conditional creates on their demo identifiers; the practice's affiliations with its partner clinics too), sign-ins and partner systems through the admin API. Running
 * it again finds everything it made and makes nothing twice; a sign-in or key it no longer has (a deleted data
 * directory) is reset through the admin API rather than registered again.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { carecircleApi, type CareCircleApi } from './carecircle-api';
import {
  APP_NAME,
  APP_REDIRECT_URI,
  APP_SCOPE,
  chartOf,
  CLIENTS,
  DEMO_SYSTEM,
  demoIdentifier,
  PARTNER_SYSTEMS,
  partnerAffiliation,
  PARTNERS,
  PRACTICE_NAME,
  referral,
  sharingConsent,
  THERAPIST,
  type PartnerSystem,
  type Person,
} from './care-network';
import { readDemoState, readPartnerKey, writeDemoState, writePartnerKey, type DemoState, type PartnerState, type PersonState } from './demo-state';
import type { ToolConfig } from './tool-config';

/** When the demo practice began working with its partner clinics (a fixed date, so a second run finds the same). */
const AFFILIATED_SINCE = '2023-01-01';

interface AdminUser {
  id: string;
  username: string;
  fhirUser: string;
  disabled: boolean;
}

interface AdminClient {
  client_id: string;
  name: string;
  kind: 'system' | 'public' | 'confidential';
  disabled: boolean;
}

/** Creates (or finds) the whole network and returns what the tools need to act as each of its members. */
export async function buildCareNetwork(config: ToolConfig): Promise<DemoState> {
  const api = carecircleApi(config.baseUrl, config.adminToken);
  const kept = readDemoState(config.demoDir);
  const ensure = (key: string, resource: Resource) => ensureResource(api, key, resource);

  const practice = await ensure('practice', { resourceType: 'Organization', name: PRACTICE_NAME, active: true });
  const therapist = await ensure('therapist', {
    resourceType: 'Practitioner',
    name: [{ prefix: [THERAPIST.prefix], given: [THERAPIST.given], family: THERAPIST.family }],
    qualification: [{ code: { text: 'Licensed marriage and family therapist; certified sex therapist' } }],
  });
  await ensure('therapist-role', {
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { reference: `Practitioner/${therapist}` },
    organization: { reference: `Organization/${practice}` },
    code: [{ text: 'Sex therapist' }],
  });

  const patients = {} as Record<keyof typeof CLIENTS, string>;
  for (const [key, client] of Object.entries(CLIENTS) as Array<[keyof typeof CLIENTS, (typeof CLIENTS)[keyof typeof CLIENTS]]>) {
    patients[key] = await ensure(key, {
      resourceType: 'Patient',
      name: [{ given: [client.given], family: client.family }],
      birthDate: client.birthDate,
      gender: client.gender,
      managingOrganization: { reference: `Organization/${practice}` },
    });
    for (const item of chartOf(key, { patient: patients[key], therapist })) {
      await ensure(item.key, item.resource);
    }
  }

  const partnerOrganizations = {} as Record<PartnerSystem, string>;
  for (const partner of PARTNER_SYSTEMS) {
    partnerOrganizations[partner] = await ensure(partner, { resourceType: 'Organization', name: PARTNERS[partner].name, active: true });
    await ensure(`${partner}-affiliation`, partnerAffiliation(practice, partnerOrganizations[partner], partner, AFFILIATED_SINCE));
  }

  const users = ((await api.get<{ users: AdminUser[] }>('/admin/users')).body.users ?? []).filter((u) => !u.disabled);
  const person = (username: Person, fhirUser: string, organization?: string) =>
    ensureUser(api, users, kept?.people[username], { username, fhirUser, ...(organization && { organization }) });
  const people: Record<Person, PersonState> = {
    therapist: await person('therapist', `Practitioner/${therapist}`, `Organization/${practice}`),
    alex: await person('alex', `Patient/${patients.alex}`),
    jordan: await person('jordan', `Patient/${patients.jordan}`),
  };

  const clients = ((await api.get<{ clients: AdminClient[] }>('/admin/clients')).body.clients ?? []).filter((c) => !c.disabled);
  const appClientId =
    clients.find((c) => c.kind === 'public' && c.name === APP_NAME)?.client_id ??
    (await api.post<{ client_id: string }>('/admin/clients', { name: APP_NAME, redirect_uris: [APP_REDIRECT_URI], scope: APP_SCOPE })).body
      .client_id;
  const partners = {} as Record<PartnerSystem, PartnerState>;
  for (const partner of PARTNER_SYSTEMS) {
    partners[partner] = await ensurePartnerSystem(api, config.demoDir, clients, partner, partnerOrganizations[partner]);
  }

  // Alex already shares with the OB-GYN; Jordan shares with the OB-GYN and is referred there. (The README's story
  // adds Alex's sharing with, and referral to, the pelvic-floor PT clinic.)
  const obgyn = `Organization/${partnerOrganizations.obgyn}`;
  await ensure('alex-consent-obgyn', sharingConsent('alex-consent-obgyn', patients.alex, practice, obgyn, ['treatment-goals', 'mental-health', 'medications']));
  await ensure(
    'jordan-consent-obgyn',
    sharingConsent('jordan-consent-obgyn', patients.jordan, practice, obgyn, ['presenting-concerns', 'treatment-goals', 'relationship-context', 'care-plan']),
  );
  await ensure('jordan-referral-obgyn', referral('jordan-referral-obgyn', patients.jordan, therapist, obgyn, 'Evaluation of low desire: hormonal and medication causes'));

  const state: DemoState = { baseUrl: config.baseUrl, practice, people, partners, appClientId };
  writeDemoState(config.demoDir, state);
  return state;
}

/** The id of the resource with demo identifier `key`, created (as `resource`) when there is none. */
async function ensureResource(api: CareCircleApi, key: string, resource: Resource): Promise<string> {
  const identified = { ...resource, identifier: [demoIdentifier(key)] } as Resource;
  const { body } = await api.post<Resource>(`/fhir/R4/${resource.resourceType}`, identified, {
    headers: { 'If-None-Exist': `identifier=${encodeURIComponent(`${DEMO_SYSTEM}|${key}`)}` },
  });
  if (!body.id) {
    throw new Error(`${resource.resourceType} ${key} came back without an id`);
  }
  return body.id;
}

/** A sign-in for `user`: kept, found (its password reset when the demo no longer knows it) or created. */
async function ensureUser(
  api: CareCircleApi,
  users: readonly AdminUser[],
  kept: PersonState | undefined,
  user: { username: string; fhirUser: string; organization?: string },
): Promise<PersonState> {
  const existing = users.find((u) => u.username === user.username);
  if (existing && kept && existing.fhirUser === kept.fhirUser) {
    return kept;
  }
  const password = randomBytes(12).toString('base64url');
  if (existing) {
    await api.post(`/admin/users/${existing.id}/password`, { password });
    return { fhirUser: existing.fhirUser, username: user.username, password };
  }
  await api.post('/admin/users', { ...user, password });
  return { fhirUser: user.fhirUser, username: user.username, password };
}

/**
 * A partner clinic's backend-services client: its key pair is made once and kept in the data directory (the
 * private key never leaves it; the server gets the public JWK). A registered system whose key the demo lost gets a
 * new one through the admin API (key rotation keeps its client_id).
 */
async function ensurePartnerSystem(
  api: CareCircleApi,
  demoDir: string,
  clients: readonly AdminClient[],
  partner: PartnerSystem,
  organization: string,
): Promise<PartnerState> {
  let pem = readPartnerKey(demoDir, partner);
  const fresh = pem === undefined;
  if (pem === undefined) {
    pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    writePartnerKey(demoDir, partner, pem);
  }
  const { jwk, kid } = publicJwkOf(pem);
  const jwks = { keys: [jwk] };
  const { systemName, scope } = PARTNERS[partner];
  const existing = clients.find((c) => c.kind === 'system' && c.name === systemName);
  if (existing) {
    if (fresh) {
      await api.patch(`/admin/clients/${existing.client_id}`, { jwks });
    }
    return { organization, clientId: existing.client_id, kid };
  }
  const { body } = await api.post<{ client_id: string }>('/admin/clients', { name: systemName, organization: `Organization/${organization}`, jwks, scope });
  return { organization, clientId: body.client_id, kid };
}

/** The public JWK of a PKCS #8 RSA private key, with a key id derived from the key itself (RFC 7638 thumbprint). */
export function publicJwkOf(pem: string): { jwk: Record<string, unknown>; kid: string } {
  const publicJwk = createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' });
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ e: publicJwk.e, kty: publicJwk.kty, n: publicJwk.n }))
    .digest('base64url');
  return { jwk: { ...publicJwk, kid: thumbprint, alg: 'RS384', use: 'sig' }, kid: thumbprint };
}
