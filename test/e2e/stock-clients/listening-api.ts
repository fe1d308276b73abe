/**
 * The API listening on a loopback port, as stock FHIR clients need it: they speak HTTP to a base URL and follow the
 * absolute `next` links the server writes, so BASE_URL is the address it really listens on. A practice's system
 * client (SMART Backend Services, `system/*.cruds`) and its token are what each client is configured with.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { createTestApp, fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { buildOrganization } from '@carecircle/testing';
import type { Organization } from '@medplum/fhirtypes';

export interface ListeningApi {
  t: TestApp;
  /** `http://127.0.0.1:{port}` */
  origin: string;
  /** `${origin}/fhir/R4` */
  fhirBase: string;
  /** `Organization/{id}`: the practice the token is for. */
  practice: string;
  /** A bearer token of the practice's system client. */
  token: string;
  close(): Promise<void>;
}

/** A free loopback port (asked of the OS, then released for the API to take). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('no port');
  }
  return address.port;
}

/** Starts the API on a new database, listening on loopback, with a practice and its system token. */
export async function startListeningApi(): Promise<ListeningApi> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ BASE_URL: origin });
  const server: Server = await new Promise((resolve) => {
    const s = t.app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const organization = (await fhirClient(t, t.adminToken).post('Organization', buildOrganization({ name: 'Riverside Therapy' }))).body as Organization;
  const practice = `Organization/${organization.id}`;
  const token = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  return {
    t,
    origin,
    fhirBase: t.services.config.fhirBaseUrl,
    practice,
    token,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}
