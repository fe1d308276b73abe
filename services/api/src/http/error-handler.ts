/**
 * The one place errors become HTTP responses. OperationOutcomeErrors keep their status (getStatus); body-parser's
 * errors become the matching 4xx; anything else is logged with the request id and answered with a generic 500 that
 * reveals nothing. Messages never echo request content.
 */
import type { Logger } from '@carecircle/log';
import { badRequest, isOperationOutcome, OperationOutcomeError, outcomeStatus } from '@carecircle/fhir';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { NextFunction, Request, Response } from 'express';
import { getRequestId } from './request-id';
import { sendOperationOutcome } from './fhir-response';

/** Errors raised by body-parser carry a `type` and a `status`. */
interface BodyParserError {
  type: string;
  status?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string';
}

const BODY_PARSER_OUTCOMES: Record<string, { status: number; code: string; text: string }> = {
  'entity.parse.failed': { status: 400, code: 'structure', text: 'Malformed JSON body' },
  'entity.too.large': { status: 413, code: 'too-costly', text: 'Request body too large' },
  'encoding.unsupported': { status: 415, code: 'not-supported', text: 'Unsupported content encoding' },
  'charset.unsupported': { status: 415, code: 'not-supported', text: 'Unsupported charset' },
  'request.aborted': { status: 400, code: 'incomplete', text: 'Request aborted' },
  'request.size.invalid': { status: 400, code: 'structure', text: 'Request size did not match Content-Length' },
  'parameters.too.many': { status: 413, code: 'too-costly', text: 'Too many parameters' },
  'stream.encoding.set': { status: 500, code: 'exception', text: 'Internal server error' },
};

/** Express error middleware factory (mounted last). */
export function errorHandler(logger: Logger) {
  return function handleError(err: unknown, _req: Request, res: Response, next: NextFunction): void {
    if (res.headersSent) {
      next(err);
      return;
    }
    const outcome = toOutcome(err);
    if (outcome.status >= 500) {
      logger.error({ requestId: getRequestId(res), err: describeError(err) }, 'unhandled error');
    }
    if (outcome.status === 401) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="CareCircle"');
    }
    sendOperationOutcome(res, outcome.status, outcome.body);
  };
}

function toOutcome(err: unknown): { status: number; body: OperationOutcome } {
  if (err instanceof OperationOutcomeError) {
    return { status: outcomeStatus(err.outcome), body: err.outcome };
  }
  if (isBodyParserError(err)) {
    const mapped = BODY_PARSER_OUTCOMES[err.type];
    if (mapped) {
      return { status: mapped.status, body: issue(mapped.code, mapped.text) };
    }
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      return { status: err.status, body: badRequest('Invalid request') };
    }
  }
  if (isOperationOutcome(err)) {
    return { status: outcomeStatus(err), body: err };
  }
  return { status: 500, body: issue('exception', 'Internal server error') };
}

function issue(code: string, text: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: code as 'exception', details: { text } }],
  };
}

/** Error class and stack only: messages can quote data. */
function describeError(err: unknown): Record<string, string | undefined> {
  if (err instanceof Error) {
    return { name: err.name, stack: err.stack?.split('\n').slice(1, 8).join('\n') };
  }
  return { name: typeof err };
}
