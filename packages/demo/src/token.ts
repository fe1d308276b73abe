/**
 * `npm run -s token -- <who>`: prints a fresh access token for a member of the demo care network (`therapist`,
 * `alex`, `jordan`, `obgyn`, `pelvic-pt`), obtained the way that member's software would. `--json` prints the whole
 * token response (scope, expiry, the client's `patient`).
 */
import { PARTNER_SYSTEMS, PEOPLE, type PartnerSystem, type Person } from './care-network';
import { readDemoState } from './demo-state';
import { partnerSystemToken, personToken } from './sign-in';
import { loadToolConfig } from './tool-config';

const MEMBERS: readonly string[] = [...PEOPLE, ...PARTNER_SYSTEMS];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const who = args.find((a) => !a.startsWith('--'));
  if (!who || !MEMBERS.includes(who) || args.some((a) => a.startsWith('--') && a !== '--json')) {
    process.stderr.write(`usage: npm run -s token -- <${MEMBERS.join('|')}> [--json]\n`);
    process.exit(2);
  }
  const config = loadToolConfig();
  const state = readDemoState(config.demoDir);
  if (!state) {
    throw new Error(`no demo care network in ${config.demoDir}: run \`npm run demo\` first`);
  }
  const response = (PEOPLE as readonly string[]).includes(who)
    ? await personToken(config, state, who as Person)
    : await partnerSystemToken(config, state, who as PartnerSystem);
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(response, null, 2)}\n` : `${response.access_token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`npm run token: ${(err as Error).message}\n`);
  process.exit(1);
});
