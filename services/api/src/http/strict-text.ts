/**
 * Request text exactly as the client sent it, or a 4xx. body-parser and Node's query-string decoding replace bytes that
 * are not UTF-8 with U+FFFD (or keep a bad `%XX` escape as literal text), so a value would be stored or compared other
 * than it was sent; these checks refuse such input instead. Bodies are also refused in a Content-Encoding the contract
 * does not name (Node 24's body-parser would otherwise accept zstd). Errors carry a `type`, as body-parser's own do,
 * and error-handler.ts maps them: every route answers them in its own format.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/** `type` of the error for text that is not UTF-8 (body, form field or query parameter). */
export const INVALID_UTF8 = 'entity.utf8.invalid';
/** `type` body-parser gives an encoding it does not decode; ours for those it would but the contract does not name. */
export const UNSUPPORTED_ENCODING = 'encoding.unsupported';

/** The Content-Encodings a request body may have (the contract: gzip, deflate or br; none at all). */
export const SUPPORTED_CONTENT_ENCODINGS: readonly string[] = ['identity', 'gzip', 'deflate', 'br'];

/** A request whose text is not UTF-8 (400). */
export class InvalidUtf8Error extends Error {
  override readonly name = 'InvalidUtf8Error';
  readonly status = 400;
  readonly statusCode = 400;
  readonly type = INVALID_UTF8;
  constructor(where: 'body' | 'query') {
    super(`The request ${where} is not valid UTF-8`);
  }
}

/** A Content-Encoding outside {@link SUPPORTED_CONTENT_ENCODINGS} (415). */
export class UnsupportedEncodingError extends Error {
  override readonly name = 'UnsupportedEncodingError';
  readonly status = 415;
  readonly statusCode = 415;
  readonly type = UNSUPPORTED_ENCODING;
  constructor() {
    super('Unsupported content encoding');
  }
}

/** body-parser `verify` for JSON and text bodies: the (decompressed) bytes must be UTF-8 when the charset says so. */
export function verifyUtf8Body(_req: IncomingMessage, _res: unknown, body: Buffer, charset: string | null): void {
  if ((charset === null || /^utf-?8$/i.test(charset)) && !isUtf8(body)) {
    throw new InvalidUtf8Error('body');
  }
}

/** body-parser `verify` for form bodies: the bytes, with every `%XX` escape decoded, must be UTF-8. */
export function verifyUtf8Form(_req: IncomingMessage, _res: unknown, body: Buffer): void {
  if (!isUtf8(decodePercentEscapes(body))) {
    throw new InvalidUtf8Error('body');
  }
}

/** True when the raw query of `url` (a request target) decodes to UTF-8 text. */
export function hasUtf8Query(url: string): boolean {
  const start = url.indexOf('?');
  // Node keeps the request target's bytes as latin1 characters: each turns back into its own byte.
  return start < 0 || isUtf8(decodePercentEscapes(Buffer.from(url.slice(start + 1), 'latin1')));
}

/**
 * True when a query held as text (a Bundle entry's `request.url` query, `ifNoneExist`, a conditional reference, an
 * `If-None-Exist` header) decodes to UTF-8 once its `%XX` escapes are decoded, as {@link hasUtf8Query} asks of the
 * request's own query. Header values come as latin1 characters; their non-ASCII bytes were never UTF-8 text to us.
 */
export function isUtf8QueryText(query: string): boolean {
  return isUtf8(decodePercentEscapes(Buffer.from(query, 'utf8')));
}

/** `raw` with each `%XX` escape replaced by its byte; a `%` not followed by two hex digits stays as it is. */
function decodePercentEscapes(raw: Buffer): Buffer {
  const out = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] as number;
    const high = byte === 0x25 ? hexValue(raw[i + 1]) : -1;
    const low = high >= 0 ? hexValue(raw[i + 2]) : -1;
    if (low >= 0) {
      out[length++] = high * 16 + low;
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) {
    return -1;
  }
  if (byte >= 0x30 && byte <= 0x39) {
    return byte - 0x30;
  }
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** Middleware: a query string that is not UTF-8 once percent-decoded is a 400 ({@link INVALID_UTF8}). */
export function requireUtf8Query(req: Request, _res: Response, next: NextFunction): void {
  next(hasUtf8Query(req.originalUrl) ? undefined : new InvalidUtf8Error('query'));
}

/** Middleware: a body in a Content-Encoding outside {@link SUPPORTED_CONTENT_ENCODINGS} is a 415. */
export function requireSupportedContentEncoding(req: Request, _res: Response, next: NextFunction): void {
  // As body-parser decides whether there is a body to read (type-is `hasBody`).
  const hasBody = req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
  const encoding = (req.get('content-encoding') || 'identity').trim().toLowerCase();
  next(!hasBody || SUPPORTED_CONTENT_ENCODINGS.includes(encoding) ? undefined : new UnsupportedEncodingError());
}
