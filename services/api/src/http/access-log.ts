/**
 * One structured log line per request: request id, method, route shape, status and timing. Never the query string
 * (search values can be PHI), never bodies, never credentials, never ids (clients choose some, `Patient/JaneDoe`).
 */
import { describeCaller, type Caller } from '@carecircle/auth';
import { CONFORMANCE_RESOURCE_TYPES, SUPPORTED_RESOURCE_TYPES } from '@carecircle/fhir';
import { requestLineWriter, type Logger } from '@carecircle/log';
import type { NextFunction, Request, Response } from 'express';
import { KNOWN_OPERATIONS } from '../fhir/capability-statement';
import { getRequestId } from './request-id';

/** Resource types served under /fhir/R4, which the log may name. */
const KNOWN_TYPES: ReadonlySet<string> = new Set<string>([...SUPPORTED_RESOURCE_TYPES, ...CONFORMANCE_RESOURCE_TYPES, 'SubscriptionTopic']);

/** The fixed words of our routes outside the FHIR API (OAuth, admin, health, metrics, discovery). */
const ROUTE_WORDS: ReadonlySet<string> = new Set([
  'fhir', 'R4', 'oauth2', 'authorize', 'token', 'admin', 'clients', 'users', 'disable', 'signing-keys', 'rotate',
  'healthz', 'readyz', 'dependencies', 'metrics', '.well-known', 'jwks.json', 'smart-configuration', 'metadata',
]);

/** Middleware factory writing the access log line when the response finishes. */
export function accessLog(logger: Logger) {
  const writeLine = requestLineWriter(logger);
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      writeLine({
        requestId: getRequestId(res),
        method: req.method,
        path: redactPath(req.originalUrl.split('?')[0] ?? ''),
        interaction: redactInteraction(res.locals.interaction),
        status: res.statusCode,
        ...(res.locals.caller ? describeCaller(res.locals.caller as Caller) : {}),
        ms: Math.round(ms * 10) / 10,
      });
    });
    next();
  };
}

/**
 * The path with ids replaced by `:id`, so the log shows the route without identifying anyone. Under /fhir/R4 by
 * position: `[type]/[id]/_history/[vid]`, `[type]/[id]/$[operation]`, `[type]/_search|_history`; a type or operation
 * is kept only when it is one we serve, and an id is always replaced, whatever it looks like. Elsewhere only our fixed
 * route words stay.
 */
export function redactPath(path: string): string {
  const segments = path.split('/');
  if (segments[1] === 'fhir' && segments[2] === 'R4') {
    return ['', 'fhir', 'R4', ...redactFhirSegments(segments.slice(3))].join('/');
  }
  return segments.map((segment) => (segment === '' || ROUTE_WORDS.has(segment) ? segment : ':id')).join('/');
}

function redactFhirSegments(segments: string[]): string[] {
  const [type, second, third, ...rest] = segments;
  const result: string[] = [];
  if (type === undefined) {
    return result;
  }
  result.push(type === '' || KNOWN_TYPES.has(type) || ROUTE_WORDS.has(type) || type === '_history' ? type : ':id');
  if (second !== undefined) {
    result.push(second === '' || second === '_history' || second === '_search' || ROUTE_WORDS.has(second) ? second : ':id');
  }
  if (third !== undefined) {
    result.push(third === '' || third === '_history' || isKnownOperation(third) ? third : ':id');
  }
  return [...result, ...rest.map((segment) => (segment === '' ? segment : ':id'))];
}

/** `GET Patient` stays; a type we do not serve (`GET JaneDoe`, taken from the URL) does not. */
function redactInteraction(interaction: unknown): string | undefined {
  if (typeof interaction !== 'string') {
    return undefined;
  }
  const [method = '', type] = interaction.split(' ', 2);
  return type === undefined || type === '' || KNOWN_TYPES.has(type) || type === '_history' ? interaction : `${method} :id`;
}

function isKnownOperation(segment: string): boolean {
  return segment.startsWith('$') && KNOWN_OPERATIONS.has(segment.slice(1));
}
