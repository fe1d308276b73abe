/**
 * The `_page` token of search and history paging: opaque to clients, base64url of `{v:1, s, o, c}` where `s` is the
 * Postgres snapshot (`pg_current_snapshot()`) the first page was read under, `o` the offset and `c` the page size.
 * Later pages evaluate visibility "as of" that snapshot, so pages never overlap or skip whatever is written between
 * fetches. Tokens are parsed strictly: anything unexpected is a 400, never a database error.
 */
import { badRequest, OperationOutcomeError } from '@medplum/core';

export interface PageToken {
  /** pg_snapshot text: `xmin:xmax:xip,...`. */
  snapshot: string;
  offset: number;
  count: number;
}

const MAX_TOKEN_LENGTH = 2048;
const MAX_OFFSET = 10_000_000;
const MAX_COUNT = 1000;
const SNAPSHOT_PATTERN = /^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Encodes a page token. */
export function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify({ v: 1, s: token.snapshot, o: token.offset, c: token.count }), 'utf8').toString('base64url');
}

/** Decodes and checks a `_page` value; throws a 400 OperationOutcomeError for anything but a token we issued. */
export function decodePageToken(text: string): PageToken {
  if (text.length === 0 || text.length > MAX_TOKEN_LENGTH || !BASE64URL_PATTERN.test(text)) {
    throw invalidToken();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidToken();
  }
  const { v, s, o, c, ...rest } = parsed as Record<string, unknown>;
  if (
    Object.keys(rest).length > 0 ||
    v !== 1 ||
    typeof s !== 'string' ||
    !isValidSnapshot(s) ||
    !isIntegerIn(o, 0, MAX_OFFSET) ||
    !isIntegerIn(c, 1, MAX_COUNT)
  ) {
    throw invalidToken();
  }
  return { snapshot: s, offset: o, count: c };
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** The rules Postgres's pg_snapshot input enforces, checked here so a forged token is a 400 and not a SQL error. */
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
  return new OperationOutcomeError(badRequest('Invalid _page token', '_page'));
}
