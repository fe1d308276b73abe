/**
 * The `_page` token of search and history paging: opaque to clients, and sealed so that it says nothing either. It
 * carries `{v:3, s, o, c, t}` (`s` the Postgres snapshot, `pg_current_snapshot()`, the first page was read under, `o`
 * the offset, `c` the page size, `t` when the first page was read, in Unix seconds), encrypted and authenticated with
 * AES-256-GCM: `base64url(salt | ciphertext | tag)`. Each token has a random 16-byte salt from which HKDF-SHA256 derives
 * its own key and IV out of the server's page-token key (so no IV is ever reused under one key, however many tokens a
 * deployment mints), and the additional data is what the token is bound to: the search (resource type, or history
 * scope), its parameters, and the caller. The snapshot is a database-wide transaction counter: in clear (as it was in
 * v2 tokens) it told every caller how much the whole server had written between two searches.
 *
 * Later pages evaluate visibility "as of" that snapshot, so pages never overlap or skip whatever is written between
 * fetches. Because a snapshot shows what has since been deleted or changed, only the server may choose one: a token
 * the server did not seal for this caller and this search is a 400, and one older than {@link PAGE_TOKEN_LIFETIME_SECONDS}
 * is a 410 ("run the search again"). Tokens are parsed strictly: anything unexpected is a 400, never a database error.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { badRequest, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';

export interface PageToken {
  /** pg_snapshot text: `xmin:xmax:xip,...`. */
  snapshot: string;
  offset: number;
  count: number;
  /** When the first page was read (Unix seconds). */
  issuedAt: number;
}

/** What a token is bound to: the key that seals it, the caller, and the search it pages. */
export interface PageTokenBinding {
  key: Uint8Array;
  /** Identifies the caller (and anything else its visibility depends on, such as the purpose of use). */
  principal: string;
  /** `search:Patient`, `history:Patient/123` ... */
  scope: string;
  /** The search parameters; `_page` itself is left out. */
  params: URLSearchParams;
}

/** How long the snapshot of a first page may be paged through: an hour, ample for a client walking its pages. */
export const PAGE_TOKEN_LIFETIME_SECONDS = 60 * 60;
/** Clock differences between replicas tolerated for `t` in the future. */
const CLOCK_SKEW_SECONDS = 5 * 60;

/**
 * A key for processes not given one (tests, a single development process). Deployments pass the key derived from
 * configuration, so that every replica accepts the tokens of every other.
 */
export const PROCESS_PAGE_TOKEN_KEY: Uint8Array = randomBytes(32);

const MAX_TOKEN_LENGTH = 2048;
const MAX_OFFSET = 10_000_000;
const MAX_COUNT = 1000;
const SNAPSHOT_PATTERN = /^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?$/;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;
const SALT_BYTES = 16;
const TAG_BYTES = 16;
/** HKDF's `info`: keys for page tokens only, whatever else the same secret keys. */
const KEY_INFO = 'carecircle page-token v3 aes-256-gcm';

/** Encodes and seals a page token for `binding`. */
export function encodePageToken(token: PageToken, binding: PageTokenBinding): string {
  const plaintext = Buffer.from(JSON.stringify({ v: 3, s: token.snapshot, o: token.offset, c: token.count, t: token.issuedAt }), 'utf8');
  const salt = randomBytes(SALT_BYTES);
  const { key, iv } = tokenKey(binding.key, salt);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(boundData(binding));
  const sealed = Buffer.concat([salt, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return sealed.toString('base64url');
}

/**
 * Checks and decodes a `_page` value: 400 for anything but a token this server sealed for `binding`, 410 when its
 * snapshot is older than {@link PAGE_TOKEN_LIFETIME_SECONDS} at `now`.
 */
export function decodePageToken(text: string, binding: PageTokenBinding, now: Date): PageToken {
  if (text.length > MAX_TOKEN_LENGTH || !TOKEN_PATTERN.test(text)) {
    throw invalidToken();
  }
  const sealed = Buffer.from(text, 'base64url');
  if (sealed.length <= SALT_BYTES + TAG_BYTES) {
    throw invalidToken();
  }
  const { key, iv } = tokenKey(binding.key, sealed.subarray(0, SALT_BYTES));
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(boundData(binding));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    plaintext = Buffer.concat([decipher.update(sealed.subarray(SALT_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    // Altered, sealed for another search, caller or key, or never sealed at all: all alike.
    throw invalidToken();
  }
  const token = parsePayload(plaintext);
  const age = Math.floor(now.getTime() / 1000) - token.issuedAt;
  if (age < -CLOCK_SKEW_SECONDS) {
    throw invalidToken();
  }
  if (age > PAGE_TOKEN_LIFETIME_SECONDS) {
    throw new OperationOutcomeError(expiredPage());
  }
  return token;
}

/** This token's own AES key and IV, from the server's key and the token's salt. */
function tokenKey(serverKey: Uint8Array, salt: Uint8Array): { key: Buffer; iv: Buffer } {
  const derived = Buffer.from(hkdfSync('sha256', serverKey, salt, KEY_INFO, 32 + 12));
  return { key: derived.subarray(0, 32), iv: derived.subarray(32) };
}

/** What the token is bound to, authenticated with it; parameters in a canonical order, so equal searches bind alike. */
function boundData(binding: PageTokenBinding): Buffer {
  const params = [...binding.params]
    .filter(([name]) => name !== '_page')
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1));
  return Buffer.from(JSON.stringify([binding.scope, binding.principal, params]), 'utf8');
}

function parsePayload(plaintext: Buffer): PageToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidToken();
  }
  const { v, s, o, c, t, ...rest } = parsed as Record<string, unknown>;
  if (
    Object.keys(rest).length > 0 ||
    v !== 3 ||
    typeof s !== 'string' ||
    !isValidSnapshot(s) ||
    !isIntegerIn(o, 0, MAX_OFFSET) ||
    !isIntegerIn(c, 1, MAX_COUNT) ||
    !isIntegerIn(t, 0, Number.MAX_SAFE_INTEGER)
  ) {
    throw invalidToken();
  }
  return { snapshot: s, offset: o, count: c, issuedAt: t };
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** The rules Postgres's pg_snapshot input enforces, checked so even a sealed token can never be a SQL error. */
function isValidSnapshot(text: string): boolean {
  if (!SNAPSHOT_PATTERN.test(text)) {
    return false;
  }
  const [xminText, xmaxText, xipText] = text.split(':') as [string, string, string];
  const xmin = BigInt(xminText);
  const xmax = BigInt(xmaxText);
  const limit = 2n ** 63n;
  if (xmin < 1n || xmax < 1n || xmin > xmax || xmax >= limit) {
    return false;
  }
  let previous = 0n;
  for (const part of xipText === '' ? [] : xipText.split(',')) {
    const xid = BigInt(part);
    if (xid < xmin || xid >= xmax || xid < previous) {
      return false;
    }
    previous = xid;
  }
  return true;
}

function invalidToken(): OperationOutcomeError {
  return new OperationOutcomeError(badRequest('Invalid _page token: use the links of a search you ran', '_page'));
}

function expiredPage(): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    id: 'gone',
    issue: [
      {
        severity: 'error',
        code: 'expired',
        details: { text: 'This page has expired: run the search again' },
        expression: ['_page'],
      },
    ],
  };
}
