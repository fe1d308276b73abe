/**
 * One structured log line per request: request id, method, route shape, status and timing. Never the query string
 * (search values can be PHI), never bodies, never credentials.
 */
import { describeCaller, type Caller } from '@carecircle/auth';
import type { Logger } from '@carecircle/log';
import type { NextFunction, Request, Response } from 'express';
import { getRequestId } from './request-id';

/** Middleware factory writing the access log line when the response finishes. */
export function accessLog(logger: Logger) {
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          requestId: getRequestId(res),
          method: req.method,
          path: redactPath(req.path),
          interaction: res.locals.interaction as string | undefined,
          status: res.statusCode,
          ...(res.locals.caller ? describeCaller(res.locals.caller as Caller) : {}),
          ms: Math.round(ms * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}

/**
 * The path with ids replaced by `:id`, so the log shows the route without identifying anyone.
 * Resource types, `_history`, `_search` and `$operations` stay; everything else becomes `:id`.
 */
export function redactPath(path: string): string {
  return path
    .split('/')
    .map((segment, i) => {
      if (i === 0 || segment === '' || /^[A-Z][A-Za-z]+$/.test(segment) || /^[_$.]/.test(segment)) {
        return segment;
      }
      return /^(fhir|R4|oauth2|admin|healthz|readyz|metadata|authorize|token|clients|users|disable|jwks\.json|smart-configuration)$/.test(segment)
        ? segment
        : ':id';
    })
    .join('/');
}
