/**
 * The `_page` token of search and history paging: opaque to clients, `<payload>.<mac>` where the payload is base64url of
 * `{v:2, s, o, c, t}` (`s` the Postgres snapshot, `pg_current_snapshot()`, the first page was read under, `o` the
 * offset, `c` the page size, `t` when the first page was read, in Unix seconds) and the mac is HMAC-SHA256 over the
 * payload and what the token is bound to: the search (resource type, or history scope), its parameters, and the caller.
 *
 * Later pages evaluate visibility "as of" that snapshot, so pages never overlap or skip whatever is written between
 * fetches. Because a snapshot shows what has since been deleted or changed, only the server may choose one: a token
 * the server did not sign for this caller and this search is a 400, and one older than {@link PAGE_TOKEN_LIFETIME_SECONDS}
 * is a 410 ("run the search again"). Tokens are parsed strictly: anything unexpected is a 400, never a database error.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** What a token is bound to: the key that signs it, the caller, and the search it pages. */
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
const TOKEN_PATTERN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;

/** Encodes and signs a page token for `binding`. */
export function encodePageToken(token: PageToken, binding: PageTokenBinding): string {
  const payload = Buffer.from(
    JSON.stringify({ v: 2, s: token.snapshot, o: token.offset, c: token.count, t: token.issuedAt }),
    'utf8',
  ).toString('base64url');
  return `${payload}.${mac(payload, binding).toString('base64url')}`;
}

/**
 * Checks and decodes a `_page` value: 400 for anything but a token this server signed for `binding`, 410 when its
 * snapshot is older than {@link PAGE_TOKEN_LIFETIME_SECONDS} at `now`.
 */
export function decodePageToken(text: string, binding: PageTokenBinding, now: Date): PageToken {
  const match = text.length <= MAX_TOKEN_LENGTH ? TOKEN_PATTERN.exec(text) : null;
  if (!match) {
    throw invalidToken();
  }
  const [, payload = '', signature = ''] = match;
  const expected = mac(payload, binding);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalidToken();
  }
  const token = parsePayload(payload);
  const age = Math.floor(now.getTime() / 1000) - token.issuedAt;
  if (age < -CLOCK_SKEW_SECONDS) {
    throw invalidToken();
  }
  if (age > PAGE_TOKEN_LIFETIME_SECONDS) {
    throw new OperationOutcomeError(expiredPage());
  }
  return token;
}

function parsePayload(payload: string): PageToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidToken();
  }
  const { v, s, o, c, t, ...rest } = parsed as Record<string, unknown>;
  if (
    Object.keys(rest).length > 0 ||
    v !== 2 ||
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

/** HMAC-SHA256 over the payload and the binding; parameters in a canonical order, so equal searches sign alike. */
function mac(payload: string, binding: PageTokenBinding): Buffer {
  const params = [...binding.params]
    .filter(([name]) => name !== '_page')
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1));
  return createHmac('sha256', binding.key)
    .update(JSON.stringify([payload, binding.scope, binding.principal, params]))
    .digest();
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** The rules Postgres's pg_snapshot input enforces, checked so even a signed token can never be a SQL error. */
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
