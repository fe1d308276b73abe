/**
 * Request ids: every request gets one (a caller-supplied `X-Request-Id` is kept when it looks like an id), echoed in
 * the response and carried by every log line of the request, and by the outbox events its writes append, so the
 * worker's lines for relaying, matching and delivering them name it too.
 */
import { randomUUID } from 'node:crypto';
import { withOriginRequestId } from '@carecircle/store';
import type { NextFunction, Request, Response } from 'express';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Middleware factory: sets `res.locals.requestId` and the `X-Request-Id` response header, and runs the rest of the
 * request as the origin of the writes it makes.
 */
export function requestId() {
  return function assignRequestId(req: Request, res: Response, next: NextFunction): void {
    const offered = req.get('x-request-id');
    const id = offered && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    withOriginRequestId(id, next);
  };
}

/** The id assigned by {@link requestId} (or a placeholder before it ran). */
export function getRequestId(res: Response): string {
  return typeof res.locals.requestId === 'string' ? res.locals.requestId : 'unknown';
}
