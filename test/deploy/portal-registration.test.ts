/**
 * deploy/README.md tells the operator which scope to register the portal with (and to patch an older registration
 * to). A registration lacking an area's scopes refuses that area's sign-ins (the API grants a practitioner none of
 * the registration's scopes: invalid_scope), so the scope the page gives must be exactly the one the portal
 * registers itself with in development, `PORTAL_SCOPE`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PORTAL_APP_NAME, PORTAL_SCOPE } from '@carecircle/portal';

const README = readFileSync(join(__dirname, '..', '..', 'deploy', 'README.md'), 'utf8');

/** The `"scope": "..."` values the page gives, in order. */
function scopesGiven(text: string): string[] {
  return [...text.matchAll(/"scope":\s*"([^"]*)"/g)].map((m) => m[1] ?? '');
}

test("deploy/README.md registers the portal, and updates an older registration, with the portal's whole scope", () => {
  const section = README.slice(README.indexOf("## The portal's registration"), README.indexOf('\n## ', README.indexOf("## The portal's registration") + 1));
  expect(section).toContain(`"name": "${PORTAL_APP_NAME}"`);
  const given = scopesGiven(section);
  // The registration (POST /admin/clients) and the update of one made before the practice area (PATCH).
  expect(given).toHaveLength(2);
  for (const scope of given) {
    expect(scope.split(' ').sort()).toEqual(PORTAL_SCOPE.split(' ').sort());
  }
});

test('the check reads what the page says (a scope without the practice area is told apart)', () => {
  const clientOnly = '"scope": "online_access fhirUser patient/*.rs patient/Consent.cru"';
  const [scope] = scopesGiven(clientOnly);
  expect(scope?.split(' ').sort()).not.toEqual(PORTAL_SCOPE.split(' ').sort());
});
