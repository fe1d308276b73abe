/**
 * What the demo made and needs again, kept in the server's data directory (never in the repository): ids, the demo
 * sign-ins, and the partner systems' private keys. Files are written with mode 0600.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PartnerSystem, Person } from './care-network';

export interface PersonState {
  /** `Practitioner/x` or `Patient/x` */
  fhirUser: string;
  username: string;
  password: string;
}

export interface PartnerState {
  organization: string;
  clientId: string;
  kid: string;
}

export interface DemoState {
  baseUrl: string;
  practice: string;
  people: Record<Person, PersonState>;
  partners: Record<PartnerSystem, PartnerState>;
  appClientId: string;
}

const STATE_FILE = 'network.json';

/** The state the demo left in `demoDir`, if any. */
export function readDemoState(demoDir: string): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(join(demoDir, STATE_FILE), 'utf8')) as DemoState;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      return undefined;
    }
    throw err;
  }
}

/** Keeps `state` in `demoDir`. */
export function writeDemoState(demoDir: string, state: DemoState): void {
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(demoDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Where a partner system's private key (PKCS #8 PEM) is kept. */
export function partnerKeyFile(demoDir: string, partner: PartnerSystem): string {
  return join(demoDir, 'keys', `${partner}.pem`);
}

/** Reads a kept private key, if there is one. */
export function readPartnerKey(demoDir: string, partner: PartnerSystem): string | undefined {
  try {
    return readFileSync(partnerKeyFile(demoDir, partner), 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      return undefined;
    }
    throw err;
  }
}

/** Keeps a private key. */
export function writePartnerKey(demoDir: string, partner: PartnerSystem, pem: string): void {
  mkdirSync(join(demoDir, 'keys'), { recursive: true, mode: 0o700 });
  writeFileSync(partnerKeyFile(demoDir, partner), pem, { mode: 0o600 });
}
