/**
 * `npm run demo`: makes (or finds) the demo care network on the running server and says how to act as each of its
 * members. `npm run -s demo -- --env` prints shell `export` lines of its ids instead, for `eval "$(...)"`.
 */
import { buildCareNetwork } from './build-network';
import { CLIENTS, PARTNERS, PRACTICE_NAME, THERAPIST, type PartnerSystem } from './care-network';
import type { DemoState } from './demo-state';
import { loadToolConfig } from './tool-config';

const ENV_NAMES: Record<PartnerSystem, string> = { obgyn: 'OBGYN', 'pelvic-pt': 'PELVIC_PT' };

function idOf(reference: string): string {
  return reference.slice(reference.indexOf('/') + 1);
}

function shellExports(state: DemoState, fhirBaseUrl: string): string {
  const ids: Array<[string, string]> = [
    ['PRACTICE', state.practice],
    ['THERAPIST', idOf(state.people.therapist.fhirUser)],
    ['ALEX', idOf(state.people.alex.fhirUser)],
    ['JORDAN', idOf(state.people.jordan.fhirUser)],
    ...Object.entries(state.partners).map(([key, partner]): [string, string] => [ENV_NAMES[key as PartnerSystem], partner.organization]),
  ];
  return [`export CC=${fhirBaseUrl}`, ...ids.map(([name, id]) => `export ${name}=${id}`), ''].join('\n');
}

function summary(state: DemoState, fhirBaseUrl: string, demoDir: string): string {
  const person = (label: string, who: 'therapist' | 'alex' | 'jordan') => {
    const { fhirUser, username, password } = state.people[who];
    return `  ${label.padEnd(24)} ${fhirUser.padEnd(48)} sign in: ${username} / ${password}\n${' '.repeat(27)}token: npm run -s token -- ${who}`;
  };
  const partner = (key: PartnerSystem) =>
    `  ${PARTNERS[key].name}\n${' '.repeat(27)}Organization/${state.partners[key].organization}, client_id ${state.partners[key].clientId}\n` +
    `${' '.repeat(27)}token: npm run -s token -- ${key}`;
  return [
    `The demo care network is ready at ${fhirBaseUrl}`,
    '',
    `${PRACTICE_NAME} (Organization/${state.practice})`,
    person(`${THERAPIST.prefix} ${THERAPIST.given} ${THERAPIST.family}`, 'therapist'),
    '',
    "Clients (charts across the share categories; Alex's also holds a psychotherapy note, which never leaves the practice)",
    person(`${CLIENTS.alex.given} ${CLIENTS.alex.family}`, 'alex'),
    person(`${CLIENTS.jordan.given} ${CLIENTS.jordan.family}`, 'jordan'),
    `  Clients manage their sharing in a browser: ${fhirBaseUrl.replace(/\/fhir\/R4$/, '')}/portal/ (sign in as Alex or Jordan above)`,
    '',
    `Partner clinics (SMART Backend Services; their private keys are in ${demoDir}/keys)`,
    partner('obgyn'),
    partner('pelvic-pt'),
    '',
    'Already in place: Alex shares treatment goals, mental health and medications with the OB-GYN clinic; Jordan shares',
    'presenting concerns, goals, relationship context and care plans with it, and is referred there (a Task awaits it).',
    '',
    'Tokens print on their own, for use in a shell: TOKEN=$(npm run -s token -- alex)',
    'The ids as shell variables (CC, PRACTICE, THERAPIST, ALEX, JORDAN, OBGYN, PELVIC_PT): eval "$(npm run -s demo -- --env)"',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.some((a) => a !== '--env')) {
    process.stderr.write('usage: npm run demo [-- --env]\n');
    process.exit(2);
  }
  const config = loadToolConfig();
  const state = await buildCareNetwork(config);
  process.stdout.write(args.includes('--env') ? shellExports(state, config.fhirBaseUrl) : summary(state, config.fhirBaseUrl, config.demoDir));
}

main().catch((err: unknown) => {
  process.stderr.write(`npm run demo: ${(err as Error).message}\n`);
  process.exit(1);
});
