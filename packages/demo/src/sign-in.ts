/**
 * Tokens for the demo's members, obtained exactly as their software would: a partner clinic's system with a signed
 * client assertion (SMART Backend Services, its key kept in the data directory), the therapist and the clients through
 * the sign-in form with authorization code and PKCE (the form is fetched and posted back with everything it holds,
 * as a browser would, then the code is redeemed).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { APP_REDIRECT_URI, CLIENT_SCOPE, PARTNERS, THERAPIST_SCOPE, type PartnerSystem, type Person } from './care-network';
import { ApiError } from './carecircle-api';
import { readPartnerKey, type DemoState } from './demo-state';
import type { ToolConfig } from './tool-config';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  patient?: string;
  refresh_token?: string;
}

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A fresh access token for a partner clinic's EHR system (5 minutes, no refresh token). */
export async function partnerSystemToken(config: ToolConfig, state: DemoState, partner: PartnerSystem): Promise<TokenResponse> {
  const { clientId, kid } = state.partners[partner];
  const key = readPartnerKey(config.demoDir, partner);
  if (!key) {
    throw new Error(`The demo's key for ${partner} is missing from ${config.demoDir}: run \`npm run demo\` again`);
  }
  const now = Math.floor(Date.now() / 1000);
  const assertion = jwt.sign(
    { iss: clientId, sub: clientId, aud: `${config.baseUrl}/oauth2/token`, iat: now, exp: now + 240, jti: randomUUID() },
    key,
    { algorithm: 'RS384', keyid: kid },
  );
  return postToken(config, {
    grant_type: 'client_credentials',
    scope: PARTNERS[partner].scope,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
  });
}

/** A fresh access token for the therapist or a client, signed in with their demo password. */
export async function personToken(config: ToolConfig, state: DemoState, who: Person): Promise<TokenResponse> {
  const { username, password } = state.people[who];
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: state.appClientId,
    redirect_uri: APP_REDIRECT_URI,
    scope: who === 'therapist' ? THERAPIST_SCOPE : CLIENT_SCOPE,
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    aud: config.fhirBaseUrl,
  });
  const page = await fetch(`${config.baseUrl}/oauth2/authorize?${query}`, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) {
    throw new ApiError(page.status, `The sign-in page answered ${page.status}`);
  }
  const cookies = page.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
  const form = new URLSearchParams([...hiddenFields(html), ['username', username], ['password', password]]);
  const signIn = await fetch(`${config.baseUrl}/oauth2/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: config.baseUrl, ...(cookies && { Cookie: cookies }) },
    body: form,
  });
  const location = signIn.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (signIn.status !== 302 || !code) {
    throw new ApiError(signIn.status, `Signing in as ${username} failed (${signIn.status}): run \`npm run demo\` again to reset the demo sign-ins`);
  }
  return postToken(config, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: APP_REDIRECT_URI,
    client_id: state.appClientId,
  });
}

async function postToken(config: ToolConfig, fields: Record<string, string>): Promise<TokenResponse> {
  const response = await fetch(`${config.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const body = (await response.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!response.ok) {
    throw new ApiError(response.status, `The token endpoint answered ${response.status}: ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  }
  return body;
}

/** The hidden fields of the sign-in form, decoded. */
function hiddenFields(html: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const input of html.match(/<input\b[^>]*>/g) ?? []) {
    if (!/\btype="hidden"/.test(input)) {
      continue;
    }
    const name = /\bname="([^"]*)"/.exec(input)?.[1];
    const value = /\bvalue="([^"]*)"/.exec(input)?.[1] ?? '';
    if (name !== undefined) {
      fields.push([decodeHtml(name), decodeHtml(value)]);
    }
  }
  return fields;
}

function decodeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    switch (entity.toLowerCase()) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(entity[1]?.toLowerCase() === 'x' ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
    }
  });
}
