/**
 * The one place errors become HTTP responses. OperationOutcomeErrors keep their status (statusOf); body-parser's
 * errors become the matching 4xx; any other error that carries a 4xx `status` (Express's path decoding, body
 * decompression, http-errors) answers that status; text the database refused as unstorable is a 400; a lost or refused
 * database connection is a 503 (issue transient); anything else is logged with the request id and answered with a
 * generic 500 that reveals nothing. Every 503 carries `Retry-After`. Messages never echo request content.
 * Batch entries use {@link errorToOutcome} too, so an entry fails exactly as the same request alone would.
 */
import { BearerAuthenticationError } from '@carecircle/auth';
import type { Logger } from '@carecircle/log';
import { databaseUnavailable, isOperationOutcome, OperationOutcomeError, statusOf, VersionMismatchError } from '@carecircle/fhir';
import { isConnectionLoss } from '@carecircle/store';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { NextFunction, Request, Response } from 'express';
import { getRequestId } from './request-id';
import { sendOperationOutcome } from './fhir-response';
import { INVALID_UTF8 } from './strict-text';

interface MappedError {
  status: number;
  body: OperationOutcome;
  /** True for a server fault (500): log it with the request id. */
  unexpected: boolean;
  /** The current version's ETag, for a 412 of a stale If-Match (the response's `ETag`, a batch entry's `etag`). */
  etag?: string;
}

const BODY_PARSER_OUTCOMES: Record<string, { status: number; code: OperationOutcomeIssue['code']; text: string }> = {
  'entity.parse.failed': { status: 400, code: 'structure', text: 'Malformed JSON body' },
  'entity.too.large': { status: 413, code: 'too-costly', text: 'Request body too large' },
  'encoding.unsupported': { status: 415, code: 'not-supported', text: 'Unsupported content encoding' },
  'charset.unsupported': { status: 415, code: 'not-supported', text: 'Unsupported charset' },
  'request.aborted': { status: 400, code: 'incomplete', text: 'Request aborted' },
  'request.size.invalid': { status: 400, code: 'structure', text: 'Request size did not match Content-Length' },
  'parameters.too.many': { status: 413, code: 'too-costly', text: 'Too many parameters' },
  // strict-text.ts: text that is not UTF-8 is refused rather than read with U+FFFD in place of what was sent.
  [INVALID_UTF8]: { status: 400, code: 'invalid', text: 'Request text must be valid UTF-8' },
};

/** Generic answers for other client errors, by status; never the error's own message, which may quote the request. */
const CLIENT_ERROR_OUTCOMES: Record<number, { code: OperationOutcomeIssue['code']; text: string }> = {
  400: { code: 'invalid', text: 'Invalid request (malformed URL encoding, or a body that does not match its Content-Encoding)' },
  404: { code: 'not-found', text: 'Not found' },
  405: { code: 'not-supported', text: 'Method not allowed' },
  406: { code: 'not-supported', text: 'Not acceptable' },
  408: { code: 'timeout', text: 'Request timeout' },
  413: { code: 'too-costly', text: 'Request too large' },
  414: { code: 'too-costly', text: 'URL too long' },
  415: { code: 'not-supported', text: 'Unsupported media type or content encoding' },
  431: { code: 'too-costly', text: 'Request headers too large' },
};

// PostgreSQL: character_not_in_repertoire (NUL in text) and untranslatable_character (NUL or a bad escape in jsonb).
const UNSTORABLE_TEXT_SQLSTATES: ReadonlySet<string> = new Set(['22021', '22P05']);

/**
 * The `Retry-After` of every 503 (a lost database connection, a statement timeout): a lost connection is replaced on
 * the next request, and a restarting or failing-over PostgreSQL is usually back within seconds.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** The realm of every bearer challenge. */
const REALM = 'CareCircle';

/** Express error middleware factory (mounted last). */
export function errorHandler(logger: Logger) {
  return function handleError(err: unknown, _req: Request, res: Response, next: NextFunction): void {
    if (res.headersSent) {
      next(err);
      return;
    }
    const outcome = errorToOutcome(err);
    if (outcome.unexpected) {
      logUnexpectedError(logger, getRequestId(res), err);
    }
    if (outcome.status === 401) {
      // RFC 6750 section 3: a refused bearer token says error="invalid_token"; a request without one names no error.
      res.setHeader('WWW-Authenticate', err instanceof BearerAuthenticationError ? err.challenge(REALM) : `Bearer realm="${REALM}"`);
    }
    if (outcome.status === 503) {
      res.setHeader('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    }
    if (outcome.etag) {
      res.setHeader('ETag', outcome.etag);
    }
    sendOperationOutcome(res, outcome.status, outcome.body);
  };
}

/** The status and OperationOutcome any thrown value answers with. */
export function errorToOutcome(err: unknown): MappedError {
  if (err instanceof VersionMismatchError && err.currentVersionId !== undefined) {
    return { status: statusOf(err.outcome), body: err.outcome, unexpected: false, etag: `W/"${err.currentVersionId}"` };
  }
  if (err instanceof OperationOutcomeError) {
    const status = statusOf(err.outcome);
    return { status, body: err.outcome, unexpected: status >= 500 };
  }
  if (isOperationOutcome(err)) {
    const status = statusOf(err);
    return { status, body: err, unexpected: status >= 500 };
  }
  const type = propertyOf(err, 'type');
  const bodyParserOutcome = typeof type === 'string' ? BODY_PARSER_OUTCOMES[type] : undefined;
  if (bodyParserOutcome) {
    return { status: bodyParserOutcome.status, body: issue(bodyParserOutcome.code, bodyParserOutcome.text), unexpected: false };
  }
  const status = clientErrorStatus(err);
  if (status !== undefined) {
    const generic = CLIENT_ERROR_OUTCOMES[status] ?? { code: 'invalid', text: 'Invalid request' };
    return { status, body: issue(generic.code, generic.text), unexpected: false };
  }
  const sqlState = propertyOf(err, 'code');
  if (typeof sqlState === 'string' && UNSTORABLE_TEXT_SQLSTATES.has(sqlState)) {
    return { status: 400, body: issue('invalid', 'Text may not contain NUL or unpaired surrogate characters'), unexpected: false };
  }
  // The store converts what it sees; this catches a lost connection that reached here another way. Logged: an operator
  // wants to know the database went away.
  if (isConnectionLoss(err)) {
    return { status: 503, body: databaseUnavailable(), unexpected: true };
  }
  return { status: 500, body: issue('exception', 'Internal server error'), unexpected: true };
}

/** Logs an unexpected error with the request id: class and stack only, since messages can quote data. */
export function logUnexpectedError(logger: Logger, requestId: string, err: unknown, context: Record<string, unknown> = {}): void {
  logger.error({ requestId, ...context, err: describeError(err) }, 'unhandled error');
}

/** A 4xx from `status` or `statusCode` (http-errors, Express, body-parser without a known `type`), else undefined. */
function clientErrorStatus(err: unknown): number | undefined {
  for (const name of ['status', 'statusCode']) {
    const value = propertyOf(err, name);
    if (typeof value === 'number' && Number.isInteger(value) && value >= 400 && value < 500) {
      return value;
    }
  }
  return undefined;
}

function propertyOf(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

function issue(code: OperationOutcomeIssue['code'], text: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, details: { text } }],
  };
}

function describeError(err: unknown): Record<string, string | undefined> {
  if (err instanceof Error) {
    return { name: err.name, stack: err.stack?.split('\n').slice(1, 8).join('\n') };
  }
  return { name: typeof err };
}
